#include "sandboxd/workload_plan.h"

#include <linux/sched.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/cap_set.h"
#include "common/field_errors.h"
#include "common/process_spec.h"
#include "common/status.h"
#include "sandboxd/level_presets.h"
#include "sandboxd/net/bridge.h"
#include "sandboxd/seccomp/profile.h"

namespace secureos::sandboxd {
namespace {

constexpr rlim_t kDefaultNofileSoft = 1024;
constexpr rlim_t kDefaultNofileHard = 4096;
constexpr rlim_t kMaxNofileHard = (1 << 20) - 1;  // Below the kernel's default nr_open.
constexpr uint64_t kMinMemoryBytes = 1 << 20;
constexpr uint64_t kMaxTimeoutMs = 30ull * 24 * 3600 * 1000;

bool ValidName(const std::string& s, size_t max, bool allow_underscore) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && !(allow_underscore && c == '_')) return false;
  }
  return true;
}

bool HasTimeNamespace() { return ::access("/proc/self/ns/time", F_OK) == 0; }

uint64_t CloneFlags(const v1::Namespaces& ns) {
  uint64_t f = 0;
  if (ns.mount()) f |= CLONE_NEWNS;
  if (ns.pid()) f |= CLONE_NEWPID;
  if (ns.net()) f |= CLONE_NEWNET;
  if (ns.uts()) f |= CLONE_NEWUTS;
  if (ns.ipc()) f |= CLONE_NEWIPC;
  if (ns.user()) f |= CLONE_NEWUSER;
  if (ns.cgroup()) f |= CLONE_NEWCGROUP;
  if (ns.time()) f |= CLONE_NEWTIME;
  return f;
}

// The network mode decides the net namespace; an explicit flag must agree with it.
void CheckNetwork(v1::SandboxSpec* spec, WorkloadPlan* plan, FieldErrors* errors) {
  if (spec->network() == v1::NETWORK_MODE_UNSPECIFIED) spec->set_network(v1::NETWORK_MODE_NONE);
  if (spec->network() == v1::NETWORK_MODE_BRIDGE) {
    absl::StatusOr<BridgePlan> bridge = ParseBridge(spec->bridge());
    if (bridge.ok()) {
      plan->bridge = *bridge;
    } else {
      errors->Merge("bridge", bridge.status());
    }
  } else if (spec->has_bridge()) {
    errors->Add("bridge", "needs network: NETWORK_MODE_BRIDGE");
  }
  const bool host = spec->network() == v1::NETWORK_MODE_HOST;
  if (host && spec->namespaces().net()) {
    errors->Add("namespaces.net", "contradicts network: NETWORK_MODE_HOST");
  }
  spec->mutable_namespaces()->set_net(!host);
  if (spec->namespaces().time() && !HasTimeNamespace()) {
    errors->Add("namespaces.time", "this kernel has no time namespaces");
  }
}

std::string MapText(const google::protobuf::RepeatedPtrField<v1::IdMapEntry>& map) {
  std::string text;
  for (const auto& e : map) absl::StrAppend(&text, e.inside(), " ", e.outside(), " ", e.count(), "\n");
  return text;
}

bool Mapped(const google::protobuf::RepeatedPtrField<v1::IdMapEntry>& map, uint32_t id) {
  for (const auto& e : map) {
    if (id >= e.inside() && id - e.inside() < e.count()) return true;
  }
  return false;
}

void CheckMap(google::protobuf::RepeatedPtrField<v1::IdMapEntry>* map, const char* field,
              uint32_t inside, const PlanContext& ctx, FieldErrors* errors) {
  if (map->empty()) {
    v1::IdMapEntry* e = map->Add();
    e->set_inside(inside);
    e->set_outside(ctx.workload_uid);
    e->set_count(1);
    return;
  }
  const uint64_t lo = ctx.workload_uid, hi = lo + ctx.id_map_count;
  const uint64_t clo = ctx.container_id_start, chi = clo + ctx.container_id_count;
  for (int i = 0; i < map->size(); ++i) {
    const v1::IdMapEntry& e = map->Get(i);
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (e.count() == 0) errors->Add(f + ".count", "must be at least 1");
    const uint64_t end = uint64_t{e.outside()} + e.count();
    const bool in_workload = e.outside() >= lo && end <= hi;
    const bool in_containers = ctx.container_id_count > 0 && e.outside() >= clo && end <= chi;
    if (!in_workload && !in_containers) {
      std::string allowed = absl::StrCat(lo, "-", hi - 1, " (workload_uid, id_map_count)");
      if (ctx.container_id_count > 0) {
        absl::StrAppend(&allowed, " or ", clo, "-", chi - 1, " (container_id_start, container_id_count)");
      }
      errors->Add(f + ".outside", "host ids must lie in " + allowed);
    }
  }
}

