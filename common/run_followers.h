// The threads that follow runs to their end over a launching daemon's streams (capd's Spawn
// and Watch, sandboxd's Wait), for svcd's launchers and containerd-lite: one per run,
// retrying a broken stream with backoff (100 ms doubling to 1 s) until the end is known,
// cancelled all at once when their owner goes.
#ifndef SECUREOS_COMMON_RUN_FOLLOWERS_H_
#define SECUREOS_COMMON_RUN_FOLLOWERS_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace secureos {

// How a run ended, as the launching daemon saw it.
struct RunOutcome {
  bool known = false;   // False when the launcher could not observe the end.
  bool has_code = false;
  int code = 0;
  int signal = 0;
  // sandboxd's reason ("exited", "oom", "cpu_limit", "timeout", "seccomp", "killed") or
  // "exited"/"killed" for capd; "unknown" when not known.
  std::string reason;
  std::string detail;   // Human explanation, when the launcher gives one.
};


// Reads a launcher's event stream (capd's SpawnEvent, sandboxd's RunEvent) to its exited
// record: the outcome `outcome_of` makes of it; NOT_FOUND from the daemon is an outcome too
// (the run ended so long ago that `daemon` forgot it: how is lost); a stream that breaks
// before either (the daemon restarted) is nullopt, to be retried.
template <typename Event, typename OutcomeOf>
std::optional<RunOutcome> ReadToExit(grpc::ClientReaderInterface<Event>* reader, OutcomeOf outcome_of,
                                     const char* daemon) {
  Event ev;
  std::optional<RunOutcome> exited;
  while (reader->Read(&ev)) {
    if (ev.has_exited()) exited = outcome_of(ev.exited());
  }
  grpc::Status s = reader->Finish();
  if (exited.has_value()) return exited;
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    RunOutcome gone;
    gone.reason = "unknown";
    gone.detail = std::string(daemon) + " no longer knows the run: " + s.error_message();
    return gone;
  }
  return std::nullopt;
}

class RunFollowers {
 public:
  // Called once per run with its outcome, on the follower's thread.
  using OnExit = std::function<void(const RunOutcome&)>;
  // One try at following: reads until the run's end (its outcome) or until the stream breaks
  // (nullopt). `ctx` is cancelled when the followers stop.
  using Attempt = std::function<std::optional<RunOutcome>(grpc::ClientContext* ctx, int attempt)>;

  RunFollowers() = default;
  // Cancels every stream and joins; OnExit is not called for runs still followed.
  ~RunFollowers();

  // Follows on a new thread: attempt 0, 1, ... until one returns an outcome, then on_exit.
  // `first` (may be null) is the context of a stream the caller already opened, used by
  // attempt 0 and cancelled like the others.
  void Follow(std::unique_ptr<grpc::ClientContext> first, Attempt attempt, OnExit on_exit);

 private:
  struct Follower {
    std::thread thread;
    std::unique_ptr<grpc::ClientContext> ctx ABSL_GUARDED_BY(mu);  // The current attempt's.
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::Mutex mu;
  };
  void Run(Follower* f, std::unique_ptr<grpc::ClientContext> first, const Attempt& attempt,
           const OnExit& on_exit);
  bool stopping() const;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar stop_;
  std::list<std::unique_ptr<Follower>> followers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_RUN_FOLLOWERS_H_
