#include "common/access_policy.h"

#include "gtest/gtest.h"
#include "common/test_service.pb.h"

namespace secureos {
namespace {

common::v1::ServerConfig Config() {
  common::v1::ServerConfig c;
  c.add_admin_uids(1000);
  c.add_admin_gids(27);
  c.add_peer_uids(900);
  return c;
}

PeerCredentials Uid(uid_t uid, gid_t gid = 100) { return PeerCredentials{1, uid, gid}; }

TEST(AccessPolicyTest, AdminIsRootOrListedUidOrGid) {
  AccessPolicy p(Config());
  EXPECT_TRUE(p.Decide(Access::kAdmin, Uid(0)).allowed);
  EXPECT_EQ(p.Decide(Access::kAdmin, Uid(0)).rule, "uid 0 is root");
  EXPECT_TRUE(p.Decide(Access::kAdmin, Uid(1000)).allowed);
  EXPECT_TRUE(p.Decide(Access::kAdmin, Uid(5, 27)).allowed);
  Decision d = p.Decide(Access::kAdmin, Uid(65534, 65534));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule,
            "admin method: uid 65534 is not root and not in server.admin_uids, and gid 65534 "
            "is not in server.admin_gids");
  EXPECT_FALSE(p.Decide(Access::kAdmin, Uid(900)).allowed);  // A peer is not an admin.
}

TEST(AccessPolicyTest, PeerMethodsForPeersAndAdmins) {
  AccessPolicy p(Config());
  EXPECT_TRUE(p.Decide(Access::kPeer, Uid(900)).allowed);
  EXPECT_TRUE(p.Decide(Access::kPeer, Uid(1000)).allowed);
  EXPECT_FALSE(p.Decide(Access::kPeer, Uid(65534)).allowed);
}

TEST(AccessPolicyTest, ReadersAreEveryoneUnlessListed) {
  AccessPolicy p(Config());
  EXPECT_TRUE(p.Decide(Access::kRead, Uid(65534)).allowed);
  common::v1::ServerConfig c = Config();
  c.add_reader_uids(1234);
  p.Update(c);
  EXPECT_TRUE(p.Decide(Access::kRead, Uid(1234)).allowed);
  EXPECT_TRUE(p.Decide(Access::kRead, Uid(900)).allowed);   // Peers read.
  EXPECT_TRUE(p.Decide(Access::kRead, Uid(0)).allowed);     // Admins read.
  EXPECT_FALSE(p.Decide(Access::kRead, Uid(65534)).allowed);
}

TEST(AccessPolicyTest, UpdateAppliesAtOnce) {
  AccessPolicy p(Config());
  EXPECT_FALSE(p.Decide(Access::kAdmin, Uid(4242)).allowed);
  common::v1::ServerConfig c = Config();
  c.add_admin_uids(4242);
  p.Update(c);
  EXPECT_TRUE(p.Decide(Access::kAdmin, Uid(4242)).allowed);
}

TEST(CheckMethodTableTest, MustCoverTheServiceExactly) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "secureos.test.v1.Basic");
  ASSERT_NE(service, nullptr);
  MethodTable table = {{"Health", Access::kRead},
                       {"Version", Access::kRead},
                       {"Reload", Access::kAdmin},
                       {"Subscribe", Access::kPeer}};
  EXPECT_TRUE(CheckMethodTable(*service, table).ok());
  table.erase("Reload");
  table["Rebot"] = Access::kAdmin;
  absl::Status s = CheckMethodTable(*service, table);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("no rule for [Reload]"), absl::string_view::npos) << s.message();
  EXPECT_NE(s.message().find("unknown methods [Rebot]"), absl::string_view::npos) << s.message();
}

}  // namespace
}  // namespace secureos
