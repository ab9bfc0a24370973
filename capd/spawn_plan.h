// A validated, fully prepared spawn: everything the child needs between fork and exec,
// allocated and opened in the parent, so that the child only makes raw syscalls.
//
// BuildSpawnPlan validates the whole request once and reports every problem together
// (INVALID_ARGUMENT naming each field, "cgroups[1]: ...", "mounts.read_only_paths[0]: ...");
// it checks no policy (see capd_service.cc). Paths of the mount view are checked against
// the filesystem here (lstat: existing directories), so that the child only uses the
// prepared strings; an output file that is a FIFO with no reader is FAILED_PRECONDITION.
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

  // <cgroup>/cgroup.procs of each requested cgroup (one per hierarchy), opened by the parent
  // (O_WRONLY|O_CLOEXEC); the child writes "0" to each, in order. paths[i] names fds[i].
  std::vector<UniqueFd> cgroup_procs;
  std::vector<std::string> cgroup_paths;

  // The mount view (SpawnRequest.mounts). When private_mounts(), the child unshares its mount
  // namespace and applies it; every path is a normalized, existing directory.
  bool private_tmp = false;
  std::vector<std::string> read_only_paths;   // Required ones, then the optional ones found.
  std::vector<std::string> read_write_paths;
  bool private_mounts() const {
    return private_tmp || !read_only_paths.empty() || !read_write_paths.empty();
  }

  // Opened by the parent (O_CLOEXEC), dup2'ed by the child.
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

// Limits of a request (see SpawnRequest in proto/capd.proto).
inline constexpr int kMaxCgroups = 8;
inline constexpr int kMaxMountPaths = 64;  // Per list of MountView.

// Validates `request` and opens what the child will need.
absl::StatusOr<SpawnPlan> BuildSpawnPlan(const v1::SpawnRequest& request);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SPAWN_PLAN_H_
