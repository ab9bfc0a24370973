// ParseBridge and the interface name; attaching for real is in sandboxd_integration_test
// and containerd_lite_integration_test (needs root and namespaces).
#include "sandboxd/net/bridge.h"

#include <arpa/inet.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;

v1::BridgeNetwork Bridge(const std::string& name, const std::string& address, const std::string& gateway) {
  v1::BridgeNetwork b;
  b.set_name(name);
  b.set_address(address);
  b.set_gateway(gateway);
  return b;
}

TEST(BridgeTest, ParsesAValidAttachment) {
  auto plan = ParseBridge(Bridge("sos0", "10.88.0.2/24", "10.88.0.1"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->bridge, "sos0");
  EXPECT_EQ(plan->prefix, 24);
  EXPECT_EQ(ntohl(plan->address.s_addr), 0x0a580002u);
  EXPECT_EQ(ntohl(plan->gateway.s_addr), 0x0a580001u);
}

TEST(BridgeTest, NamesEveryBadField) {
  auto s = ParseBridge(Bridge("a-very-long-bridge-name", "10.88.0.2/24", "10.89.0.1")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bridge.name: 1-15 of [A-Za-z0-9_.-]"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("bridge.gateway: 10.89.0.1 is outside 10.88.0.2/24's subnet"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("b", "10.88.0.2", "10.88.0.1")).status().message()),
              HasSubstr("bridge.address: an IPv4 address with a prefix of 8 to 30 bits"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("b", "10.88.0.0/24", "10.88.0.1")).status().message()),
              HasSubstr("is the subnet's network or broadcast address"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("b", "10.88.0.255/24", "10.88.0.1")).status().message()),
              HasSubstr("is the subnet's network or broadcast address"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("b", "10.88.0.1/24", "10.88.0.1")).status().message()),
              HasSubstr("bridge.gateway: must differ from bridge.address"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("b", "10.88.0.2/31", "10.88.0.1")).status().message()),
              HasSubstr("bridge.address"));
  EXPECT_THAT(std::string(ParseBridge(Bridge("../x", "10.88.0.2/24", "gw")).status().message()),
              HasSubstr("bridge.gateway: an IPv4 address, got \"gw\""));
}

TEST(BridgeTest, HostInterfaceNameFitsIfnamsiz) {
  EXPECT_EQ(HostInterfaceName("w-0123456789ab"), "sv0123456789ab");
  EXPECT_LE(HostInterfaceName("w-0123456789abcdef0123").size(), 15u);
}

}  // namespace
}  // namespace secureos::sandboxd
