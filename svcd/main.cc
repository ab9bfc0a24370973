// svcd: wiring only. See svcd_service.h and service_manager.h.
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/daemon_main.h"
#include "common/log.h"
#include "common/paths.h"
#include "proto/svcd.pb.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "sandboxd/cgroup/cgroup_placement.h"
#include "svcd/default_config.h"
#include "svcd/launcher.h"
#include "svcd/log_collector.h"
#include "svcd/service_manager.h"
#include "svcd/svcd_service.h"
#include "svcd/verifier.h"

namespace secureos::svcd {
namespace {

constexpr uint64_t kMinLogBytes = 4096;
constexpr uint64_t kMaxLogBytes = uint64_t{1} << 40;
constexpr uint32_t kMaxLogFiles = 100;

bool RelativePath(const std::string& p) {
  return !p.empty() && p.front() != '/' && !absl::StrContains(absl::StrCat("/", p, "/"), "/../");
}

void Validate(const google::protobuf::Message* running, const google::protobuf::Message& next,
              FieldErrors* errors) {
  const auto& c = static_cast<const v1::SvcdConfig&>(next);
  for (auto [field, value] : {std::pair<const char*, const std::string*>{"services_dir", &c.services_dir()},
                              {"log_dir", &c.log_dir()}}) {
    if (!RelativePath(*value)) {
      errors->Add(field, absl::StrCat("required: a path relative to --root without \"..\", got \"", *value, "\""));
    }
  }
  if (std::string problem = sandboxd::CgroupParentProblem(c.cgroup_parent()); !problem.empty()) {
    errors->Add("cgroup_parent", problem);
  }
  if (c.log_max_bytes() < kMinLogBytes || c.log_max_bytes() > kMaxLogBytes) {
    errors->Add("log_max_bytes", absl::StrCat("required, ", kMinLogBytes, " to ", kMaxLogBytes, ", got ", c.log_max_bytes()));
  }
  if (c.log_files_kept() > kMaxLogFiles) {
    errors->Add("log_files_kept", absl::StrCat("at most ", kMaxLogFiles, ", got ", c.log_files_kept()));
  }
  if (c.verify_delay_ms() > 60000) errors->Add("verify_delay_ms", "at most 60000");
  if (running == nullptr) return;
  const auto& r = static_cast<const v1::SvcdConfig&>(*running);
  if (r.services_dir() != c.services_dir()) errors->Add("services_dir", "changing it needs a restart");
  if (r.log_dir() != c.log_dir()) errors->Add("log_dir", "changing it needs a restart");
  if (r.cgroup_parent() != c.cgroup_parent()) errors->Add("cgroup_parent", "changing it needs a restart");
  if (r.allow_root() != c.allow_root()) errors->Add("allow_root", "changing it needs a restart");
}

absl::StatusOr<std::vector<ServiceEntry>> MakeServices(DaemonCore& core) {
  const std::shared_ptr<const v1::SvcdConfig> config = core.config().Get<v1::SvcdConfig>();
  const std::string runtime = RuntimeDir(core.root(), "svcd");
  SECUREOS_RETURN_IF_ERROR(MakeDirs(runtime, 0755));
  LogCollector::Options logs;
  logs.fifo_dir = runtime + "/logs";
  logs.log_dir = UnderRoot(core.root(), config->log_dir());
  logs.max_bytes = config->log_max_bytes();
  logs.files_kept = config->log_files_kept();

  ServiceManager::Options options;
  SECUREOS_ASSIGN_OR_RETURN(options.logs, LogCollector::Start(std::move(logs)));
  SECUREOS_ASSIGN_OR_RETURN(sandboxd::CgroupLayout layout, sandboxd::CgroupLayout::Discover());
  SECUREOS_ASSIGN_OR_RETURN(
      sandboxd::CgroupPlacement placement,
      sandboxd::PlaceCgroups(layout, config->cgroup_parent(), runtime + "/cgroup-bases"));
  options.layout = std::move(placement.layout);
  options.cgroup_parent = std::move(placement.parent);
  options.services_dir = UnderRoot(core.root(), config->services_dir());
  options.state_path = runtime + "/services.textproto";
  options.notify_dir = runtime + "/notify";
  options.policy.allow_root = config->allow_root();
  options.verify_delay = absl::Milliseconds(config->verify_delay_ms() == 0 ? 200 : config->verify_delay_ms());
  const std::string capd_socket = UnderRoot(core.root(), DefaultSocket("capd"));
  options.capd = NewCapdLauncher(capd_socket);
  options.sandboxd = NewSandboxdLauncher(UnderRoot(core.root(), DefaultSocket("sandboxd")));
  options.inspector = NewProcessInspector(capd_socket);
  options.events = &core.events();
  LogCollector* collector = options.logs.get();
  core.OnReload([collector](const google::protobuf::Message& applied) {
    const auto& c = static_cast<const v1::SvcdConfig&>(applied);
    collector->SetLimits(c.log_max_bytes(), c.log_files_kept());
  });
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<ServiceManager> manager, ServiceManager::Open(std::move(options)));
  manager->StartEnabled();
  std::vector<ServiceEntry> services;
  services.push_back(ServiceEntry{std::make_unique<SvcdService>(&core, std::move(manager)),
                                  ServiceDescriptorOf<v1::Svcd>(), SvcdService::AccessTable()});
  return services;
}

}  // namespace
}  // namespace secureos::svcd

int main(int argc, char** argv) {
  static const secureos::svcd::v1::SvcdConfig prototype;
  secureos::DaemonSpec spec;
  spec.name = "svcd";
  spec.config_prototype = &prototype;
  spec.embedded_config = secureos::embedded::kDefaultConfig;
  spec.validate = secureos::svcd::Validate;
  spec.make_services = secureos::svcd::MakeServices;
  return secureos::DaemonMain(argc, argv, spec);
}
