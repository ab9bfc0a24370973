// Addresses on the container bridge (NETWORK_MODE_BRIDGE): ContainerdLiteConfig.network.subnet
// holds the bridge at its first host address (".1") and containers at the others, each the
// lowest one no other container holds. A container keeps its address until it is deleted.
#ifndef SECUREOS_CONTAINERD_LITE_BRIDGE_ADDRESSES_H_
#define SECUREOS_CONTAINERD_LITE_BRIDGE_ADDRESSES_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace secureos::ctr {

struct Subnet {
  uint32_t network = 0;  // Host byte order.
  int prefix = 0;
};

// "10.88.0.0/24"; the prefix 8-30, host bits zero. INVALID_ARGUMENT naming `field`.
absl::StatusOr<Subnet> ParseSubnet(const std::string& cidr, const std::string& field = "network.subnet");

// The bridge's address: the first host address ("10.88.0.1").
std::string GatewayOf(const Subnet& subnet);

// The lowest host address after the gateway that is not in `used` (CIDR strings as this
// returns them, "10.88.0.2/24"); RESOURCE_EXHAUSTED naming the subnet when none is left.
absl::StatusOr<std::string> FirstFreeAddress(const Subnet& subnet, const std::set<std::string>& used);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_BRIDGE_ADDRESSES_H_