void CheckIdentity(v1::SandboxSpec* spec, const PlanContext& ctx, FieldErrors* errors) {
  if (spec->namespaces().user()) {
    if (!spec->has_uid()) spec->set_uid(0);
    if (!spec->has_gid()) spec->set_gid(0);
    CheckMap(spec->mutable_uid_map(), "uid_map", spec->uid(), ctx, errors);
    CheckMap(spec->mutable_gid_map(), "gid_map", spec->gid(), ctx, errors);
    if (!Mapped(spec->uid_map(), spec->uid())) errors->Add("uid", "not mapped by uid_map");
    if (!Mapped(spec->gid_map(), spec->gid())) errors->Add("gid", "not mapped by gid_map");
    return;
  }
  if (!spec->uid_map().empty()) errors->Add("uid_map", "needs namespaces.user");
  if (!spec->gid_map().empty()) errors->Add("gid_map", "needs namespaces.user");
  if (!spec->has_uid()) spec->set_uid(ctx.workload_uid);
  if (!spec->has_gid()) spec->set_gid(ctx.workload_uid);
  if (spec->uid() == 0) errors->Add("uid", "0 on the host needs namespaces.user");
  if (spec->gid() == 0) errors->Add("gid", "0 on the host needs namespaces.user");
}

void CheckHostname(v1::SandboxSpec* spec, FieldErrors* errors) {
  if (!spec->namespaces().uts()) {
    if (!spec->hostname().empty()) errors->Add("hostname", "needs namespaces.uts");
    return;
  }
  if (spec->hostname().empty()) spec->set_hostname("sandbox");
  if (!ValidName(spec->hostname(), 64, false)) {
    errors->Add("hostname", "1-64 letters, digits, '.' or '-'");
  }
}

std::optional<FsPlan> CheckFilesystem(v1::SandboxSpec* spec, FieldErrors* errors) {
  v1::Filesystem* fs = spec->mutable_filesystem();
  if (fs->cwd().empty()) fs->set_cwd("/");
  if (!spec->namespaces().mount()) {
    if (fs->root() == v1::Filesystem::ROOT_TMPFS || !fs->entries().empty()) {
      errors->Add("filesystem", "a filesystem view needs namespaces.mount");
    }
    return std::nullopt;
  }
  if (fs->root() == v1::Filesystem::ROOT_UNSPECIFIED) fs->set_root(v1::Filesystem::ROOT_HOST_READ_ONLY);
  absl::StatusOr<FsPlan> plan =
      BuildFsPlan(*fs, spec->namespaces().pid(), spec->namespaces().user());
  if (!plan.ok()) {
    errors->Merge("filesystem", plan.status());
    return std::nullopt;
  }
  return std::move(*plan);
}

