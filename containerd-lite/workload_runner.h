// What containerd-lite asks of sandboxd, which makes every container's process: the narrow
// interface the container manager is written against (a fake stands in for it in tests).
// containerd-lite never creates a namespace itself.
#ifndef SECUREOS_CONTAINERD_LITE_WORKLOAD_RUNNER_H_
#define SECUREOS_CONTAINERD_LITE_WORKLOAD_RUNNER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/run_followers.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

class WorkloadRunner {
 public:
  // Called once with how the workload ended, on a runner thread.
  using OnExit = std::function<void(const RunOutcome&)>;
  // Called for each record of a Wait stream; false stops reading.
  using OnEvent = std::function<bool(const sandboxd::v1::RunEvent&)>;

  virtual ~WorkloadRunner() = default;

  // sandboxd's Create, Start, Kill and Status. Errors are sandboxd's, as it gave them
  // (INVALID_ARGUMENT naming a SandboxSpec field, PERMISSION_DENIED from capd, UNAVAILABLE).
  virtual absl::StatusOr<sandboxd::v1::WorkloadInfo> Create(const sandboxd::v1::CreateRequest& request) = 0;
  virtual absl::StatusOr<sandboxd::v1::WorkloadInfo> Start(const std::string& id) = 0;
  virtual absl::Status Kill(const std::string& id, int signal) = 0;
  virtual absl::StatusOr<sandboxd::v1::WorkloadInfo> Status(const std::string& id) = 0;

  // Follows the workload to its end on a thread of the runner, across sandboxd restarts,
  // then calls on_exit (never after the runner is destroyed).
  virtual void Follow(const std::string& id, OnExit on_exit) = 0;

  // Reads the workload's Wait stream on the calling thread until its exited record, until
  // on_event returns false, or until `cancelled` says so (polled at least every 100 ms).
  // OK once the exited record was read.
  virtual absl::Status Wait(const std::string& id, const OnEvent& on_event,
                            const std::function<bool()>& cancelled) = 0;

  // sandboxd's Exec, read like Wait: started, output, exited; sandboxd kills the process
  // when the stream is cancelled.
  virtual absl::Status Exec(const sandboxd::v1::ExecRequest& request, const OnEvent& on_event,
                            const std::function<bool()>& cancelled) = 0;
};

// Over sandboxd's Unix socket.
std::unique_ptr<WorkloadRunner> NewSandboxdRunner(const std::string& sandboxd_socket);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_WORKLOAD_RUNNER_H_
