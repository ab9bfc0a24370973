// capd: wiring only. See capd_service.h and the libraries it names.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capd/audit_gate.h"
#include "capd/capd_service.h"
#include "capd/default_config.h"
#include "capd/self_confinement.h"
#include "common/daemon_main.h"
#include "common/paths.h"
#include "proto/capd.pb.h"

namespace secureos::capd {
namespace {

constexpr uint32_t kMaxExitedSpawnsKept = 1000000;
constexpr uint32_t kDefaultExitedSpawnsKept = 1024;

void Validate(const google::protobuf::Message* running, const google::protobuf::Message& next,
              FieldErrors* errors) {
  const auto& c = static_cast<const v1::CapdConfig&>(next);
  absl::StatusOr<CapSet> grantable = CapSet::Parse(c.grantable_capabilities());
  if (c.grantable_capabilities().empty()) {
    errors->Add("grantable_capabilities", "required (capability names, comma-separated)");
  } else if (!grantable.ok()) {
    errors->Add("grantable_capabilities", grantable.status().message());
  }
  if (running != nullptr && static_cast<const v1::CapdConfig*>(running)->grantable_capabilities() !=
                                c.grantable_capabilities()) {
    errors->Add("grantable_capabilities", "changing it needs a restart");
  }
  if (absl::StatusOr<CapSet> d = CapSet::Parse(c.container_default_capabilities()); !d.ok()) {
    errors->Add("container_default_capabilities", d.status().message());
  }
  if (c.drift_check_interval_seconds() < 1 || c.drift_check_interval_seconds() > 3600) {
    errors->Add("drift_check_interval_seconds",
                absl::StrCat("required, from 1 to 3600, got ", c.drift_check_interval_seconds()));
  }
  if (c.exited_spawns_kept() > kMaxExitedSpawnsKept) {
    errors->Add("exited_spawns_kept", absl::StrCat("at most ", kMaxExitedSpawnsKept, ", got ",
                                                   c.exited_spawns_kept()));
  }
}

CapSet Grantable(const google::protobuf::Message& config) {
  return *CapSet::Parse(static_cast<const v1::CapdConfig&>(config).grantable_capabilities());
}

absl::Status Confine(const google::protobuf::Message& config) {
  return ConfineBoundingSet(Grantable(config).Union(CapdOwnNeeds()));
}

absl::StatusOr<std::vector<ServiceEntry>> MakeServices(DaemonCore& core) {
  const std::string state = StateDir(core.root(), "capd");
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<GrantStore> grants, GrantStore::Open(state));
  const ConfigStore* store = &core.config();
  SECUREOS_ASSIGN_OR_RETURN(
      std::unique_ptr<SpawnRegistry> spawns,
      SpawnRegistry::Open(RuntimeDir(core.root(), "capd"), &core.events(), [store]() -> size_t {
        const uint32_t kept = store->Get<v1::CapdConfig>()->exited_spawns_kept();
        return kept == 0 ? kDefaultExitedSpawnsKept : kept;
      }));
  auto config = core.config().Get<v1::CapdConfig>();
  std::vector<ServiceEntry> services;
  services.push_back(ServiceEntry{
      std::make_unique<CapdService>(&core, std::move(grants), std::move(spawns), Grantable(*config),
                                    NewMonitordAuditGate(UnderRoot(core.root(), DefaultSocket("monitord")))),
      ServiceDescriptorOf<v1::Capd>(), CapdService::AccessTable()});
  return services;
}

}  // namespace
}  // namespace secureos::capd

int main(int argc, char** argv) {
  static const secureos::capd::v1::CapdConfig prototype;
  secureos::DaemonSpec spec;
  spec.name = "capd";
  spec.config_prototype = &prototype;
  spec.embedded_config = secureos::embedded::kDefaultConfig;
  spec.validate = secureos::capd::Validate;
  spec.keeps_setpcap = true;
  spec.confine = secureos::capd::Confine;  // The sole holder: it sets securebits and bounding sets of spawns.
  spec.make_services = secureos::capd::MakeServices;
  return secureos::DaemonMain(argc, argv, spec);
}
