#include "svcd/restart_policy.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

RunEnd Code(int c) { return RunEnd{true, c, 0, false, false}; }
RunEnd Signal(int s) { return RunEnd{false, 0, s, false, false}; }

TEST(RestartPolicy, CleanEndingsAreExitZeroAndSystemdsFourSignals) {
  EXPECT_FALSE(IsFailure(Code(0)));
  EXPECT_TRUE(IsFailure(Code(1)));
  EXPECT_TRUE(IsFailure(Code(255)));
  for (int s : {SIGHUP, SIGINT, SIGTERM, SIGPIPE}) EXPECT_FALSE(IsFailure(Signal(s))) << s;
  for (int s : {SIGKILL, SIGSEGV, SIGABRT, SIGUSR1}) EXPECT_TRUE(IsFailure(Signal(s))) << s;
}

TEST(RestartPolicy, RequestedStopIsNeverAFailureButForcedEndingsAlwaysAre) {
  RunEnd stopped = Signal(SIGKILL);
  stopped.stop_requested = true;
  EXPECT_FALSE(IsFailure(stopped));
  EXPECT_FALSE(ShouldRestart(v1::RESTART_POLICY_ALWAYS, stopped));
  RunEnd oom = Code(0);
  oom.forced_failure = true;
  EXPECT_TRUE(IsFailure(oom));
  EXPECT_TRUE(ShouldRestart(v1::RESTART_POLICY_ON_FAILURE, oom));
}

TEST(RestartPolicy, OnFailureSkipsCleanExitsAlwaysDoesNot) {
  EXPECT_FALSE(ShouldRestart(v1::RESTART_POLICY_ON_FAILURE, Code(0)));
  EXPECT_TRUE(ShouldRestart(v1::RESTART_POLICY_ON_FAILURE, Code(3)));
  EXPECT_TRUE(ShouldRestart(v1::RESTART_POLICY_ALWAYS, Code(0)));
  EXPECT_TRUE(ShouldRestart(v1::RESTART_POLICY_ALWAYS, Signal(SIGTERM)));
  EXPECT_FALSE(ShouldRestart(v1::RESTART_POLICY_NO, Code(3)));
  EXPECT_FALSE(ShouldRestart(v1::RESTART_POLICY_UNSPECIFIED, Code(3)));
}

TEST(Backoff, GrowsByTheMultiplierUpToTheMaximum) {
  v1::Backoff b;
  b.set_initial_ms(100);
  b.set_multiplier(3);
  b.set_max_ms(2000);
  BackoffParams p = ResolveBackoff(b);
  EXPECT_EQ(p.DelayFor(1), absl::Milliseconds(100));
  EXPECT_EQ(p.DelayFor(2), absl::Milliseconds(300));
  EXPECT_EQ(p.DelayFor(3), absl::Milliseconds(900));
  EXPECT_EQ(p.DelayFor(4), absl::Milliseconds(2000));
  EXPECT_EQ(p.DelayFor(1000), absl::Milliseconds(2000));  // No overflow.
  EXPECT_EQ(p.ResetAfter(), absl::Seconds(10));
}

TEST(Backoff, DefaultsAndZero) {
  BackoffParams d = ResolveBackoff(v1::Backoff());
  EXPECT_EQ(d.DelayFor(1), absl::Milliseconds(100));
  EXPECT_EQ(d.DelayFor(2), absl::Milliseconds(200));
  EXPECT_EQ(d.max, absl::Seconds(30));
  v1::Backoff zero;
  zero.set_initial_ms(0);
  EXPECT_EQ(ResolveBackoff(zero).DelayFor(1), absl::ZeroDuration());
  EXPECT_EQ(ResolveBackoff(zero).DelayFor(7), absl::ZeroDuration());
}

TEST(StartLimiter, BurstWithinIntervalThenRefusedUntilTheWindowPasses) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  StartLimiter limit(3, absl::Seconds(10));
  EXPECT_TRUE(limit.TryStart(t0));
  EXPECT_TRUE(limit.TryStart(t0 + absl::Seconds(1)));
  EXPECT_TRUE(limit.TryStart(t0 + absl::Seconds(2)));
  EXPECT_FALSE(limit.TryStart(t0 + absl::Seconds(3)));
  EXPECT_FALSE(limit.TryStart(t0 + absl::Seconds(9)));
  // The first start leaves the window at t0 + 10 s.
  EXPECT_TRUE(limit.TryStart(t0 + absl::Seconds(10)));
  EXPECT_FALSE(limit.TryStart(t0 + absl::Seconds(10)));
  limit.Reset();
  EXPECT_TRUE(limit.TryStart(t0 + absl::Seconds(10)));
}

TEST(StartLimiter, ZeroIntervalIsOff) {
  StartLimiter limit(1, absl::ZeroDuration());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limit.TryStart(absl::FromUnixSeconds(1)));
}

}  // namespace
}  // namespace secureos::svcd
