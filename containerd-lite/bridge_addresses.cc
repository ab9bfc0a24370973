#include "containerd-lite/bridge_addresses.h"

#include <arpa/inet.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace secureos::ctr {
namespace {

std::string Dotted(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof(text));
  return text;
}

std::string Cidr(const Subnet& s) { return absl::StrCat(Dotted(s.network), "/", s.prefix); }

}  // namespace

absl::StatusOr<Subnet> ParseSubnet(const std::string& cidr, const std::string& field) {
  std::vector<std::string> parts = absl::StrSplit(cidr, '/');
  in_addr a;
  Subnet s;
  if (parts.size() != 2 || ::inet_pton(AF_INET, parts[0].c_str(), &a) != 1 ||
      !absl::SimpleAtoi(parts[1], &s.prefix) || s.prefix < 8 || s.prefix > 30) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": an IPv4 subnet with a prefix of 8 to 30 bits (\"10.88.0.0/24\"), got \"", cidr, "\""));
  }
  s.network = ntohl(a.s_addr);
  const uint32_t host_bits = ~(~uint32_t{0} << (32 - s.prefix));
  if ((s.network & host_bits) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", cidr, " has host bits set (the subnet is ",
                                                   Dotted(s.network & ~host_bits), "/", s.prefix, ")"));
  }
  return s;
}

std::string GatewayOf(const Subnet& subnet) { return Dotted(subnet.network + 1); }

absl::StatusOr<std::string> FirstFreeAddress(const Subnet& subnet, const std::set<std::string>& used) {
  const uint32_t size = uint32_t{1} << (32 - subnet.prefix);
  for (uint32_t host = 2; host < size - 1; ++host) {
    std::string address = absl::StrCat(Dotted(subnet.network + host), "/", subnet.prefix);
    if (used.count(address) == 0) return address;
  }
  return absl::ResourceExhaustedError(absl::StrCat("network.subnet: every address of ", Cidr(subnet),
                                                   " is held by a container"));
}

}  // namespace secureos::ctr