// Returns the hard RLIMIT_NOFILE (the launch socket's number).
rlim_t CheckLimits(v1::SandboxSpec* spec, WorkloadPlan* plan, FieldErrors* errors) {
  common::v1::ResourceLimits* l = spec->mutable_limits();
  if (l->has_memory_bytes()) {
    if (l->memory_bytes() < kMinMemoryBytes) errors->Add("limits.memory_bytes", "at least 1 MiB");
    plan->cgroup.memory_bytes = l->memory_bytes();
  }
  if (l->has_cpu_millis()) {
    const uint32_t max = 1000 * std::max(1u, std::thread::hardware_concurrency());
    if (l->cpu_millis() == 0 || l->cpu_millis() > max) {
      errors->Add("limits.cpu_millis", absl::StrCat("from 1 to ", max, " (this host's CPUs)"));
    }
    plan->cgroup.cpu_millis = l->cpu_millis();
  }
  if (l->has_pids()) {
    if (l->pids() == 0) errors->Add("limits.pids", "at least 1");
    plan->cgroup.pids = l->pids();
  }
  bool has_nofile = false;
  for (int i = 0; i < l->rlimits_size(); ++i) {
    const std::string field = absl::StrCat("limits.rlimits[", i, "]");
    auto lim = CheckRlimit(l->rlimits(i), field, errors);
    if (!lim) continue;
    if (lim->first == RLIMIT_NOFILE) {
      has_nofile = true;
      if (lim->second.rlim_max > kMaxNofileHard || lim->second.rlim_max < 16) {
        errors->Add(field + ".hard", absl::StrCat("RLIMIT_NOFILE: from 16 to ", kMaxNofileHard));
      }
    }
    plan->launch.rlimits.push_back(*lim);
  }
  if (!has_nofile) {
    common::v1::Rlimit* r = l->add_rlimits();
    r->set_resource(common::v1::RLIMIT_RESOURCE_NOFILE);
    r->set_soft(kDefaultNofileSoft);
    r->set_hard(kDefaultNofileHard);
    plan->launch.rlimits.push_back({RLIMIT_NOFILE, rlimit{kDefaultNofileSoft, kDefaultNofileHard}});
  }
  for (const auto& [resource, lim] : plan->launch.rlimits) {
    if (resource == RLIMIT_NOFILE) return lim.rlim_max;
  }
  return kDefaultNofileHard;
}

void CheckCapabilities(const v1::SandboxSpec& spec, WorkloadPlan* plan, FieldErrors* errors) {
  if (spec.capabilities().empty()) return;
  if (!spec.namespaces().user()) {
    errors->Add("capabilities", "kept capabilities need namespaces.user (never on the host)");
    return;
  }
  absl::StatusOr<CapSet> caps = CapSet::Parse(spec.capabilities());
  if (!caps.ok()) {
    errors->Add("capabilities", caps.status().message());
    return;
  }
  plan->launch.keep_caps = caps->mask();
}

void CheckSeccomp(v1::SandboxSpec* spec, int launcher_fd, FilterCache* filters, WorkloadPlan* plan,
                  FieldErrors* errors) {
  if (spec->learn() && spec->has_seccomp()) {
    errors->Add("seccomp", "learning mode records under its own filter; leave seccomp unset");
    return;
  }
  if (!spec->has_seccomp()) spec->mutable_seccomp()->set_base("default");
  absl::StatusOr<v1::SeccompProfile> resolved = ResolveProfile(spec->seccomp());
  if (!resolved.ok()) {
    errors->Merge("seccomp", resolved.status());
    return;
  }
  absl::StatusOr<std::shared_ptr<const CompiledFilter>> filter =
      filters != nullptr ? filters->Get(*resolved, spec->learn(), launcher_fd)
                         : CompiledFilter::Compile(*resolved, spec->learn(), launcher_fd);
  if (!filter.ok()) {
    errors->Merge("seccomp", filter.status());
    return;
  }
  plan->filter = std::move(*filter);
}

void CheckTop(v1::SandboxSpec* spec, WorkloadPlan* plan, FieldErrors* errors) {
  if (!spec->name().empty() && !ValidName(spec->name(), 64, true)) {
    errors->Add("name", "1-64 letters, digits, '.', '_' or '-'");
  }
  CheckArgvEnv(spec->argv(), spec->env(), errors);
  if (spec->timeout_ms() > kMaxTimeoutMs) errors->Add("timeout_ms", "at most 30 days");
  if (spec->timeout_ms() > 0) plan->timeout = absl::Milliseconds(spec->timeout_ms());
}

void CheckOutputPath(const std::string& path, const char* field, bool files, FieldErrors* errors) {
  if (!files) {
    if (!path.empty()) errors->Add(field, "only with output: OUTPUT_MODE_FILES");
    return;
  }
  if (path.empty()) {
    errors->Add(field, "required with output: OUTPUT_MODE_FILES");
  } else if (path[0] != '/' || path.find('\0') != std::string::npos) {
    errors->Add(field, absl::StrCat("must be an absolute host path without NUL bytes, got \"",
                                    absl::CEscape(path), "\""));
  }
}

