// A bounded, in-memory ring of one daemon's events, read by Subscribe streams.
//
// Contract:
// - Publish assigns the next sequence (1, 2, 3, ... per epoch), the source, the epoch and the
//   time, and never waits for a reader: the ring overwrites the oldest event when full.
//   The lock it takes is held only to store one pointer.
// - A reader keeps its own cursor (the next sequence it wants). If the events from its
//   cursor were overwritten, its next Read returns one EventsLost record with the exact
//   count, then continues from the oldest event still held.
// - The epoch is random per EventRing: a restarted daemon has a new epoch, and its sequence
//   starts again at 1.
#ifndef SECUREOS_COMMON_EVENT_RING_H_
#define SECUREOS_COMMON_EVENT_RING_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/common.pb.h"

namespace secureos {

class EventRing {
 public:
  using Event = common::v1::Event;

  // `capacity` >= 1: how many events are held.
  EventRing(std::string source, size_t capacity);
  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  const std::string& source() const { return source_; }
  const std::string& epoch() const { return epoch_; }
  size_t capacity() const { return slots_.size(); }

  // Stamps and stores `event`; returns its sequence.
  uint64_t Publish(Event event);

  // The sequence the next Publish will assign.
  uint64_t next_sequence() const;
  // The oldest sequence still held (== next_sequence() when empty).
  uint64_t oldest_sequence() const;

  struct Batch {
    // Set when events from the cursor were overwritten before this reader got them.
    std::optional<common::v1::EventsLost> lost;
    // Events in sequence order, contiguous.
    std::vector<std::shared_ptr<const Event>> events;
    // The cursor to pass to the next Read.
    uint64_t next_cursor = 0;
    // The ring was closed; no further events will come.
    bool closed = false;
  };

  // Returns what is available from `cursor` (at most `max_events` events), waiting up to
  // `timeout` when nothing is. A cursor of 0 is read as 1.
  Batch Read(uint64_t cursor, size_t max_events, absl::Duration timeout) const;

  // Wakes every waiting reader; later Reads return what is held and then closed=true.
  void Close();

 private:
  uint64_t OldestLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string source_;
  const std::string epoch_;
  mutable absl::Mutex mu_;
  mutable absl::CondVar cv_;
  std::vector<std::shared_ptr<const Event>> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_EVENT_RING_H_
