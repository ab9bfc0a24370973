#include "containerd-lite/bridge_addresses.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::HasSubstr;

TEST(BridgeAddressesTest, GatewayFirstThenLowestFree) {
  auto s = ParseSubnet("10.88.0.0/24");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(GatewayOf(*s), "10.88.0.1");
  EXPECT_EQ(*FirstFreeAddress(*s, {}), "10.88.0.2/24");
  EXPECT_EQ(*FirstFreeAddress(*s, {"10.88.0.2/24", "10.88.0.4/24"}), "10.88.0.3/24");
}

TEST(BridgeAddressesTest, ExhaustedNamesTheSubnet) {
  auto s = ParseSubnet("10.88.0.0/30");  // .1 gateway, .2 the only container, .3 broadcast.
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*FirstFreeAddress(*s, {}), "10.88.0.2/30");
  auto none = FirstFreeAddress(*s, {"10.88.0.2/30"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("10.88.0.0/30"));
}

TEST(BridgeAddressesTest, BadSubnets) {
  EXPECT_THAT(std::string(ParseSubnet("10.88.0.1/24").status().message()),
              HasSubstr("network.subnet: 10.88.0.1/24 has host bits set (the subnet is 10.88.0.0/24)"));
  EXPECT_THAT(std::string(ParseSubnet("10.88.0.0").status().message()), HasSubstr("an IPv4 subnet"));
  EXPECT_THAT(std::string(ParseSubnet("10.88.0.0/31", "x").status().message()), HasSubstr("x: "));
  EXPECT_FALSE(ParseSubnet("fd00::/64").ok());
}

}  // namespace
}  // namespace secureos::ctr
