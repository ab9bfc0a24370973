#include "containerd-lite/compliance.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace secureos::ctr {
namespace {

class Findings {
 public:
  Findings(v1::ComplianceMode mode, std::vector<v1::Finding>* out) : mode_(mode), out_(out) {}
  void Add(const char* rule, v1::ComplianceLevel level, std::string field, std::string message) {
    v1::Finding f;
    f.set_rule_id(rule);
    f.set_level(level);
    f.set_field(std::move(field));
    f.set_message(std::move(message));
    f.set_mode(mode_);
    out_->push_back(std::move(f));
  }

 private:
  v1::ComplianceMode mode_;
  std::vector<v1::Finding>* out_;
};

// "CAP_KILL" and "kill" alike, as "KILL".
std::string CapName(absl::string_view c) {
  std::string upper = absl::AsciiStrToUpper(c);
  return std::string(absl::StripPrefix(upper, "CAP_"));
}

std::set<std::string> Allowlist(const v1::CompliancePolicy& p, const std::vector<std::string>& fallback) {
  std::set<std::string> out;
  if (p.capability_allowlist().empty()) {
    for (const std::string& c : fallback) out.insert(CapName(c));
  } else {
    for (const std::string& c : p.capability_allowlist()) out.insert(CapName(c));
  }
  return out;
}

// Each capability set holding something outside `allowed`, reported once per set.
void Capabilities(const ContainerFacts& f, const std::set<std::string>& allowed, const char* rule,
                  v1::ComplianceLevel level, Findings* out) {
  for (const auto& [set, caps] : f.capabilities) {
    std::vector<std::string> extra;
    for (const std::string& c : caps) {
      if (!allowed.count(CapName(c))) extra.push_back(c);
    }
    if (extra.empty()) continue;
    out->Add(rule, level, absl::StrCat("process.capabilities.", set),
             absl::StrCat(absl::StrJoin(extra, ", "), " beyond the allowed ", absl::StrJoin(allowed, ", "),
                          ": drop them from the bundle"));
  }
}

bool UnderAllowlist(const std::string& source, const v1::CompliancePolicy& p) {
  for (const std::string& entry : p.host_path_allowlist()) {
    const absl::string_view allowed = absl::StripSuffix(entry, "/");
    if (source == allowed || absl::StartsWith(source, absl::StrCat(allowed, "/"))) {
      return true;
    }
  }
  return false;
}

// `restricted`: PSS-R-005 reports capabilities instead of PSS-B-002 (its allowlist is a
// subset of baseline's, so every B-002 finding would be repeated).
void Baseline(const ContainerFacts& f, const v1::CompliancePolicy& p, bool restricted, Findings* out) {
  constexpr auto kLevel = v1::COMPLIANCE_LEVEL_BASELINE;
  std::vector<std::string> shared;
  for (const char* ns : {"pid", "ipc", "network", "uts", "mount"}) {
    if (!f.namespaces.count(ns)) shared.push_back(ns);
  }
  if (!shared.empty()) {
    out->Add("PSS-B-001", kLevel, "linux.namespaces",
             absl::StrCat("shares the host's ", absl::StrJoin(shared, ", "),
                          " namespace", shared.size() > 1 ? "s" : "", ": add {\"type\": \"",
                          shared.front(), "\"} (and the others) to linux.namespaces"));
  }
  if (!restricted) Capabilities(f, Allowlist(p, BaselineCapabilities()), "PSS-B-002", kLevel, out);
  for (const ContainerFacts::HostMount& m : f.host_mounts) {
    if (UnderAllowlist(m.source, p)) continue;
    out->Add("PSS-B-003", kLevel, absl::StrCat(m.field, ".source"),
             absl::StrCat("binds host path ", m.source, ", which is not under host_path_allowlist (",
                          p.host_path_allowlist().empty() ? "empty" : absl::StrJoin(p.host_path_allowlist(), ", "),
                          ")"));
  }
  if (f.uid == 0 && !f.namespaces.count("user")) {
    out->Add("PSS-B-004", kLevel, "process.user.uid",
             "uid 0 without a user namespace of the bundle's own is host root: add {\"type\": \"user\"} "
             "with uidMappings, or run as another uid");
  }
}

void Restricted(const ContainerFacts& f, const v1::CompliancePolicy& p, Findings* out) {
  constexpr auto kLevel = v1::COMPLIANCE_LEVEL_RESTRICTED;
  if (!f.no_new_privileges) {
    out->Add("PSS-R-001", kLevel, "process.noNewPrivileges",
             "not true: setuid and file-capability binaries could gain privileges; set it to true");
  }
  if (!f.readonly_root) {
    out->Add("PSS-R-002", kLevel, "root.readonly",
             "the root filesystem is writable: set root.readonly to true and mount writable paths");
  }
  if (!f.memory_limit) {
    out->Add("PSS-R-003", kLevel, "linux.resources.memory.limit",
             "no memory limit: one container could take the host's memory; set a limit");
  }
  if (!f.seccomp) {
    out->Add("PSS-R-004", kLevel, "linux.seccomp",
             "no seccomp profile: every syscall is reachable; add one (the runtime default is fine)");
  }
  Capabilities(f, Allowlist(p, {"NET_BIND_SERVICE"}), "PSS-R-005", kLevel, out);
  if (f.uid == 0) {
    out->Add("PSS-R-006", kLevel, "process.user.uid", "runs as uid 0 inside the container: run as a non-root uid");
  }
}

}  // namespace

const std::vector<std::string>& BaselineCapabilities() {
  static const std::vector<std::string> kCaps = {"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE",     "FOWNER", "FSETID",
                                                 "KILL",        "MKNOD",  "NET_BIND_SERVICE", "SETFCAP", "SETGID",
                                                 "SETPCAP",     "SETUID", "SYS_CHROOT"};
  return kCaps;
}

std::vector<v1::Finding> CheckCompliance(const ContainerFacts& facts, const v1::CompliancePolicy& policy,
                                         v1::ComplianceLevel level) {
  if (level == v1::COMPLIANCE_LEVEL_UNSPECIFIED) level = policy.level();
  if (level == v1::COMPLIANCE_LEVEL_UNSPECIFIED) level = v1::COMPLIANCE_LEVEL_BASELINE;
  const v1::ComplianceMode mode =
      policy.mode() == v1::COMPLIANCE_MODE_UNSPECIFIED ? v1::COMPLIANCE_MODE_ENFORCE : policy.mode();
  std::vector<v1::Finding> out;
  Findings findings(mode, &out);
  Baseline(facts, policy, level == v1::COMPLIANCE_LEVEL_RESTRICTED, &findings);
  if (level == v1::COMPLIANCE_LEVEL_RESTRICTED) Restricted(facts, policy, &findings);
  return out;
}

}  // namespace secureos::ctr
