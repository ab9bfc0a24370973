// sandboxd: wiring only. See sandboxd_service.h and the libraries it names.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/daemon_main.h"
#include "common/log.h"
#include "common/paths.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/capability_authorizer.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "sandboxd/cgroup/cgroup_placement.h"
#include "sandboxd/cgroup/favor_dynmods.h"
#include "sandboxd/default_config.h"
#include "sandboxd/sandboxd_service.h"
#include "sandboxd/workload_registry.h"

namespace secureos::sandboxd {
namespace {

constexpr uint32_t kMaxIdMapCount = 1 << 16;
constexpr uint32_t kMaxExitedKept = 100000;
constexpr uint32_t kDefaultExitedKept = 256;

// The container range may hold neither root, nor nobody, nor a workload id.
void ValidateContainerRange(const v1::SandboxdConfig& c, FieldErrors* errors) {
  if (c.container_id_count() == 0) return;
  const uint64_t start = c.container_id_start(), end = start + c.container_id_count();
  const uint64_t wstart = c.workload_uid(), wend = wstart + std::max(1u, c.id_map_count());
  if (end > 0xffffffffull) {
    errors->Add("container_id_count", "container_id_start + container_id_count passes the last uid");
  }
  for (uint64_t forbidden : {uint64_t{0}, uint64_t{65534}}) {
    if (forbidden >= start && forbidden < end) {
      errors->Add("container_id_start", absl::StrCat("the range ", start, "-", end - 1,
                                                     " contains host id ", forbidden));
    }
  }
  if (start < wend && wstart < end) {
    errors->Add("container_id_start", absl::StrCat("the range ", start, "-", end - 1,
                                                   " overlaps workload_uid's ", wstart, "-", wend - 1));
  }
}

void Validate(const google::protobuf::Message* running, const google::protobuf::Message& next,
              FieldErrors* errors) {
  const auto& c = static_cast<const v1::SandboxdConfig&>(next);
  if (c.workload_uid() == 0) errors->Add("workload_uid", "required, not 0 (workloads never run as host root)");
  if (c.id_map_count() > kMaxIdMapCount) {
    errors->Add("id_map_count", absl::StrCat("at most ", kMaxIdMapCount, ", got ", c.id_map_count()));
  }
  if (uint64_t{c.workload_uid()} + std::max(1u, c.id_map_count()) > 0xffffffffull) {
    errors->Add("id_map_count", "workload_uid + id_map_count passes the last uid");
  }
  ValidateContainerRange(c, errors);
  if (std::string problem = CgroupParentProblem(c.cgroup_parent()); !problem.empty()) {
    errors->Add("cgroup_parent", problem);
  }
  if (running != nullptr &&
      static_cast<const v1::SandboxdConfig*>(running)->cgroup_parent() != c.cgroup_parent()) {
    errors->Add("cgroup_parent", "changing it needs a restart");
  }
  if (c.exited_workloads_kept() > kMaxExitedKept) {
    errors->Add("exited_workloads_kept", absl::StrCat("at most ", kMaxExitedKept));
  }
}

absl::StatusOr<std::vector<ServiceEntry>> MakeServices(DaemonCore& core) {
  SECUREOS_ASSIGN_OR_RETURN(CgroupLayout layout, CgroupLayout::Discover());
  if (core.config().Get<v1::SandboxdConfig>()->cgroup_favor_dynmods()) {
    // Only faster starts are at stake: a refusal is logged, never fatal.
    absl::StatusOr<std::string> done = FavorDynamicModifications(layout);
    Log(done.ok() ? LogLevel::kInfo : LogLevel::kWarning, "cgroup favordynmods",
        {{"result", done.ok() ? *done : std::string(done.status().message())}});
  }
  const ConfigStore* store = &core.config();
  const std::string runtime = RuntimeDir(core.root(), "sandboxd");
  SECUREOS_RETURN_IF_ERROR(MakeDirs(runtime, 0700));
  SECUREOS_ASSIGN_OR_RETURN(
      CgroupPlacement placement,
      PlaceCgroups(layout, store->Get<v1::SandboxdConfig>()->cgroup_parent(),
                   runtime + "/cgroup-bases"));
  Log(LogLevel::kInfo, "cgroup controllers",
      {{"layout", placement.layout.Describe()}, {"parent", placement.parent}});
  WorkloadRegistry::Options options;
  options.layout = std::move(placement.layout);
  options.cgroup_parent = std::move(placement.parent);
  options.exited_kept = [store]() -> size_t {
    const uint32_t kept = store->Get<v1::SandboxdConfig>()->exited_workloads_kept();
    return kept == 0 ? kDefaultExitedKept : kept;
  };
  options.events = &core.events();
  options.state_path = runtime + "/workloads.textproto";
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<WorkloadRegistry> workloads,
                            WorkloadRegistry::Open(std::move(options)));
  std::vector<ServiceEntry> services;
  services.push_back(ServiceEntry{
      std::make_unique<SandboxdService>(
          &core, std::move(workloads),
          NewCapdAuthorizer(UnderRoot(core.root(), DefaultSocket("capd")))),
      ServiceDescriptorOf<v1::Sandboxd>(), SandboxdService::AccessTable()});
  return services;
}

}  // namespace
}  // namespace secureos::sandboxd

int main(int argc, char** argv) {
  static const secureos::sandboxd::v1::SandboxdConfig prototype;
  secureos::DaemonSpec spec;
  spec.name = "sandboxd";
  spec.config_prototype = &prototype;
  spec.embedded_config = secureos::embedded::kDefaultConfig;
  spec.validate = secureos::sandboxd::Validate;
  spec.make_services = secureos::sandboxd::MakeServices;
  return secureos::DaemonMain(argc, argv, spec);
}
