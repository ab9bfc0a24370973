#include "capd/spawn_plan.h"

#include <fcntl.h>
#include <linux/securebits.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capd/principal.h"
#include "common/field_errors.h"
#include "common/status.h"

namespace secureos::capd {
namespace {

using common::v1::Rlimit;

bool Absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

absl::StatusOr<int> RlimitResource(common::v1::RlimitResource r) {
  switch (r) {
    case common::v1::RLIMIT_RESOURCE_AS: return RLIMIT_AS;
    case common::v1::RLIMIT_RESOURCE_CPU: return RLIMIT_CPU;
    case common::v1::RLIMIT_RESOURCE_FSIZE: return RLIMIT_FSIZE;
    case common::v1::RLIMIT_RESOURCE_NOFILE: return RLIMIT_NOFILE;
    case common::v1::RLIMIT_RESOURCE_NPROC: return RLIMIT_NPROC;
    case common::v1::RLIMIT_RESOURCE_STACK: return RLIMIT_STACK;
    case common::v1::RLIMIT_RESOURCE_CORE: return RLIMIT_CORE;
    default: return absl::InvalidArgumentError("resource: required");
  }
}

void CheckRlimit(const Rlimit& r, const std::string& field, SpawnPlan* plan, FieldErrors* errors) {
  absl::StatusOr<int> resource = RlimitResource(r.resource());
  if (!resource.ok()) {
    errors->Add(field + ".resource", "required (RLIMIT_RESOURCE_*)");
    return;
  }
  rlimit lim;
  if (r.infinity()) {
    if (r.has_soft() || r.has_hard()) errors->Add(field, "infinity excludes soft and hard");
    lim.rlim_cur = lim.rlim_max = RLIM_INFINITY;
  } else {
    if (!r.has_hard()) {
      errors->Add(field + ".hard", "required (or infinity: true)");
      return;
    }
    lim.rlim_max = r.hard();
    lim.rlim_cur = r.has_soft() ? r.soft() : r.hard();
    if (lim.rlim_max == RLIM_INFINITY || lim.rlim_cur == RLIM_INFINITY) {
      errors->Add(field, "use infinity: true for RLIM_INFINITY");
    }
    if (lim.rlim_cur > lim.rlim_max) errors->Add(field + ".soft", "must not exceed hard");
  }
  plan->rlimits.emplace_back(*resource, lim);
}

void CheckArgvEnv(const v1::SpawnRequest& r, FieldErrors* errors) {
  if (r.argv().empty()) {
    errors->Add("argv", "required: at least the program to run");
  } else if (!Absolute(r.argv(0))) {
    errors->Add("argv[0]", absl::StrCat("must be an absolute path, got \"", r.argv(0), "\""));
  }
  for (int i = 0; i < r.argv_size(); ++i) {
    if (HasNul(r.argv(i))) errors->Add(absl::StrCat("argv[", i, "]"), "contains a NUL byte");
  }
  for (int i = 0; i < r.env_size(); ++i) {
    const std::string& e = r.env(i);
    if (e.find('=') == std::string::npos || e[0] == '=' || HasNul(e)) {
      errors->Add(absl::StrCat("env[", i, "]"), "must be KEY=value without NUL bytes");
    }
  }
  if (!r.cwd().empty() && !Absolute(r.cwd())) errors->Add("cwd", "must be an absolute path");
}

void CheckOutput(const v1::SpawnRequest& r, FieldErrors* errors) {
  if (r.output() == v1::OUTPUT_MODE_FILES) {
    if (!Absolute(r.stdout_path())) errors->Add("stdout_path", "required, absolute, with OUTPUT_MODE_FILES");
    if (!Absolute(r.stderr_path())) errors->Add("stderr_path", "required, absolute, with OUTPUT_MODE_FILES");
  } else if (!r.stdout_path().empty() || !r.stderr_path().empty()) {
    errors->Add("stdout_path", "only with OUTPUT_MODE_FILES");
  }
}

absl::Status OpenOutputs(const v1::SpawnRequest& r, SpawnPlan* plan) {
  SECUREOS_ASSIGN_OR_RETURN(plan->stdin_fd, OpenFile("/dev/null", O_RDONLY));
  switch (r.output()) {
    case v1::OUTPUT_MODE_FILES: {
      const int flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW;
      SECUREOS_ASSIGN_OR_RETURN(plan->stdout_fd, OpenFile(r.stdout_path(), flags, 0640));
      SECUREOS_ASSIGN_OR_RETURN(plan->stderr_fd, OpenFile(r.stderr_path(), flags, 0640));
      return absl::OkStatus();
    }
    case v1::OUTPUT_MODE_STREAM: {
      for (auto [read_end, write_end] : {std::pair{&plan->stdout_read, &plan->stdout_fd},
                                         std::pair{&plan->stderr_read, &plan->stderr_fd}}) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
        read_end->Reset(p[0]);
        write_end->Reset(p[1]);
        if (::fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) return ErrnoToStatus(errno, "fcntl");
      }
      return absl::OkStatus();
    }
    default:
      SECUREOS_ASSIGN_OR_RETURN(plan->stdout_fd, OpenFile("/dev/null", O_WRONLY));
      SECUREOS_ASSIGN_OR_RETURN(plan->stderr_fd, OpenFile("/dev/null", O_WRONLY));
      return absl::OkStatus();
  }
}

}  // namespace

