// A service turned into its launcher's request: capd's SpawnRequest for levels 1-2,
// sandboxd's CreateRequest for levels 3-5 (level_policy.h says what each level gives).
//
// svcd adds to every request what it owns: the service's cgroups (levels 1-2, made by svcd),
// its log pipe as stdout and stderr, its NOTIFY_SOCKET (and WATCHDOG_USEC), the trace id.
// Inside a sandbox the notify socket is bound at /run/notify.sock on a fresh /run.
#ifndef SECUREOS_SVCD_LAUNCH_PLAN_H_
#define SECUREOS_SVCD_LAUNCH_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/capd.pb.h"
#include "proto/sandboxd.pb.h"
#include "svcd/service_spec.h"

namespace secureos::svcd {

// Where the notify socket is inside a sandbox.
inline constexpr char kSandboxNotifySocket[] = "/run/notify.sock";

// What svcd prepared for one run.
struct LaunchContext {
  std::string log_path;               // Host path (the log FIFO) for stdout and stderr.
  std::string notify_socket;          // Host path of the notify socket; empty: none.
  std::vector<std::string> cgroups;   // Levels 1-2: the service's cgroup directories.
  std::string trace_id;
};

struct LaunchRequest {
  bool sandboxed = false;
  capd::v1::SpawnRequest spawn;        // Levels 1-2.
  sandboxd::v1::CreateRequest create;  // Levels 3-5.
};

// The capd principal of a level 1-2 service, and the sandbox principal capd authorizes
// for the capabilities a level 3-4 service keeps inside its user namespace.
std::string ServicePrincipal(const ServiceSpec& spec);

// Builds the request.
absl::StatusOr<LaunchRequest> PlanLaunch(const ServiceSpec& spec, const LaunchContext& ctx);

// For a sandboxed service: the request checked against its level as sandboxd checks it
// (sandboxd::VerifyLevel), so that a definition sandboxd would refuse is refused when it is
// added. OK for levels 1-2.
absl::Status VerifyPlanMeetsLevel(const ServiceSpec& spec);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_LAUNCH_PLAN_H_
