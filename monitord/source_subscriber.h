// Following one daemon's event stream (Subscribe) for monitord: from a cursor (epoch and
// last sequence seen), across restarts of either side, never losing a gap silently.
//
//   - The first Subscribe resumes after the cursor (from_sequence = sequence + 1, with its
//     epoch); without a cursor it starts at the oldest event the daemon holds.
//   - The daemon's own EventsLost records (a reader that fell behind its ring) are passed on.
//   - A new epoch (the daemon restarted): the events of the old epoch after the cursor that
//     were never read are gone with that run. When the old run stopped cleanly, the new
//     run's DAEMON_STARTED event says where it ended (common/run_end.h): the gap is an
//     EventsLost record with the exact count (none at all when nothing was missed).
//     Otherwise (a crash) it is an EventsLost record with from_sequence = cursor + 1 and
//     count 0 (unknown). Then the new epoch's events follow from its first held one.
//   - A broken stream is retried every 100 ms on a new channel (a channel that failed
//     waits out its reconnect backoff, which grows to 120 s by default), so a daemon that
//     comes back is followed again within a second.
// The daemon is never slowed by this side: its ring drops what a slow reader misses (and
// says so with EventsLost).
#ifndef SECUREOS_MONITORD_SOURCE_SUBSCRIBER_H_
#define SECUREOS_MONITORD_SOURCE_SUBSCRIBER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"

namespace secureos::monitord {

// Where a reader is in a source's stream.
struct StreamCursor {
  std::string epoch;     // Empty: nothing read yet.
  uint64_t sequence = 0;  // Last sequence read in `epoch`.
};

class SourceSubscriber {
 public:
  // Called on the subscriber's thread for each record, in order.
  using OnRecord = std::function<void(const common::v1::SubscribeResponse& record)>;

  struct Status {
    bool connected = false;
    uint64_t events = 0;
    uint64_t lost_records = 0;
    uint64_t lost_events = 0;  // What the lost records counted.
    uint64_t reconnects = 0;
    StreamCursor cursor;
    std::string last_error;
  };

  // `daemon` is one of capd, sandboxd, containerd-lite, svcd, monitord (its service
  // decides the method path); `socket` its Unix socket. INVALID_ARGUMENT for another name.
  static absl::StatusOr<std::unique_ptr<SourceSubscriber>> Start(const std::string& daemon,
                                                                 const std::string& socket,
                                                                 StreamCursor from, OnRecord on_record);
  // Cancels the stream and joins.
  ~SourceSubscriber();

  Status status() const;
  const std::string& daemon() const { return daemon_; }

  // The stream of one daemon's service (a seam for tests).
  class Stream {
   public:
    virtual ~Stream() = default;
    // Reads until the stream ends or `on_record` returns false; cancellable through Cancel.
    // `on_open` is called once the daemon has accepted the stream (before any record).
    virtual absl::Status Subscribe(const common::v1::SubscribeRequest& request, const std::function<void()>& on_open,
                                   const std::function<bool(const common::v1::SubscribeResponse&)>& on_record) = 0;
    virtual void Cancel() = 0;
  };

 private:
  SourceSubscriber(std::string daemon, std::unique_ptr<Stream> stream, StreamCursor from, OnRecord on_record);
  void Loop();
  bool Deliver(const common::v1::SubscribeResponse& record);

  const std::string daemon_;
  std::unique_ptr<Stream> stream_;
  const OnRecord on_record_;
  mutable absl::Mutex mu_;
  absl::CondVar stop_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_SOURCE_SUBSCRIBER_H_
