// monitord: wiring only. See monitor.h and monitord_service.h.
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/daemon_main.h"
#include "common/log.h"
#include "common/paths.h"
#include "monitord/default_config.h"
#include "monitord/default_rules.h"
#include "monitord/failure_command.h"
#include "monitord/monitor.h"
#include "monitord/monitord_service.h"
#include "monitord/rules/rule_set.h"
#include "proto/monitord.pb.h"

namespace secureos::monitord {
namespace {

constexpr char kBuiltIn[] = "<built-in default rules>";
const std::set<std::string>& KnownSources() {
  static const auto* known = new std::set<std::string>{"capd", "sandboxd", "containerd-lite", "svcd"};
  return *known;
}

bool RelativePath(const std::string& p) {
  return !p.empty() && p.front() != '/' && !absl::StrContains(absl::StrCat("/", p, "/"), "/../");
}

void Validate(const google::protobuf::Message* running, const google::protobuf::Message& next, FieldErrors* errors) {
  const auto& c = static_cast<const v1::MonitordConfig&>(next);
  if (!RelativePath(c.state_dir())) {
    errors->Add("state_dir", absl::StrCat("required: a path relative to --root without \"..\", got \"", c.state_dir(), "\""));
  }
  std::set<std::string> seen;
  for (int i = 0; i < c.sources_size(); ++i) {
    const std::string field = absl::StrCat("sources[", i, "]");
    if (KnownSources().count(c.sources(i)) == 0) {
      errors->Add(field, absl::StrCat("capd, sandboxd, containerd-lite or svcd, got \"", c.sources(i), "\""));
    } else if (!seen.insert(c.sources(i)).second) {
      errors->Add(field, absl::StrCat("\"", c.sources(i), "\" is listed twice"));
    }
  }
  if (c.audit().batch_ms() > 10000) errors->Add("audit.batch_ms", absl::StrCat("at most 10000, got ", c.audit().batch_ms()));
  const std::vector<std::string> command(c.audit().on_failure_exec().begin(), c.audit().on_failure_exec().end());
  if (absl::Status s = ValidateFailureCommand(command); !s.ok()) errors->Add("audit.on_failure_exec[0]", s.message());
  if (running == nullptr) return;
  const auto& r = static_cast<const v1::MonitordConfig&>(*running);
  if (r.state_dir() != c.state_dir()) errors->Add("state_dir", "changing it needs a restart");
  if (r.sources_size() != c.sources_size() || !std::equal(r.sources().begin(), r.sources().end(), c.sources().begin())) {
    errors->Add("sources", "changing them needs a restart");
  }
}

// The rules file of `config`, or the built-in defaults when it does not exist.
absl::StatusOr<std::pair<std::shared_ptr<const RuleSet>, std::string>> LoadRules(const std::string& root,
                                                                                const v1::MonitordConfig& config) {
  if (!config.rules_file().empty()) {
    const std::string path = config.rules_file().front() == '/' ? config.rules_file() : UnderRoot(root, config.rules_file());
    absl::StatusOr<std::shared_ptr<const RuleSet>> rules = RuleSet::Load(path);
    if (rules.ok() || !absl::IsNotFound(rules.status())) {
      if (!rules.ok()) return rules.status();
      return std::make_pair(*rules, path);
    }
  }
  absl::StatusOr<std::shared_ptr<const RuleSet>> rules = RuleSet::FromText(embedded::kDefaultRules, kBuiltIn);
  if (!rules.ok()) return rules.status();
  return std::make_pair(*rules, std::string(kBuiltIn));
}

FsyncPolicy PolicyOf(v1::FsyncMode mode) {
  switch (mode) {
    case v1::FSYNC_MODE_EVERY_RECORD: return FsyncPolicy::kEveryRecord;
    case v1::FSYNC_MODE_NONE: return FsyncPolicy::kNone;
    default: return FsyncPolicy::kBatched;
  }
}

absl::StatusOr<std::vector<ServiceEntry>> MakeServices(DaemonCore& core) {
  const std::shared_ptr<const v1::MonitordConfig> config = core.config().Get<v1::MonitordConfig>();
  Monitor::Options options;
  options.state_dir = UnderRoot(core.root(), config->state_dir());
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options.state_dir, 0700));
  options.audit.dir = options.state_dir + "/audit";
  options.audit.fsync = PolicyOf(config->audit().fsync());
  options.audit.batch = absl::Milliseconds(config->audit().batch_ms() == 0 ? 20 : config->audit().batch_ms());
  if (config->audit().max_file_bytes() != 0) options.audit.max_file_bytes = config->audit().max_file_bytes();
  if (config->audit().max_pending_bytes() != 0) options.audit.max_pending_bytes = config->audit().max_pending_bytes();
  // The command as configured at start (the audit log's options are fixed while it runs).
  const std::vector<std::string> command(config->audit().on_failure_exec().begin(), config->audit().on_failure_exec().end());
  if (!command.empty()) {
    options.audit.on_error = [command](const absl::Status& s) {
      absl::StatusOr<pid_t> pid = RunFailureCommand(command, s.message());
      if (!pid.ok()) Log(LogLevel::kError, "audit failure command", {{"error", std::string(pid.status().message())}});
    };
  }
  SECUREOS_ASSIGN_OR_RETURN(auto rules, LoadRules(core.root(), *config));
  Log(LogLevel::kInfo, "rules loaded", {{"file", rules.second}, {"rules", absl::StrCat(rules.first->rules().size())}});
  options.rules = rules.first;
  for (const std::string& source : config->sources()) {
    options.sources[source] = UnderRoot(core.root(), DefaultSocket(source));
  }
  options.sources["monitord"] = UnderRoot(core.root(), DefaultSocket("monitord"));
  options.events = &core.events();
  if (config->alerts_kept() != 0) options.alerts_kept = config->alerts_kept();
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<Monitor> monitor, Monitor::Start(std::move(options)));
  Monitor* m = monitor.get();
  const std::string root = core.root();
  const ConfigStore* store = &core.config();
  auto reload = [m, root, store]() -> absl::StatusOr<v1::ReloadRulesResponse> {
    SECUREOS_ASSIGN_OR_RETURN(auto loaded, LoadRules(root, *store->Get<v1::MonitordConfig>()));
    m->SetRules(loaded.first);
    v1::ReloadRulesResponse r;
    r.set_rules(static_cast<uint32_t>(loaded.first->rules().size()));
    r.set_file(loaded.second);
    return r;
  };
  core.OnReload([reload](const google::protobuf::Message&) {
    absl::StatusOr<v1::ReloadRulesResponse> r = reload();
    if (!r.ok()) {
      Log(LogLevel::kError, "rules refused; the rules in force stay", {{"error", std::string(r.status().message())}});
    } else {
      Log(LogLevel::kInfo, "rules reloaded", {{"file", r->file()}, {"rules", absl::StrCat(r->rules())}});
    }
  });
  std::vector<ServiceEntry> services;
  services.push_back(ServiceEntry{std::make_unique<MonitordService>(&core, std::move(monitor), reload),
                                  ServiceDescriptorOf<v1::Monitord>(), MonitordService::AccessTable()});
  return services;
}

}  // namespace
}  // namespace secureos::monitord

int main(int argc, char** argv) {
  static const secureos::monitord::v1::MonitordConfig prototype;
  secureos::DaemonSpec spec;
  spec.name = "monitord";
  spec.config_prototype = &prototype;
  spec.embedded_config = secureos::embedded::kDefaultConfig;
  spec.validate = secureos::monitord::Validate;
  spec.make_services = secureos::monitord::MakeServices;
  return secureos::DaemonMain(argc, argv, spec);
}
