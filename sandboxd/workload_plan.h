// A validated workload: the SandboxSpec checked once, with every error reported together
// (INVALID_ARGUMENT naming each field), turned into what the launcher, the cgroup and the
// seccomp supervisor need. Defaults are filled in, so `spec` is what will really run.
//
// Security notes:
// - A workload never holds capabilities on the host: kept capabilities need a user
//   namespace (and capd's authorization, asked by the service).
// - Host ids a user namespace may map are limited to the configured range
//   [workload_uid, workload_uid + id_map_count) and the container range (containerd-lite's
//   pools): a caller can never map host root in.
// - Without a user namespace the workload runs as a non-root host uid.
// - RLIMIT_NOFILE always has a hard limit (default 4096); the launch socket sits at that
//   number (see launcher.h).
#ifndef SECUREOS_SANDBOXD_WORKLOAD_PLAN_H_
#define SECUREOS_SANDBOXD_WORKLOAD_PLAN_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/cgroup/cgroup.h"
#include "sandboxd/filter_cache.h"
#include "sandboxd/launcher.h"
#include "sandboxd/net/bridge.h"
#include "sandboxd/seccomp/compiled_filter.h"

namespace secureos::sandboxd {

// What the daemon's configuration contributes.
struct PlanContext {
  uint32_t workload_uid = 0;
  uint32_t id_map_count = 1;
  // SandboxdConfig.container_id_start/count: a second range maps may use (count 0: none).
  uint32_t container_id_start = 0;
  uint32_t container_id_count = 0;
  FilterCache* filters = nullptr;  // Null: every plan compiles its own filter.
};

// Where the workload's stdout and stderr go: RunRequest's / CreateRequest's output fields.
struct OutputRequest {
  v1::OutputMode mode = v1::OUTPUT_MODE_NULL;  // Never UNSPECIFIED: the service resolves it.
  std::string stdout_path;                     // OUTPUT_MODE_FILES only.
  std::string stderr_path;
};

struct WorkloadPlan {
  v1::SandboxSpec spec;  // As validated, defaults filled in.
  LaunchPlan launch;
  CgroupLimits cgroup;
  std::shared_ptr<const CompiledFilter> filter;  // Null only for the "unconfined" profile.
  std::optional<BridgePlan> bridge;  // NETWORK_MODE_BRIDGE: attached before the workload goes.
  absl::Duration timeout = absl::InfiniteDuration();
};

// Validates `spec` and `output` and prepares everything (stdio included: with
// OUTPUT_MODE_FILES the files are opened here, on the host, by sandboxd, before any
// namespace exists; see OpenFileStdio). Output errors name "output", "stdout_path" and
// "stderr_path": paths without OUTPUT_MODE_FILES, FILES without both paths, relative
// paths. A file that cannot be opened (a FIFO without a reader: FAILED_PRECONDITION) fails
// the plan after validation, naming the field and the path. `one_shot`: the workload dies
// with sandboxd (Run); long-lived ones (Create) outlive a daemon restart, and so do their
// output files, which they hold open themselves.
absl::StatusOr<WorkloadPlan> BuildWorkloadPlan(const v1::SandboxSpec& spec,
                                               const OutputRequest& output,
                                               const PlanContext& context, bool one_shot);

// What an ExecRequest must hold whatever workload it names (`id`, `argv`): checked before
// the workload is looked up, so that a request lacking them is INVALID_ARGUMENT naming the
// field, not NOT_FOUND.
absl::Status CheckExecRequest(const v1::ExecRequest& request);

// An exec into a running workload whose validated spec is `target`: argv, env and cwd from
// `request` (env and cwd default to the workload's), everything else the workload's, checked
// again as BuildWorkloadPlan checks it; one-shot, output streamed, no wall-clock limit of its
// own. The launch joins the workload's namespaces (LaunchPlan::join_flags) instead of making
// new ones; the registry supplies the workload's pidfd at launch.
absl::StatusOr<WorkloadPlan> BuildExecPlan(const v1::SandboxSpec& target, const v1::ExecRequest& request,
                                           const PlanContext& context);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_WORKLOAD_PLAN_H_
