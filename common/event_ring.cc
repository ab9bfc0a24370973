#include "common/event_ring.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"

namespace secureos {
namespace {

std::string NewEpoch() {
  absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

}  // namespace

EventRing::EventRing(std::string source, size_t capacity)
    : source_(std::move(source)), epoch_(NewEpoch()), slots_(std::max<size_t>(capacity, 1)) {}

uint64_t EventRing::Publish(Event event) {
  event.set_source(source_);
  event.set_epoch(epoch_);
  // To the nanosecond (protobuf's GetCurrentTime gives whole seconds on this build, too
  // coarse to measure a restart delay from events).
  *event.mutable_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now()));
  // Build the immutable record outside the lock: only the pointer store is inside.
  auto record = std::make_shared<Event>(std::move(event));
  std::shared_ptr<const Event> evicted;
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    seq = next_++;
    record->set_sequence(seq);
    evicted = std::exchange(slots_[seq % slots_.size()], std::move(record));
    cv_.SignalAll();
  }
  return seq;  // `evicted` is freed here, outside the lock.
}

uint64_t EventRing::next_sequence() const {
  absl::MutexLock lock(&mu_);
  return next_;
}

uint64_t EventRing::oldest_sequence() const {
  absl::MutexLock lock(&mu_);
  return OldestLocked();
}

uint64_t EventRing::OldestLocked() const {
  return next_ > slots_.size() ? next_ - slots_.size() : 1;
}

EventRing::Batch EventRing::Read(uint64_t cursor, size_t max_events,
                                 absl::Duration timeout) const {
  Batch batch;
  cursor = std::max<uint64_t>(cursor, 1);
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  while (cursor >= next_ && !closed_) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) break;
  }
  const uint64_t oldest = OldestLocked();
  if (cursor < oldest) {
    common::v1::EventsLost lost;
    lost.set_from_sequence(cursor);
    lost.set_count(oldest - cursor);
    lost.set_epoch(epoch_);
    batch.lost = lost;
    cursor = oldest;
  }
  while (cursor < next_ && batch.events.size() < max_events) {
    batch.events.push_back(slots_[cursor % slots_.size()]);
    ++cursor;
  }
  batch.next_cursor = cursor;
  batch.closed = closed_ && cursor >= next_;
  return batch;
}

void EventRing::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  cv_.SignalAll();
}

}  // namespace secureos
