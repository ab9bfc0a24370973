// A validated, fully prepared spawn: everything the child needs between fork and exec,
// allocated and opened in the parent, so that the child only makes raw syscalls.
//
// BuildSpawnPlan validates the whole request once and reports every problem together
// (INVALID_ARGUMENT naming each field); it checks no policy (see capd_service.cc).
#ifndef SECUREOS_CAPD_SPAWN_PLAN_H_
#define SECUREOS_CAPD_SPAWN_PLAN_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cap_set.h"
#include "common/fd.h"
#include "proto/capd.pb.h"

namespace secureos::capd {

// Securebits every spawn gets, set and locked: uid 0 gains nothing at exec, uid changes do
// not touch capability sets, and keep-caps is locked (off).
uint32_t SpawnSecurebits();

struct SpawnPlan {
  std::string principal;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  CapSet caps;  // Becomes the bounding, inheritable, permitted, effective and ambient set.
  std::vector<std::pair<int, rlimit>> rlimits;
  uint32_t securebits = 0;
  std::string trace_id;

  // Opened by the parent (O_CLOEXEC), dup2'ed by the child.
  UniqueFd cgroup_procs;  // <cgroup>/cgroup.procs, or invalid for none.
  UniqueFd stdin_fd;      // /dev/null.
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
  // With OUTPUT_MODE_STREAM: the read ends the parent keeps.
  UniqueFd stdout_read;
  UniqueFd stderr_read;

  // NULL-terminated views of argv/env, valid while the plan lives.
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
};

// Validates `request` and opens what the child will need.
absl::StatusOr<SpawnPlan> BuildSpawnPlan(const v1::SpawnRequest& request);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SPAWN_PLAN_H_
