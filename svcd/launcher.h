// Who starts a service's process: capd (levels 1-2) or sandboxd (levels 3-5). svcd never
// execs anything itself. A Launcher starts a run, follows it to its end across restarts of
// the launching daemon, re-adopts runs a previous svcd started, and signals them.
#ifndef SECUREOS_SVCD_LAUNCHER_H_
#define SECUREOS_SVCD_LAUNCHER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/run_followers.h"
#include "svcd/launch_plan.h"

namespace secureos::svcd {

// The launching daemon's handle of one run.
struct RunHandle {
  std::string id;   // capd spawn id or sandboxd workload id.
  pid_t pid = 0;    // Host pid of the main process.
  // sandboxd: the workload's cgroup leaves (for the notify sender check and usage).
  std::vector<std::string> cgroup_paths;
};

// How a run ended (common/run_followers.h).
using ::secureos::RunOutcome;


class Launcher {
 public:
  // Called once per run, on a launcher thread, after Launch/Adopt returned.
  using OnExit = std::function<void(const RunOutcome&)>;

  virtual ~Launcher() = default;
  // Starts the run; returns once the process runs. Errors are the launching daemon's
  // (PERMISSION_DENIED for a missing grant, INVALID_ARGUMENT naming a field, UNAVAILABLE).
  virtual absl::StatusOr<RunHandle> Launch(const LaunchRequest& request, OnExit on_exit) = 0;
  // Follows a run a previous svcd started. NOT_FOUND when the daemon does not know it.
  virtual absl::StatusOr<RunHandle> Adopt(const std::string& id, OnExit on_exit) = 0;
  virtual absl::Status Signal(const std::string& id, int signal) = 0;
};

// Over capd's and sandboxd's Unix sockets. Follow streams that break (the daemon restarted)
// are resumed with Watch / Wait every 100 ms .. 1 s until the run's end is known. Destroying
// a launcher cancels its streams without calling OnExit.
std::unique_ptr<Launcher> NewCapdLauncher(const std::string& socket);
std::unique_ptr<Launcher> NewSandboxdLauncher(const std::string& socket);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_LAUNCHER_H_
