// When a service is restarted, and after how long: systemd's Restart=, RestartSec= with
// growing steps, and StartLimitBurst= / StartLimitIntervalSec=. Pure logic on given times, so
// that every rule is tested without processes or clocks.
#ifndef SECUREOS_SVCD_RESTART_POLICY_H_
#define SECUREOS_SVCD_RESTART_POLICY_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/time/time.h"
#include "proto/svcd.pb.h"

namespace secureos::svcd {

// How a run of the main process ended, as svcd classifies it.
struct RunEnd {
  bool has_code = false;
  int code = 0;    // With has_code.
  int signal = 0;  // Without has_code; 0 when unknown.
  // The run ended because a stop was asked for (stop, restart, remove, svcd shutdown).
  bool stop_requested = false;
  // Forced endings that are always failures: OOM kill, missed watchdog, ready timeout,
  // a launch that failed.
  bool forced_failure = false;
};

// systemd's notion: exit code 0, or SIGHUP, SIGINT, SIGTERM, SIGPIPE, is clean; a stop that
// was asked for is never a failure; a forced ending always is.
bool IsFailure(const RunEnd& end);

// Whether `policy` restarts after `end` (never after a requested stop).
bool ShouldRestart(v1::RestartPolicy policy, const RunEnd& end);

// The resolved Backoff of a definition.
struct BackoffParams {
  absl::Duration initial = absl::Milliseconds(100);
  double multiplier = 2;
  absl::Duration max = absl::Seconds(30);

  // min(initial * multiplier^(n-1), max) for the n-th consecutive restart (n >= 1).
  absl::Duration DelayFor(uint32_t n) const;
  // A run that stayed up this long starts the consecutive count over.
  absl::Duration ResetAfter() const { return max > absl::Seconds(10) ? max : absl::Seconds(10); }
};

// Defaults filled in; the definition was validated before (multiplier >= 1, max >= initial).
BackoffParams ResolveBackoff(const v1::Backoff& b);

// The start rate limit of one service: at most `burst` starts within `interval`.
class StartLimiter {
 public:
  StartLimiter(uint32_t burst, absl::Duration interval) : burst_(burst), interval_(interval) {}

  // Records a start at `now` and returns true, or returns false (recording nothing) when
  // `burst` starts already happened within (now - interval, now]. Always true when the
  // interval is zero (limit off).
  bool TryStart(absl::Time now);
  // Forgets the history (ResetFailed).
  void Reset() { starts_.clear(); }

  // The starts still inside the window at `now`, oldest first (persisted across restarts).
  const std::deque<absl::Time>& starts() const { return starts_; }
  void Restore(std::deque<absl::Time> starts) { starts_ = std::move(starts); }

 private:
  void Expire(absl::Time now);

  uint32_t burst_;
  absl::Duration interval_;
  std::deque<absl::Time> starts_;
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_RESTART_POLICY_H_
