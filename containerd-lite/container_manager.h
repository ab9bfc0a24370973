// The containers of containerd-lite: OCI lifecycle, id ranges, compliance, durable state,
// re-adoption and resource thresholds. The isolated process is sandboxd's (WorkloadRunner);
// this class decides what to ask for and keeps the record.
//
// Lifecycle (OCI runtime-spec "Lifecycle", with runc's and crun's errors):
//   Create   id unused; bundle loaded and owned by the caller (or root), not group- or
//            world-writable; compliance checked (enforce refuses, audit and warn record);
//            a uid and a gid range from the pools (or the bundle's own mappings, validated);
//            the bundle translated (oci_bundle.h) and handed to sandboxd's Create.
//            -> created: sandboxd made the process, set up and waiting before its exec
//            (pid set, as runc's init waiting on its exec fifo); it does not outlive a
//            sandboxd restart (then: stopped, reason "lost")
//   Start    created only ("cannot start an already running container", "cannot start a
//            container that has stopped"). -> running, pid set
//   Kill     created or running ("container x is not running" otherwise); a created one is
//            discarded (-> stopped, killed by the signal).
//   Delete   stopped or created; running only with force (killed first, SIGKILL); releases
//            the ranges, removes the record and the log.
// Every change is written to the ContainerStore before it is reported, and the pools are
// saved before a range is used or after it is released; a failed step undoes what it did.
// A container in the middle of a change (being created, started or deleted) refuses other
// changes with FAILED_PRECONDITION "busy". Errors name the field or the container.
//
// Restart: Open loads the records and the pools, follows running containers again through
// sandboxd (which keeps its workloads across containerd-lite's restarts), marks stopped those
// sandboxd no longer knows, and releases ranges that no record holds.
//
// Thread-safe.
#ifndef SECUREOS_CONTAINERD_LITE_CONTAINER_MANAGER_H_
#define SECUREOS_CONTAINERD_LITE_CONTAINER_MANAGER_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/event_ring.h"
#include "containerd-lite/container_store.h"
#include "containerd-lite/id_range_pool.h"
#include "containerd-lite/oci_bundle.h"
#include "containerd-lite/resource_watch.h"
#include "containerd-lite/workload_runner.h"
#include "proto/containerd_lite.pb.h"

namespace secureos::ctr {

// Who asks, for the bundle ownership check and the events.
struct Requester {
  uid_t uid = 0;
  std::string trace_id;
};

class ContainerManager {
 public:
  struct Options {
    std::string state_dir;  // Records, pools and logs; exists, mode 0700.
    std::unique_ptr<IdRangePool> uids;
    std::unique_ptr<IdRangePool> gids;
    std::unique_ptr<WorkloadRunner> runner;
    EventRing* events = nullptr;
    // The configuration now (compliance, allow_host_ids, threshold_percent): read at each
    // request, so that a reload applies to the next one.
    std::function<std::shared_ptr<const containerd_lite::v1::ContainerdLiteConfig>()> config;
    // How often running containers are sampled for thresholds and OOM kills. 0: never.
    absl::Duration watch_interval = absl::Seconds(1);
  };

  // Loads the state in `state_dir` and re-adopts (see the file comment).
  static absl::StatusOr<std::unique_ptr<ContainerManager>> Open(Options options);
  ~ContainerManager();

  absl::StatusOr<containerd_lite::v1::ContainerState> Create(
      const containerd_lite::v1::CreateRequest& request, const Requester& requester);
  absl::StatusOr<containerd_lite::v1::ContainerState> Start(const std::string& id);
  absl::StatusOr<containerd_lite::v1::ContainerState> State(const std::string& id) const;
  absl::Status Kill(const std::string& id, int signal);
  absl::Status Delete(const std::string& id, bool force);
  std::vector<containerd_lite::v1::ContainerState> List() const;

