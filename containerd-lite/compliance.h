// Compliance checks in the spirit of Kubernetes Pod Security Standards, on the facts of an
// OCI bundle (what it asks for, before containerd-lite adds its own confinement: a bundle
// that shares the host's pid namespace is a finding even though it could be run safely).
//
// Rules, with stable ids (never renumbered; a removed rule's id is not reused):
//   Baseline (prevents known privilege escalations):
//     PSS-B-001  host namespaces: the bundle does not unshare pid, ipc, network, uts or mount
//     PSS-B-002  capabilities beyond the allowlist (default: PSS baseline's set)
//     PSS-B-003  bind mounts of host paths outside host_path_allowlist
//     PSS-B-004  uid 0 inside without a user namespace of the bundle's own (host root)
//   Restricted (baseline plus hardening):
//     PSS-R-001  noNewPrivileges not true
//     PSS-R-002  writable root filesystem (root.readonly not true)
//     PSS-R-003  no memory limit (linux.resources.memory.limit)
//     PSS-R-004  no seccomp profile (linux.seccomp)
//     PSS-R-005  capabilities beyond NET_BIND_SERVICE (or the configured allowlist)
//     PSS-R-006  runs as uid 0 inside the container (runAsNonRoot)
// Each finding names the config.json field at fault and says how to fix it. At restricted,
// PSS-R-005 reports capabilities in place of PSS-B-002 (its allowlist is the narrower one).
#ifndef SECUREOS_CONTAINERD_LITE_COMPLIANCE_H_
#define SECUREOS_CONTAINERD_LITE_COMPLIANCE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proto/containerd_lite.pb.h"

namespace secureos::ctr {

namespace v1 = ::secureos::containerd_lite::v1;

// What a bundle asks for, as the rules see it (oci_bundle turns config.json into this).
struct ContainerFacts {
  // OCI namespace types the bundle creates: "pid", "network", "ipc", "uts", "mount", "user",
  // "cgroup", "time".
  std::set<std::string> namespaces;
  // OCI capability set name ("bounding", "effective", ...) -> capabilities ("CAP_KILL").
  std::map<std::string, std::vector<std::string>> capabilities;
  bool no_new_privileges = false;
  bool readonly_root = false;
  bool memory_limit = false;
  bool seccomp = false;
  uint32_t uid = 0;  // process.user.uid
  struct HostMount {
    std::string field;   // "mounts[3]"
    std::string source;  // Absolute host path.
  };
  std::vector<HostMount> host_mounts;  // Bind mounts (their sources are host paths).
};

// PSS baseline's allowed capabilities (without the CAP_ prefix).
const std::vector<std::string>& BaselineCapabilities();

// Every finding of `level` (baseline rules, plus restricted ones at restricted) for `facts`,
// in rule order, each marked with `policy.mode` (ENFORCE when unspecified). The level is
// `level` when set, otherwise the policy's (BASELINE when unspecified).
std::vector<v1::Finding> CheckCompliance(const ContainerFacts& facts, const v1::CompliancePolicy& policy,
                                         v1::ComplianceLevel level = v1::COMPLIANCE_LEVEL_UNSPECIFIED);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_COMPLIANCE_H_