void CheckOutput(const OutputRequest& output, FieldErrors* errors) {
  switch (output.mode) {
    case v1::OUTPUT_MODE_NULL:
    case v1::OUTPUT_MODE_STREAM:
    case v1::OUTPUT_MODE_FILES:
      break;
    default:
      errors->Add("output", absl::StrCat("unknown value ", output.mode));
  }
  const bool files = output.mode == v1::OUTPUT_MODE_FILES;
  CheckOutputPath(output.stdout_path, "stdout_path", files, errors);
  CheckOutputPath(output.stderr_path, "stderr_path", files, errors);
}

absl::Status OpenStdio(const OutputRequest& output, Stdio* stdio) {
  switch (output.mode) {
    case v1::OUTPUT_MODE_STREAM:
      return OpenStreamedStdio(stdio);
    case v1::OUTPUT_MODE_FILES:
      return OpenFileStdio(output.stdout_path, output.stderr_path, stdio);
    default:
      return OpenNullStdio(stdio);
  }
}

}  // namespace

absl::StatusOr<WorkloadPlan> BuildWorkloadPlan(const v1::SandboxSpec& request,
                                               const OutputRequest& output,
                                               const PlanContext& context, bool one_shot) {
  WorkloadPlan plan;
  plan.spec = request;
  v1::SandboxSpec* spec = &plan.spec;
  FieldErrors errors;
  CheckTop(spec, &plan, &errors);
  CheckOutput(output, &errors);
  CheckNetwork(spec, &plan, &errors);
  CheckIdentity(spec, context, &errors);
  CheckHostname(spec, &errors);
  std::optional<FsPlan> fs = CheckFilesystem(spec, &errors);
  const rlim_t nofile = CheckLimits(spec, &plan, &errors);
  CheckCapabilities(*spec, &plan, &errors);
  CheckSeccomp(spec, static_cast<int>(nofile), context.filters, &plan, &errors);
  errors.Merge("level", VerifyLevel(*spec));
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());

  LaunchPlan& l = plan.launch;
  l.clone_flags = CloneFlags(spec->namespaces());
  l.uid_map = MapText(spec->uid_map());
  l.gid_map = MapText(spec->gid_map());
  l.uid = spec->uid();
  l.gid = spec->gid();
  l.hostname = spec->hostname();
  l.loopback = spec->network() == v1::NETWORK_MODE_LOOPBACK || spec->network() == v1::NETWORK_MODE_BRIDGE;
  l.fs = std::move(fs);
  l.cwd = spec->filesystem().cwd();
  l.launcher_fd = static_cast<int>(nofile);
  l.seccomp = plan.filter != nullptr ? plan.filter->program() : nullptr;
  l.die_with_parent = one_shot;
  l.argv.assign(spec->argv().begin(), spec->argv().end());
  l.env.assign(spec->env().begin(), spec->env().end());
  SECUREOS_RETURN_IF_ERROR(OpenStdio(output, &l.stdio));
  return plan;
}

absl::Status CheckExecRequest(const v1::ExecRequest& request) {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  if (request.argv().empty()) return absl::InvalidArgumentError("argv: required: at least the program to run");
  return absl::OkStatus();
}

absl::StatusOr<WorkloadPlan> BuildExecPlan(const v1::SandboxSpec& target, const v1::ExecRequest& request,
                                           const PlanContext& context) {
  SECUREOS_RETURN_IF_ERROR(CheckExecRequest(request));
  v1::SandboxSpec spec = target;
  spec.mutable_argv()->CopyFrom(request.argv());
  if (!request.env().empty()) spec.mutable_env()->CopyFrom(request.env());
  if (!request.cwd().empty()) spec.mutable_filesystem()->set_cwd(request.cwd());
  spec.set_timeout_ms(0);
  spec.set_learn(false);
  OutputRequest output;
  output.mode = v1::OUTPUT_MODE_STREAM;
  SECUREOS_ASSIGN_OR_RETURN(WorkloadPlan plan, BuildWorkloadPlan(spec, output, context, /*one_shot=*/true));
  LaunchPlan& l = plan.launch;
  l.join_flags = l.clone_flags;
  l.clone_flags = 0;
  l.fs.reset();  // The workload's view is there already; cwd is entered by chdir.
  l.loopback = false;
  l.hostname.clear();
  plan.bridge.reset();  // The workload's eth0 is there already.
  return plan;
}

}  // namespace secureos::sandboxd
