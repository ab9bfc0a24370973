// Security levels 1-5 as svcd applies them (DESIGN.md "Security levels"). Each level
// includes everything below it; a definition's overrides may tighten a level or declare
// paths, never weaken it, so a running service always meets the level it claims.
//
//   1  host process launched by capd: the configured user and groups, no_new_privs, exactly
//      the granted capabilities in all five sets (ambient for a non-root user), securebits
//      locked; its own cgroup, limited where the definition says.
//   2  + a private /tmp, /usr /etc /boot read-only (systemd's PrivateTmp= and
//      ProtectSystem=full), and limits by default: pids 512, RLIMIT_NOFILE 1024,
//      RLIMIT_CORE 0 unless the definition sets them; memory and CPU where it sets them.
//   3  launched by sandboxd instead: mount, pid, ipc and uts namespaces, the host's / read-only
//      with a private /tmp, its own /proc and a minimal /dev, the host's /run hidden, seccomp
//      "default"; the host's network.
//   4  + user and network namespaces (loopback only), seccomp "strict".
//   5  + an empty root holding only the system directories (read-only) and declared paths
//      (no /tmp at all unless declared), no capabilities at all.
//
// This library says what a level means (checks, defaults, expectations, explanation);
// launch_plan turns a service into its launcher's request.
#ifndef SECUREOS_SVCD_LEVEL_POLICY_H_
#define SECUREOS_SVCD_LEVEL_POLICY_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/cap_set.h"
#include "common/field_errors.h"
#include "proto/common.pb.h"
#include "proto/svcd.pb.h"

namespace secureos::svcd {

inline constexpr int kMinLevel = 1;
inline constexpr int kMaxLevel = 5;

// Levels 1-2 are host processes (capd); 3-5 are sandboxed (sandboxd).
inline bool Sandboxed(int level) { return level >= 3; }

// Level-specific rules for a definition whose user resolved to `uid`: the level itself,
// root, capabilities, supplementary groups and every override. Errors name the field:
// "overrides.network: level 4 allows loopback at most".
void CheckLevel(const v1::ServiceDefinition& def, uid_t uid, bool allow_root, FieldErrors* errors);

// One line: what the level gives.
std::string LevelSummary(int level);

// The limits a service runs with: the definition's, plus the level's defaults (level 2 and
// up) where the definition is silent.
common::v1::ResourceLimits EffectiveLimits(const v1::ServiceDefinition& def);

// The read-only system directories of level 2 (those that exist are applied).
const std::vector<std::string>& ProtectedSystemPaths();

// What a running process of the service must show, as verification compares it.
struct LevelExpectations {
  int level = 0;
  CapSet caps;                   // Effective, permitted (and at 1-2 all five sets) exactly.
  bool all_five_sets = false;    // Levels 1-2: inheritable, bounding and ambient too.
  bool no_new_privs = true;
  // Namespaces (names of /proc/<pid>/ns) that must differ from the host's (pid 1's).
  std::vector<std::string> new_namespaces;
  bool seccomp_filter = false;   // /proc/<pid>/status Seccomp: 2.
  bool private_tmp = false;      // /tmp is a tmpfs of its own.
  std::vector<std::string> read_only_mounts;  // Mount points that must be read-only.
  std::optional<uint64_t> memory_bytes;       // cgroup limits that must be in force.
  std::optional<uint32_t> cpu_millis;
  std::optional<uint32_t> pids;
  std::optional<uid_t> host_uid;  // Real uid on the host (no user namespace).
};

LevelExpectations ExpectationsFor(const v1::ServiceDefinition& def, uid_t uid, const CapSet& caps);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_LEVEL_POLICY_H_
