#include "svcd/explain.h"

#include <string.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"
#include "svcd/level_policy.h"

namespace secureos::svcd {
namespace {

class Settings {
 public:
  explicit Settings(v1::ExplainResponse* out) : out_(out) {}
  void Add(std::string key, std::string value, std::string source) {
    v1::Setting* s = out_->add_settings();
    s->set_key(std::move(key));
    s->set_value(std::move(value));
    s->set_source(std::move(source));
  }

 private:
  v1::ExplainResponse* out_;
};

std::string LevelSource(int level) { return absl::StrCat("level ", level); }

std::string Ms(absl::Duration d) { return absl::FormatDuration(d); }

// Empty when `what` ("memory", "cpu", "pids") is not limited.
std::string Limit(const common::v1::ResourceLimits& l, const std::string& what) {
  if (what == "memory") return l.has_memory_bytes() ? absl::StrCat(l.memory_bytes(), " bytes") : "";
  if (what == "cpu") return l.has_cpu_millis() ? absl::StrCat(l.cpu_millis() / 1000.0, " CPU") : "";
  return l.has_pids() ? absl::StrCat(l.pids()) : "";
}

std::string RlimitText(const common::v1::Rlimit& r) {
  if (r.infinity()) return "infinity";
  return absl::StrCat(r.has_soft() ? absl::StrCat(r.soft()) : "-", "/",
                      r.has_hard() ? absl::StrCat(r.hard()) : "-");
}

void Identity(const ServiceSpec& s, Settings* out) {
  out->Add("user", absl::StrCat(s.def.user(), " (uid ", s.uid, ")"), "definition");
  out->Add("group", absl::StrCat(s.def.group().empty() ? "primary group" : s.def.group(), " (gid ", s.gid, ")"),
           s.def.group().empty() ? "svcd" : "definition");
  if (!s.groups.empty()) out->Add("supplementary_groups", absl::StrJoin(s.groups, ","), "definition");
  out->Add("capabilities", s.caps.empty() ? "none" : s.caps.ToString(),
           s.caps.empty() ? LevelSource(s.level()) : "definition");
  out->Add("no_new_privs", "yes", LevelSource(s.level()));
}

void Confinement(const ServiceSpec& s, const LaunchRequest& r, Settings* out) {
  const int level = s.level();
  const std::string lv = LevelSource(level);
  const v1::LevelOverrides& o = s.def.overrides();
  if (!r.sandboxed) {
    out->Add("launcher", "capd (host process)", lv);
    out->Add("securebits", "noroot, no-setuid-fixup, keep-caps locked", lv);
    out->Add("namespaces", level >= 2 ? "mount" : "none (the host's)", lv);
    out->Add("/tmp", level >= 2 ? "private tmpfs" : "the host's", lv);
    if (level >= 2) {
      out->Add("read-only", absl::StrJoin(ProtectedSystemPaths(), " "), lv);
    }
    if (!o.read_write_paths().empty()) out->Add("read-write", absl::StrJoin(o.read_write_paths(), " "), "override");
    if (!o.read_only_paths().empty()) out->Add("read-only (more)", absl::StrJoin(o.read_only_paths(), " "), "override");
    out->Add("network", "the host's", lv);
    out->Add("seccomp", "none", lv);
    return;
  }
  const sandboxd::v1::SandboxSpec& spec = r.create.spec();
  std::vector<std::string> ns;
  const sandboxd::v1::Namespaces& n = spec.namespaces();
  for (auto [on, name] : {std::pair{n.mount(), "mount"}, {n.pid(), "pid"}, {n.net(), "net"}, {n.uts(), "uts"},
                          {n.ipc(), "ipc"}, {n.user(), "user"}, {n.cgroup(), "cgroup"}, {n.time(), "time"}}) {
    if (on) ns.push_back(name);
  }
  out->Add("launcher", "sandboxd", lv);
  out->Add("namespaces", absl::StrJoin(ns, " "), o.user_namespace() && level == 3 ? "override" : lv);
  out->Add("root", level >= 5 ? "empty tmpfs with the system directories read-only" : "the host's /, read-only", lv);
  out->Add("/tmp", level >= 5 ? "none (declare a read-write path for scratch space)" : "private tmpfs", lv);
  out->Add("/run", "private tmpfs (the notify socket only)", "svcd");
  if (!o.read_write_paths().empty()) out->Add("read-write", absl::StrJoin(o.read_write_paths(), " "), "override");
  if (!o.read_only_paths().empty()) out->Add("read-only (more)", absl::StrJoin(o.read_only_paths(), " "), "override");
  const char* net = spec.network() == sandboxd::v1::NETWORK_MODE_NONE       ? "none"
                    : spec.network() == sandboxd::v1::NETWORK_MODE_LOOPBACK ? "loopback only"
                                                                             : "the host's";
  out->Add("network", net, o.network() != v1::NETWORK_UNSPECIFIED ? "override" : lv);
  out->Add("seccomp",
           s.seccomp.has_value() ? absl::StrCat("profile file ", o.seccomp_profile())
                                 : absl::StrCat("built-in \"", spec.seccomp().base(), "\""),
           s.seccomp.has_value() ? "override" : lv);
}

void Limits(const ServiceSpec& s, Settings* out) {
  const common::v1::ResourceLimits l = EffectiveLimits(s.def);
  const common::v1::ResourceLimits& given = s.def.limits();
  const std::string lv = LevelSource(s.level());
  for (const std::string what : {"memory", "cpu", "pids"}) {
    const std::string v = Limit(l, what);
    if (v.empty()) continue;
    const bool from_def = what == "memory" ? given.has_memory_bytes()
                          : what == "cpu"  ? given.has_cpu_millis()
                                           : given.has_pids();
    out->Add(absl::StrCat("limits.", what), v, from_def ? "definition" : lv);
  }
  for (const common::v1::Rlimit& r : l.rlimits()) {
    bool from_def = false;
    for (const common::v1::Rlimit& g : given.rlimits()) from_def = from_def || g.resource() == r.resource();
    out->Add(absl::StrCat("rlimit.", absl::AsciiStrToLower(absl::StripPrefix(
                                         common::v1::RlimitResource_Name(r.resource()), "RLIMIT_RESOURCE_"))),
             RlimitText(r),
             from_def ? "definition" : lv);
  }
}

void Supervision(const ServiceSpec& s, Settings* out) {
  const v1::ServiceDefinition& d = s.def;
  const v1::RestartPolicy restart = d.restart() == v1::RESTART_POLICY_UNSPECIFIED ? v1::RESTART_POLICY_NO : d.restart();
  out->Add("restart", v1::RestartPolicy_Name(restart), d.restart() == v1::RESTART_POLICY_UNSPECIFIED ? "svcd" : "definition");
  out->Add("restart_backoff",
           absl::StrCat(Ms(s.backoff.initial), " x", s.backoff.multiplier, " up to ", Ms(s.backoff.max)),
           d.has_restart_backoff() ? "definition" : "svcd");
  out->Add("start_limit", absl::StrCat(s.start_burst, " starts in ", Ms(s.start_interval)),
           d.has_start_limit() ? "definition" : "svcd");
  out->Add("stop", absl::StrCat("SIG", sigabbrev_np(s.stop_signal) ? sigabbrev_np(s.stop_signal) : "?", ", SIGKILL after ",
                                Ms(s.stop_timeout)),
           d.stop_signal().empty() && !d.has_stop_timeout_ms() ? "svcd" : "definition");
  const bool notify = d.readiness() == v1::READINESS_NOTIFY;
  out->Add("readiness", notify ? absl::StrCat("READY=1 within ", Ms(s.ready_timeout)) : "when launched",
           d.readiness() == v1::READINESS_UNSPECIFIED ? "svcd" : "definition");
  if (s.watchdog > absl::ZeroDuration()) out->Add("watchdog", Ms(s.watchdog), "definition");
}

}  // namespace

absl::StatusOr<v1::ExplainResponse> ExplainService(const ServiceSpec& spec, const LaunchContext& ctx) {
  SECUREOS_ASSIGN_OR_RETURN(LaunchRequest request, PlanLaunch(spec, ctx));
  v1::ExplainResponse out;
  out.set_name(spec.name());
  out.set_level(spec.level());
  out.set_level_summary(LevelSummary(spec.level()));
  out.set_launcher(request.sandboxed ? "sandboxd" : "capd");
  Settings settings(&out);
  Identity(spec, &settings);
  Confinement(spec, request, &settings);
  Limits(spec, &settings);
  Supervision(spec, &settings);
  std::string text;
  google::protobuf::TextFormat::PrintToString(
      request.sandboxed ? static_cast<const google::protobuf::Message&>(request.create)
                        : static_cast<const google::protobuf::Message&>(request.spawn),
      &text);
  out.set_launch_request(std::move(text));
  return out;
}

}  // namespace secureos::svcd
