#include "capd/spawn_plan.h"

#include <fcntl.h>
#include <linux/securebits.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capd/principal.h"
#include "common/field_errors.h"
#include "common/process_spec.h"
#include "common/status.h"

namespace secureos::capd {
namespace {

bool Absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

void CheckOutput(const v1::SpawnRequest& r, FieldErrors* errors) {
  if (r.output() == v1::OUTPUT_MODE_FILES) {
    if (!Absolute(r.stdout_path())) errors->Add("stdout_path", "required, absolute, with OUTPUT_MODE_FILES");
    if (!Absolute(r.stderr_path())) errors->Add("stderr_path", "required, absolute, with OUTPUT_MODE_FILES");
  } else if (!r.stdout_path().empty() || !r.stderr_path().empty()) {
    errors->Add("stdout_path", "only with OUTPUT_MODE_FILES");
  }
}

absl::Status OpenOutputs(const v1::SpawnRequest& r, SpawnPlan* plan) {
  Stdio stdio;
  switch (r.output()) {
    case v1::OUTPUT_MODE_FILES: {
      SECUREOS_ASSIGN_OR_RETURN(stdio.in, OpenFile("/dev/null", O_RDONLY));
      const int flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW;
      SECUREOS_ASSIGN_OR_RETURN(stdio.out, OpenFile(r.stdout_path(), flags, 0640));
      SECUREOS_ASSIGN_OR_RETURN(stdio.err, OpenFile(r.stderr_path(), flags, 0640));
      break;
    }
    case v1::OUTPUT_MODE_STREAM:
      SECUREOS_RETURN_IF_ERROR(OpenStreamedStdio(&stdio));
      break;
    default:
      SECUREOS_RETURN_IF_ERROR(OpenNullStdio(&stdio));
  }
  plan->stdin_fd = std::move(stdio.in);
  plan->stdout_fd = std::move(stdio.out);
  plan->stderr_fd = std::move(stdio.err);
  plan->stdout_read = std::move(stdio.out_read);
  plan->stderr_read = std::move(stdio.err_read);
  return absl::OkStatus();
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
  CheckArgvEnv(r.argv(), r.env(), &errors);
  if (!r.cwd().empty() && !Absolute(r.cwd())) errors.Add("cwd", "must be an absolute path");
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
    if (auto lim = CheckRlimit(r.rlimits(i), absl::StrCat("rlimits[", i, "]"), &errors)) {
      plan.rlimits.push_back(*lim);
    }
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
  plan.argv_ptrs = CStringArray(plan.argv);
  plan.env_ptrs = CStringArray(plan.env);
  return plan;
}

}  // namespace secureos::capd
