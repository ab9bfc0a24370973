// The alerts monitord keeps: the newest `capacity` ones, for violation tracking (counts and
// history per principal, rule, severity and time range) and for Watch readers, who wait for
// the next ones. An alert's principal is its event's; its time is its event's.
//
// Thread-safe.
#ifndef SECUREOS_MONITORD_ALERT_STORE_H_
#define SECUREOS_MONITORD_ALERT_STORE_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/monitord.pb.h"

namespace secureos::monitord {

class AlertStore {
 public:
  explicit AlertStore(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  void Add(monitord::v1::Alert alert);

  // Violation tracking for `request` (see ViolationsRequest).
  monitord::v1::ViolationsResponse Query(const monitord::v1::ViolationsRequest& request) const;

  // The alerts added after `*cursor` (an index from next(); older ones already forgotten are
  // skipped), waiting up to `timeout` for one; advances *cursor.
  std::vector<monitord::v1::Alert> WaitAfter(uint64_t* cursor, absl::Duration timeout) const;
  // The index the next alert will have.
  uint64_t next() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<monitord::v1::Alert> alerts_ ABSL_GUARDED_BY(mu_);
  uint64_t first_ ABSL_GUARDED_BY(mu_) = 0;  // Index of alerts_.front().
};

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_ALERT_STORE_H_