  // Create (output streamed), Start, then every output record and the exit through
  // `on_event` (false: the reader went away); the container is killed when `cancelled`
  // says so or the reader goes, and deleted at the end unless request.keep.
  using OnRunEvent = std::function<bool(const containerd_lite::v1::RunEvent&)>;
  absl::Status Run(const containerd_lite::v1::RunRequest& request, const Requester& requester,
                   const OnRunEvent& on_event, const std::function<bool()>& cancelled);

  // A further process in running container request.id (sandboxd's Exec): exec_started,
  // output, exec_exited through `on_event`; killed when `cancelled` says so or the reader
  // goes. args[0] is resolved in the container's view as process.args is.
  absl::Status Exec(const containerd_lite::v1::ExecRequest& request, const Requester& requester,
                    const OnRunEvent& on_event, const std::function<bool()>& cancelled);

  // One sample of a running container's resource use (FAILED_PRECONDITION otherwise);
  // `previous` (may be null) is the caller's last sample, for cpu_rate.
  absl::StatusOr<containerd_lite::v1::ContainerStats> Sample(
      const std::string& id, const containerd_lite::v1::ContainerStats* previous) const;

  // The compliance checks on the bundle at `bundle` (loaded, not run).
  absl::StatusOr<containerd_lite::v1::CheckResponse> Check(
      const containerd_lite::v1::CheckRequest& request) const;

  // Waits until the container is stopped or gone, or `timeout` passes; its state then.
  absl::StatusOr<containerd_lite::v1::ContainerState> WaitStopped(const std::string& id,
                                                                  absl::Duration timeout) const;

 private:
  enum class Busy { kNone, kCreating, kStarting, kDeleting };
  struct Container {
    containerd_lite::v1::ContainerState state;
    Busy busy = Busy::kNone;
    ResourceWatch watch;  // Threshold crossings and OOM kills seen.
  };
  struct Prepared;  // A created container's parts before it is registered.

  explicit ContainerManager(Options options);
  absl::Status Recover();
  void Adopt(containerd_lite::v1::ContainerState state);

  // Create's steps; each undoes its own part on failure.
  // `gateway` and `address`: bridge mode (the address is already held).
  absl::StatusOr<Prepared> Prepare(const containerd_lite::v1::CreateRequest& request,
                                   const Requester& requester, bool streamed,
                                   const std::optional<std::string>& gateway, const std::string& address);
  // Publishes a COMPLIANCE_FINDING event per finding, naming container `id` (being created)
  // and its bundle; refuses in enforce mode.
  absl::Status CheckCompliance(const std::string& id, const Bundle& bundle, const Requester& requester,
                               std::vector<containerd_lite::v1::Finding>* kept);
  absl::Status AllocateRanges(const std::string& id, const oci::v1::Spec& spec,
                              containerd_lite::v1::IdMapping* uid, containerd_lite::v1::IdMapping* gid);
  void ReleaseRanges(const std::string& id);
  absl::StatusOr<containerd_lite::v1::ContainerState> CreateInternal(
      const containerd_lite::v1::CreateRequest& request, const Requester& requester, bool streamed);

  // Claims `id` for a change: it must exist, be idle, and be in one of `allowed`.
  absl::StatusOr<containerd_lite::v1::ContainerState> Claim(
      const std::string& id, Busy busy, std::initializer_list<containerd_lite::v1::ContainerStatus> allowed,
      const char* verb);
  void Release(const std::string& id);
  void OnExit(const std::string& id, const RunOutcome& outcome);
  // Records `state` as the container's (store first); publishes nothing.
  absl::Status CommitLocked(Container& c, containerd_lite::v1::ContainerState state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Stopped(Container& c, const RunOutcome& outcome) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void WatchLoop();
  void WatchOnce();

  void Publish(common::v1::EventKind kind, common::v1::Severity severity,
               const containerd_lite::v1::ContainerState& state, const std::string& trace_id,
               std::string message, common::v1::ContainerEvent detail = {}) const;
  std::string PoolPath(IdKind kind) const;

  const Options options_;
  const ContainerStore store_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  std::map<std::string, Container> containers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_CONTAINER_MANAGER_H_
