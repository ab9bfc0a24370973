#include "svcd/definition.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/config_loader.h"
#include "common/process_spec.h"
#include "common/server_config.h"
#include "common/status.h"
#include "sandboxd/seccomp/profile_file.h"
#include "svcd/launch_plan.h"
#include "svcd/level_policy.h"

namespace secureos::svcd {
namespace {

constexpr uint32_t kMaxTimeoutMs = 3600 * 1000;

struct Account {
  uid_t uid;
  std::optional<gid_t> primary_gid;  // Known when the passwd database has the user.
};

absl::StatusOr<Account> ResolveAccount(const std::string& user) {
  SECUREOS_ASSIGN_OR_RETURN(uid_t uid, ResolveUser(user, 0));
  std::vector<char> buf(16384);
  passwd pw;
  passwd* result = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    return Account{uid, pw.pw_gid};
  }
  return Account{uid, std::nullopt};
}

void CheckIdentity(const v1::ServiceDefinition& d, ServiceSpec* s, FieldErrors* errors) {
  if (d.user().empty()) {
    errors->Add("user", "required: a user name or uid");
    return;
  }
  absl::StatusOr<Account> account = ResolveAccount(d.user());
  if (!account.ok()) {
    errors->Add("user", account.status().message());
    return;
  }
  s->uid = account->uid;
  if (!d.group().empty()) {
    absl::StatusOr<gid_t> gid = ResolveGroup(d.group(), 0);
    if (gid.ok()) {
      s->gid = *gid;
    } else {
      errors->Add("group", gid.status().message());
    }
  } else if (account->primary_gid.has_value()) {
    s->gid = *account->primary_gid;
  } else {
    errors->Add("group", absl::StrCat("required: uid ", account->uid,
                                      " has no passwd entry to take a primary group from"));
  }
  for (int i = 0; i < d.supplementary_groups_size(); ++i) {
    absl::StatusOr<gid_t> gid = ResolveGroup(d.supplementary_groups(i), 0);
    if (gid.ok()) {
      s->groups.push_back(*gid);
    } else {
      errors->Add(absl::StrCat("supplementary_groups[", i, "]"), gid.status().message());
    }
  }
}

void CheckLimits(const common::v1::ResourceLimits& l, FieldErrors* errors) {
  if (l.has_memory_bytes() && l.memory_bytes() < (1u << 20)) {
    errors->Add("limits.memory_bytes", absl::StrCat("at least 1048576 (1 MiB), got ", l.memory_bytes()));
  }
  if (l.has_cpu_millis() && (l.cpu_millis() < 10 || l.cpu_millis() > 1024000)) {
    errors->Add("limits.cpu_millis", absl::StrCat("from 10 to 1024000 (thousandths of a CPU), got ", l.cpu_millis()));
  }
  if (l.has_pids() && l.pids() < 1) errors->Add("limits.pids", "at least 1");
  for (int i = 0; i < l.rlimits_size(); ++i) {
    (void)CheckRlimit(l.rlimits(i), absl::StrCat("limits.rlimits[", i, "]"), errors);
  }
}

void CheckTimeout(const char* field, bool has, uint32_t ms, bool zero_ok, FieldErrors* errors) {
  if (!has) return;
  if ((ms == 0 && !zero_ok) || ms > kMaxTimeoutMs) {
    errors->Add(field, absl::StrCat(zero_ok ? "from 0" : "from 1", " to ", kMaxTimeoutMs, " ms, got ", ms));
  }
}

void CheckRestart(const v1::ServiceDefinition& d, ServiceSpec* s, FieldErrors* errors) {
  if (!v1::RestartPolicy_IsValid(d.restart())) errors->Add("restart", "not a restart policy");
  const v1::Backoff& b = d.restart_backoff();
  CheckTimeout("restart_backoff.initial_ms", b.has_initial_ms(), b.initial_ms(), true, errors);
  CheckTimeout("restart_backoff.max_ms", b.has_max_ms(), b.max_ms(), true, errors);
  if (b.has_multiplier() && !(b.multiplier() >= 1 && b.multiplier() <= 100)) {
    errors->Add("restart_backoff.multiplier", absl::StrCat("from 1 to 100, got ", b.multiplier()));
  }
  s->backoff = ResolveBackoff(b);
  if (b.has_max_ms() && b.has_initial_ms() && b.max_ms() < b.initial_ms()) {
    errors->Add("restart_backoff.max_ms", "must be at least initial_ms");
  }
  const v1::StartLimit& l = d.start_limit();
  if (l.has_burst() && (l.burst() < 1 || l.burst() > 10000)) {
    errors->Add("start_limit.burst", absl::StrCat("from 1 to 10000, got ", l.burst()));
  }
  CheckTimeout("start_limit.interval_ms", l.has_interval_ms(), l.interval_ms(), true, errors);
  s->start_burst = l.has_burst() ? l.burst() : 5;
  s->start_interval = absl::Milliseconds(l.has_interval_ms() ? l.interval_ms() : 10000);
}

void CheckStopAndReadiness(const v1::ServiceDefinition& d, ServiceSpec* s, FieldErrors* errors) {
  if (!d.stop_signal().empty()) {
    std::optional<int> sig = ParseSignal(d.stop_signal());
    if (sig.has_value()) {
      s->stop_signal = *sig;
    } else {
      errors->Add("stop_signal", absl::StrCat("not a signal name or number: \"", d.stop_signal(), "\""));
    }
  }
  CheckTimeout("stop_timeout_ms", d.has_stop_timeout_ms(), d.stop_timeout_ms(), false, errors);
  s->stop_timeout = absl::Milliseconds(d.has_stop_timeout_ms() ? d.stop_timeout_ms() : 10000);
  if (!v1::Readiness_IsValid(d.readiness())) errors->Add("readiness", "not a readiness kind");
  CheckTimeout("ready_timeout_ms", d.has_ready_timeout_ms(), d.ready_timeout_ms(), false, errors);
  if (d.has_ready_timeout_ms() && d.readiness() != v1::READINESS_NOTIFY) {
    errors->Add("ready_timeout_ms", "only with readiness READINESS_NOTIFY");
  }
  s->ready_timeout = absl::Milliseconds(d.has_ready_timeout_ms() ? d.ready_timeout_ms() : 30000);
  if (d.watchdog_ms() > kMaxTimeoutMs || (d.watchdog_ms() > 0 && d.watchdog_ms() < 10)) {
    errors->Add("watchdog_ms", absl::StrCat("0 (none) or from 10 to ", kMaxTimeoutMs, " ms, got ", d.watchdog_ms()));
  }
  s->watchdog = absl::Milliseconds(d.watchdog_ms());
}

void CheckDependencies(const v1::ServiceDefinition& d, FieldErrors* errors) {
  auto check = [&](const char* field, const google::protobuf::RepeatedPtrField<std::string>& names) {
    for (int i = 0; i < names.size(); ++i) {
      const std::string f = absl::StrCat(field, "[", i, "]");
      if (!ValidServiceName(names[i])) {
        errors->Add(f, absl::StrCat("not a service name: \"", absl::CHexEscape(names[i]), "\""));
      } else if (names[i] == d.name()) {
        errors->Add(f, "a service cannot depend on itself");
      }
    }
  };
  check("requires", d.requires());
  check("after", d.after());
}

}  // namespace

