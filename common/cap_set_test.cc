#include "common/cap_set.h"

#include <linux/capability.h>

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(CapSetTest, ParsesCapabilityNamesListsAndHexLikeProc) {
  auto s = CapSet::Parse("cap_net_bind_service,cap_kill");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->Has(CAP_NET_BIND_SERVICE));
  EXPECT_TRUE(s->Has(CAP_KILL));
  EXPECT_EQ(s->Numbers().size(), 2u);
  EXPECT_EQ(s->ToString(), "cap_kill,cap_net_bind_service");
  EXPECT_EQ(s->Hex(), "0000000000000420");
  EXPECT_EQ(CapSet::Parse(" CAP_KILL  cap_chown ")->ToString(), "cap_chown,cap_kill");
  EXPECT_TRUE(CapSet::Parse("")->empty());
}

TEST(CapSetTest, ParsesCapFromTextStrings) {
  EXPECT_EQ(CapSet::Parse("cap_net_bind_service,cap_kill+ep")->ToString(),
            "cap_kill,cap_net_bind_service");
  EXPECT_EQ(*CapSet::Parse("=ep"), CapSet::All());
  EXPECT_EQ(CapSet::Parse("cap_setuid=i")->ToString(), "cap_setuid");
}

TEST(CapSetTest, UnknownNamesAreRefusedNamingTheToken) {
  auto s = CapSet::Parse("cap_kill,cap_fly");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("unknown capability \"cap_fly\""), absl::string_view::npos)
      << s.status();
  EXPECT_FALSE(CapSet::Parse("5").ok());
  EXPECT_FALSE(CapSet::Parse("cap_kill+zz").ok());
}

TEST(CapSetTest, SetAlgebra) {
  CapSet a = *CapSet::Parse("cap_kill,cap_chown");
  CapSet b = *CapSet::Parse("cap_kill");
  EXPECT_TRUE(b.IsSubsetOf(a));
  EXPECT_FALSE(a.IsSubsetOf(b));
  EXPECT_EQ(a.Minus(b).ToString(), "cap_chown");
  EXPECT_EQ(b.Union(*CapSet::Parse("cap_setuid")).ToString(), "cap_kill,cap_setuid");
  EXPECT_EQ(CapSet::All().Numbers().size(), static_cast<size_t>(LastCap() + 1));
  EXPECT_EQ(CapSet::FromMask(0x400).ToString(), "cap_net_bind_service");
}

}  // namespace
}  // namespace secureos