uint32_t SpawnSecurebits() {
  return SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
}

absl::StatusOr<SpawnPlan> BuildSpawnPlan(const v1::SpawnRequest& r) {
  SpawnPlan plan;
  FieldErrors errors;
  absl::StatusOr<std::string> principal = ParsePrincipal(r.principal());
  if (principal.ok()) {
    plan.principal = *principal;
  } else {
    errors.Add("principal", r.principal().empty() ? "required" : principal.status().message());
  }
  CheckArgvEnv(r, &errors);
  RequireFields(r, {"uid", "gid"}, "", &errors);
  if (r.has_uid() && r.uid() == 0xffffffffu) errors.Add("uid", "4294967295 is not a uid");
  if (r.has_gid() && r.gid() == 0xffffffffu) errors.Add("gid", "4294967295 is not a gid");
  absl::StatusOr<CapSet> caps = CapSet::Parse(r.capabilities());
  if (caps.ok()) {
    plan.caps = *caps;
  } else {
    errors.Add("capabilities", caps.status().message());
  }
  if (!r.cgroup().empty() && !Absolute(r.cgroup())) errors.Add("cgroup", "must be an absolute path");
  for (int i = 0; i < r.rlimits_size(); ++i) {
    CheckRlimit(r.rlimits(i), absl::StrCat("rlimits[", i, "]"), &plan, &errors);
  }
  CheckOutput(r, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());

  plan.argv.assign(r.argv().begin(), r.argv().end());
  plan.env.assign(r.env().begin(), r.env().end());
  if (!r.cwd().empty()) plan.cwd = r.cwd();
  plan.uid = r.uid();
  plan.gid = r.gid();
  plan.groups.assign(r.groups().begin(), r.groups().end());
  plan.securebits = SpawnSecurebits();
  plan.trace_id = r.trace_id();
  if (!r.cgroup().empty()) {
    absl::StatusOr<UniqueFd> procs = OpenFile(r.cgroup() + "/cgroup.procs", O_WRONLY);
    if (!procs.ok()) return absl::InvalidArgumentError(absl::StrCat("cgroup: ", procs.status().message()));
    plan.cgroup_procs = std::move(*procs);
  }
  SECUREOS_RETURN_IF_ERROR(OpenOutputs(r, &plan));
  for (std::string& a : plan.argv) plan.argv_ptrs.push_back(a.data());
  plan.argv_ptrs.push_back(nullptr);
  for (std::string& e : plan.env) plan.env_ptrs.push_back(e.data());
  plan.env_ptrs.push_back(nullptr);
  return plan;
}

}  // namespace secureos::capd
