// Bridge networking (NETWORK_MODE_BRIDGE): a veth pair whose host end is a port of a host
// bridge and whose other end is eth0 in the workload's network namespace, with the
// workload's address and a default route through the bridge's address. Over rtnetlink
// (libmnl), from sandboxd, while the workload's first process waits to be let go: the
// workload finds its network ready, and never holds CAP_NET_ADMIN over it for this.
//
// Lifetime: the pair goes with the namespace (the kernel deletes both ends when the
// workload's last process ends), so nothing is left to remove. The bridge is host
// configuration: made when missing, never removed.
//
// Security notes: workloads on one bridge reach each other and the bridge's address; the
// host neither routes nor NATs for them unless configured to. The peer is created directly
// inside the workload's namespace (IFLA_NET_NS_PID), so it never appears on the host.
#ifndef SECUREOS_SANDBOXD_NET_BRIDGE_H_
#define SECUREOS_SANDBOXD_NET_BRIDGE_H_

#include <netinet/in.h>
#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// A validated BridgeNetwork.
struct BridgePlan {
  std::string bridge;  // Host bridge name.
  in_addr address{};   // eth0's address.
  int prefix = 0;      // Its prefix length.
  in_addr gateway{};   // The bridge's address; the default route.
};

// Checks `bridge`: the name (1-15 of [A-Za-z0-9_.-]), address (IPv4 CIDR, prefix 8-30, not
// the subnet's network or broadcast address), gateway (IPv4 in the address's subnet, not
// the address itself). INVALID_ARGUMENT naming each bad field ("bridge.address: ...").
absl::StatusOr<BridgePlan> ParseBridge(const v1::BridgeNetwork& bridge);

// The host end's name for workload `workload_id` ("w-<hex>"): "sv" + the hex, at most 15
// characters.
std::string HostInterfaceName(const std::string& workload_id);

// Attaches the process `pid` (whose network namespace is its own and still empty) to the
// bridge: makes the bridge when missing, the pair (host end `host_ifname`, up, a port of
// the bridge; eth0 inside), then inside: eth0's address, eth0 up, the default route. Errors
// name the step ("create veth sv12ab...: File exists").
absl::Status AttachToBridge(pid_t pid, const BridgePlan& plan, const std::string& host_ifname);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_NET_BRIDGE_H_
