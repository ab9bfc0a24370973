#include "svcd/launch_plan.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "sandboxd/level_presets.h"
#include "svcd/level_policy.h"

namespace secureos::svcd {
namespace {

using sandboxd::v1::MountEntry;
using sandboxd::v1::SandboxSpec;

std::vector<std::string> Environment(const ServiceSpec& s, const std::string& notify_socket) {
  std::vector<std::string> env(s.def.env().begin(), s.def.env().end());
  if (!notify_socket.empty()) env.push_back(absl::StrCat("NOTIFY_SOCKET=", notify_socket));
  if (s.watchdog > absl::ZeroDuration()) {
    env.push_back(absl::StrCat("WATCHDOG_USEC=", absl::ToInt64Microseconds(s.watchdog)));
  }
  return env;
}

capd::v1::SpawnRequest Spawn(const ServiceSpec& s, const LaunchContext& ctx) {
  capd::v1::SpawnRequest r;
  r.set_principal(ServicePrincipal(s));
  *r.mutable_argv() = s.def.argv();
  for (std::string& e : Environment(s, ctx.notify_socket)) r.add_env(std::move(e));
  r.set_cwd(s.def.working_directory());
  r.set_uid(s.uid);
  r.set_gid(s.gid);
  for (gid_t g : s.groups) r.add_groups(g);
  r.set_capabilities(s.caps.ToString());
  for (const std::string& c : ctx.cgroups) r.add_cgroups(c);
  *r.mutable_rlimits() = EffectiveLimits(s.def).rlimits();
  r.set_output(capd::v1::OUTPUT_MODE_FILES);
  r.set_stdout_path(ctx.log_path);
  r.set_stderr_path(ctx.log_path);
  r.set_trace_id(ctx.trace_id);
  if (s.level() >= 2) {
    capd::v1::MountView* m = r.mutable_mounts();
    m->set_private_tmp(true);
    for (const std::string& p : ProtectedSystemPaths()) m->add_optional_read_only_paths(p);
    *m->mutable_read_only_paths() = s.def.overrides().read_only_paths();
    *m->mutable_read_write_paths() = s.def.overrides().read_write_paths();
  }
  return r;
}

void Bind(SandboxSpec* spec, sandboxd::v1::MountKind kind, const std::string& source,
          const std::string& target) {
  MountEntry* e = spec->mutable_filesystem()->add_entries();
  e->set_kind(kind);
  e->set_source(source);
  e->set_target(target);
}

void Network(const ServiceSpec& s, SandboxSpec* spec) {
  switch (s.def.overrides().network()) {
    case v1::NETWORK_NONE:
      spec->set_network(sandboxd::v1::NETWORK_MODE_NONE);
      spec->mutable_namespaces()->set_net(true);
      break;
    case v1::NETWORK_LOOPBACK:
      spec->set_network(sandboxd::v1::NETWORK_MODE_LOOPBACK);
      spec->mutable_namespaces()->set_net(true);
      break;
    default:
      break;  // The level's.
  }
}

absl::StatusOr<SandboxSpec> Sandbox(const ServiceSpec& s, const LaunchContext& ctx) {
  SandboxSpec spec;
  SECUREOS_RETURN_IF_ERROR(sandboxd::ApplyLevelPreset(s.level(), &spec));
  const v1::LevelOverrides& o = s.def.overrides();
  if (o.user_namespace()) {
    spec.mutable_namespaces()->set_user(true);
    spec.mutable_namespaces()->set_cgroup(true);
  }
  Network(s, &spec);
  spec.set_name(s.name());
  *spec.mutable_argv() = s.def.argv();
  for (std::string& e : Environment(s, ctx.notify_socket.empty() ? "" : kSandboxNotifySocket)) {
    spec.add_env(std::move(e));
  }
  spec.set_uid(s.uid);
  spec.set_gid(s.gid);
  spec.set_capabilities(s.caps.ToString());
  *spec.mutable_limits() = EffectiveLimits(s.def);
  if (!s.def.working_directory().empty()) spec.mutable_filesystem()->set_cwd(s.def.working_directory());
  for (const std::string& p : o.read_only_paths()) Bind(&spec, sandboxd::v1::MOUNT_KIND_RO_BIND, p, p);
  for (const std::string& p : o.read_write_paths()) Bind(&spec, sandboxd::v1::MOUNT_KIND_RW_BIND, p, p);
  // The host's /run holds every daemon's socket: hidden, with only the notify socket in it.
  MountEntry* run = spec.mutable_filesystem()->add_entries();
  run->set_kind(sandboxd::v1::MOUNT_KIND_TMPFS);
  run->set_target("/run");
  run->set_size("1m");
  run->set_mode("0755");
  if (!ctx.notify_socket.empty()) {
    Bind(&spec, sandboxd::v1::MOUNT_KIND_RW_BIND, ctx.notify_socket, kSandboxNotifySocket);
  }
  if (s.seccomp.has_value()) *spec.mutable_seccomp() = *s.seccomp;
  return spec;
}

}  // namespace

std::string ServicePrincipal(const ServiceSpec& spec) {
  return absl::StrCat(Sandboxed(spec.level()) ? "sandbox:" : "service:", spec.name());
}

absl::StatusOr<LaunchRequest> PlanLaunch(const ServiceSpec& spec, const LaunchContext& ctx) {
  LaunchRequest r;
  r.sandboxed = Sandboxed(spec.level());
  if (!r.sandboxed) {
    r.spawn = Spawn(spec, ctx);
    return r;
  }
  SECUREOS_ASSIGN_OR_RETURN(*r.create.mutable_spec(), Sandbox(spec, ctx));
  r.create.set_output(sandboxd::v1::OUTPUT_MODE_FILES);
  r.create.set_stdout_path(ctx.log_path);
  r.create.set_stderr_path(ctx.log_path);
  r.create.set_trace_id(ctx.trace_id);
  return r;
}

}  // namespace secureos::svcd

namespace secureos::svcd {

absl::Status VerifyPlanMeetsLevel(const ServiceSpec& spec) {
  if (!Sandboxed(spec.level())) return absl::OkStatus();
  SECUREOS_ASSIGN_OR_RETURN(LaunchRequest r, PlanLaunch(spec, LaunchContext{}));
  return sandboxd::VerifyLevel(r.create.spec());
}

}  // namespace secureos::svcd
