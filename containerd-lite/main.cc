// containerd-lite: wiring only. See containerd_lite_service.h and container_manager.h.
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/daemon_main.h"
#include "common/fd.h"
#include "common/paths.h"
#include "containerd-lite/bridge_addresses.h"
#include "containerd-lite/container_manager.h"
#include "containerd-lite/containerd_lite_service.h"
#include "containerd-lite/default_config.h"
#include "containerd-lite/id_range_pool.h"
#include "containerd-lite/workload_runner.h"
#include "proto/containerd_lite.pb.h"

namespace secureos::ctr {
namespace {

constexpr uint32_t kDefaultRangeSize = 65536;

bool RelativePath(const std::string& p) {
  return !p.empty() && p.front() != '/' && !absl::StrContains(absl::StrCat("/", p, "/"), "/../");
}

// An absolute path as is; a relative one under --root.
std::string Resolve(const std::string& root, const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : UnderRoot(root, path);
}

void Validate(const google::protobuf::Message* running, const google::protobuf::Message& next,
              FieldErrors* errors) {
  const auto& c = static_cast<const v1::ContainerdLiteConfig&>(next);
  if (c.subuid_file().empty()) errors->Add("subuid_file", "required (/etc/subuid-style lines name:start:count)");
  if (c.subgid_file().empty()) errors->Add("subgid_file", "required (/etc/subgid-style lines name:start:count)");
  if (!RelativePath(c.state_dir())) {
    errors->Add("state_dir", absl::StrCat("required: a path relative to --root without \"..\", got \"",
                                          c.state_dir(), "\""));
  }
  if (c.threshold_percent() > 100) {
    errors->Add("threshold_percent", absl::StrCat("at most 100, got ", c.threshold_percent()));
  }
  for (int i = 0; i < c.compliance().host_path_allowlist_size(); ++i) {
    const std::string& p = c.compliance().host_path_allowlist(i);
    if (p.empty() || p.front() != '/') {
      errors->Add(absl::StrCat("compliance.host_path_allowlist[", i, "]"),
                  absl::StrCat("must be an absolute path, got \"", p, "\""));
    }
  }
  if (!c.network().subnet().empty()) errors->Merge("network.subnet", ParseSubnet(c.network().subnet()).status());
  if (!c.network().bridge().empty() &&
      (c.network().bridge().size() > 15 ||
       c.network().bridge().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
           std::string::npos)) {
    errors->Add("network.bridge", absl::StrCat("1-15 of [A-Za-z0-9_.-], got \"", c.network().bridge(), "\""));
  }
  if (running == nullptr) return;
  const auto& r = static_cast<const v1::ContainerdLiteConfig&>(*running);
  if (r.subuid_file() != c.subuid_file()) errors->Add("subuid_file", "changing it needs a restart");
  if (r.subgid_file() != c.subgid_file()) errors->Add("subgid_file", "changing it needs a restart");
  if (r.range_size() != c.range_size()) errors->Add("range_size", "changing it needs a restart");
  if (r.state_dir() != c.state_dir()) errors->Add("state_dir", "changing it needs a restart");
}

// The pool of one id kind, with the allocations a previous run saved.
absl::StatusOr<std::unique_ptr<IdRangePool>> OpenPool(IdKind kind, const std::string& file,
                                                      const std::string& state_path,
                                                      const v1::ContainerdLiteConfig& config) {
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  IdRangePoolOptions options;
  options.kind = kind;
  SECUREOS_ASSIGN_OR_RETURN(options.ranges, ParseSubIdLines(text, file));
  options.range_size = config.range_size() == 0 ? kDefaultRangeSize : config.range_size();
  const uint32_t own = kind == IdKind::kUid ? ::getuid() : ::getgid();
  if (own != 0) options.forbidden.push_back(ForbiddenId{own, "containerd-lite"});
  for (uint32_t peer : config.server().peer_uids()) {
    if (peer != own && peer != 0 && peer != 65534) options.forbidden.push_back(ForbiddenId{peer, "a peer daemon"});
  }
  return IdRangePool::Load(state_path, std::move(options));
}

absl::StatusOr<std::vector<ServiceEntry>> MakeServices(DaemonCore& core) {
  const std::shared_ptr<const v1::ContainerdLiteConfig> config = core.config().Get<v1::ContainerdLiteConfig>();
  ContainerManager::Options options;
  options.state_dir = UnderRoot(core.root(), config->state_dir());
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options.state_dir, 0700));
  SECUREOS_ASSIGN_OR_RETURN(
      options.uids, OpenPool(IdKind::kUid, Resolve(core.root(), config->subuid_file()),
                             options.state_dir + "/uid_ranges.textproto", *config));
  SECUREOS_ASSIGN_OR_RETURN(
      options.gids, OpenPool(IdKind::kGid, Resolve(core.root(), config->subgid_file()),
                             options.state_dir + "/gid_ranges.textproto", *config));
  options.runner = NewSandboxdRunner(UnderRoot(core.root(), DefaultSocket("sandboxd")));
  options.events = &core.events();
  const ConfigStore* store = &core.config();
  options.config = [store] { return store->Get<v1::ContainerdLiteConfig>(); };
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<ContainerManager> manager, ContainerManager::Open(std::move(options)));
  std::vector<ServiceEntry> services;
  services.push_back(ServiceEntry{std::make_unique<ContainerdLiteService>(&core, std::move(manager)),
                                  ServiceDescriptorOf<v1::ContainerdLite>(),
                                  ContainerdLiteService::AccessTable()});
  return services;
}

}  // namespace
}  // namespace secureos::ctr

int main(int argc, char** argv) {
  static const secureos::containerd_lite::v1::ContainerdLiteConfig prototype;
  secureos::DaemonSpec spec;
  spec.name = "containerd-lite";
  spec.config_prototype = &prototype;
  spec.embedded_config = secureos::embedded::kDefaultConfig;
  spec.validate = secureos::ctr::Validate;
  spec.make_services = secureos::ctr::MakeServices;
  return secureos::DaemonMain(argc, argv, spec);
}