bool ValidServiceName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  if (!absl::ascii_islower(name[0]) && !absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::optional<ServiceSpec> CompileDefinition(const v1::ServiceDefinition& d,
                                             const DefinitionPolicy& policy, FieldErrors* errors) {
  const size_t before = errors->errors().size();
  ServiceSpec s;
  s.def = d;
  if (d.name().empty()) {
    errors->Add("name", "required");
  } else if (!ValidServiceName(d.name())) {
    errors->Add("name", absl::StrCat("[a-z0-9][a-z0-9._-]*, at most 64 bytes, got \"",
                                     absl::CHexEscape(d.name()), "\""));
  }
  CheckArgvEnv(d.argv(), d.env(), errors);
  for (int i = 0; i < d.env_size(); ++i) {
    if (absl::StartsWith(d.env(i), "NOTIFY_SOCKET=") || absl::StartsWith(d.env(i), "WATCHDOG_USEC=")) {
      errors->Add(absl::StrCat("env[", i, "]"), "NOTIFY_SOCKET and WATCHDOG_USEC are svcd's to set");
    }
  }
  if (!d.working_directory().empty() && d.working_directory()[0] != '/') {
    errors->Add("working_directory", "must be an absolute path");
  }
  CheckIdentity(d, &s, errors);
  absl::StatusOr<CapSet> caps = CapSet::Parse(d.capabilities());
  if (caps.ok()) {
    s.caps = *caps;
  } else {
    errors->Add("capabilities", caps.status().message());
  }
  CheckLimits(d.limits(), errors);
  CheckRestart(d, &s, errors);
  CheckStopAndReadiness(d, &s, errors);
  CheckDependencies(d, errors);
  CheckLevel(d, s.uid, policy.allow_root, errors);
  if (errors->errors().size() != before) return std::nullopt;
  if (!d.overrides().seccomp_profile().empty()) {
    absl::StatusOr<sandboxd::v1::SeccompProfile> p = sandboxd::LoadProfileFile(d.overrides().seccomp_profile());
    if (!p.ok()) {
      errors->Add("overrides.seccomp_profile", p.status().message());
      return std::nullopt;
    }
    s.seccomp = std::move(*p);
  }
  if (absl::Status level = VerifyPlanMeetsLevel(s); !level.ok()) {
    errors->Add(d.overrides().seccomp_profile().empty() ? "level" : "overrides.seccomp_profile",
                absl::StrCat("sandboxd would refuse it: ", level.message()));
    return std::nullopt;
  }
  return s;
}

absl::StatusOr<ServiceSpec> CompileDefinition(const v1::ServiceDefinition& def,
                                              const DefinitionPolicy& policy) {
  FieldErrors errors;
  std::optional<ServiceSpec> s = CompileDefinition(def, policy, &errors);
  if (!s.has_value()) return errors.ToStatus();
  return std::move(*s);
}

absl::StatusOr<ServiceSpec> LoadDefinitionFile(const std::string& path,
                                               const DefinitionPolicy& policy) {
  v1::ServiceDefinition def;
  FieldLocations locations;
  SECUREOS_RETURN_IF_ERROR(LoadConfigFile(path, &def, &locations));
  FieldErrors errors;
  absl::string_view base = path;
  base = base.substr(base.rfind('/') + 1);
  const std::string expected = std::string(absl::StripSuffix(base, ".service"));
  if (!def.name().empty() && def.name() != expected) {
    errors.Add("name", absl::StrCat("must equal the file's name \"", expected, "\", got \"",
                                    absl::CHexEscape(def.name()), "\""));
  }
  std::optional<ServiceSpec> s = CompileDefinition(def, policy, &errors);
  if (!s.has_value() || !errors.empty()) return errors.ToConfigStatus(path, &locations);
  return std::move(*s);
}

}  // namespace secureos::svcd
