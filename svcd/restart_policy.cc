#include "svcd/restart_policy.h"

#include <signal.h>

#include <cmath>

namespace secureos::svcd {

bool IsFailure(const RunEnd& end) {
  if (end.forced_failure) return true;
  if (end.stop_requested) return false;
  if (end.has_code) return end.code != 0;
  switch (end.signal) {
    case SIGHUP:
    case SIGINT:
    case SIGTERM:
    case SIGPIPE:
      return false;
    default:
      return true;
  }
}

bool ShouldRestart(v1::RestartPolicy policy, const RunEnd& end) {
  if (end.stop_requested && !end.forced_failure) return false;
  switch (policy) {
    case v1::RESTART_POLICY_ALWAYS:
      return true;
    case v1::RESTART_POLICY_ON_FAILURE:
      return IsFailure(end);
    default:
      return false;
  }
}

absl::Duration BackoffParams::DelayFor(uint32_t n) const {
  if (n <= 1 || initial == absl::ZeroDuration()) return std::min(initial, max);
  // Computed in double milliseconds: multiplier^(n-1) overflows an integer fast.
  const double ms = absl::ToDoubleMilliseconds(initial) * std::pow(multiplier, n - 1);
  const double max_ms = absl::ToDoubleMilliseconds(max);
  return absl::Milliseconds(std::isfinite(ms) && ms < max_ms ? ms : max_ms);
}

BackoffParams ResolveBackoff(const v1::Backoff& b) {
  BackoffParams p;
  if (b.has_initial_ms()) p.initial = absl::Milliseconds(b.initial_ms());
  if (b.has_multiplier()) p.multiplier = b.multiplier();
  if (b.has_max_ms()) p.max = absl::Milliseconds(b.max_ms());
  if (p.max < p.initial) p.max = p.initial;
  return p;
}

void StartLimiter::Expire(absl::Time now) {
  while (!starts_.empty() && starts_.front() <= now - interval_) starts_.pop_front();
}

bool StartLimiter::TryStart(absl::Time now) {
  if (interval_ == absl::ZeroDuration()) return true;
  Expire(now);
  if (starts_.size() >= burst_) return false;
  starts_.push_back(now);
  return true;
}

}  // namespace secureos::svcd
