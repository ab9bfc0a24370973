// Verifying a running service against its level: what the process really has, compared
// with what the level and the definition promise (level_policy.h LevelExpectations).
//
// Capabilities and no_new_privs come from capd (the capability authority reads any
// process); namespaces, seccomp mode, mounts and cgroup limits from /proc and the cgroup
// filesystems. "The host" is svcd's own namespaces and mounts (pid 0 to the inspector). Every check is reported, passing
// or not, so `secctl svc explain` shows the evidence, not only a verdict.
#ifndef SECUREOS_SVCD_VERIFIER_H_
#define SECUREOS_SVCD_VERIFIER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/capd.pb.h"
#include "proto/svcd.pb.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "svcd/level_policy.h"

namespace secureos::svcd {

// Where the facts come from; faked in tests.
class ProcessInspector {
 public:
  virtual ~ProcessInspector() = default;
  // capd's GetProcessCapabilities.
  virtual absl::StatusOr<capd::v1::ProcessCapabilities> Capabilities(pid_t pid) = 0;
  // /proc/<pid>/<name> ("status", "mountinfo", "cgroup"); pid 0 is svcd itself (/proc/self).
  virtual absl::StatusOr<std::string> ProcFile(pid_t pid, const std::string& name) = 0;
  // The inode of /proc/<pid>/ns/<ns>; pid 0 is svcd itself.
  virtual absl::StatusOr<uint64_t> NamespaceInode(pid_t pid, const std::string& ns) = 0;
  // Any other file (cgroup limit files).
  virtual absl::StatusOr<std::string> File(const std::string& path) = 0;
};

// The real one: capd over `capd_socket`, and this host's /proc.
std::unique_ptr<ProcessInspector> NewProcessInspector(const std::string& capd_socket);

// Runs every check for the process `pid`. `layout` locates the cgroup controllers.
v1::Verification Verify(pid_t pid, const LevelExpectations& expect, const sandboxd::CgroupLayout& layout,
                        ProcessInspector& inspector);

// "name: expected X, got Y; ..." for the failed checks.
std::string DescribeFailures(const v1::Verification& v);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_VERIFIER_H_
