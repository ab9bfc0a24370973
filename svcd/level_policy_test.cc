#include "svcd/level_policy.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

v1::ServiceDefinition Def(const std::string& text) {
  v1::ServiceDefinition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  return d;
}

std::string Errors(const std::string& text, uid_t uid = 65534, bool allow_root = false) {
  FieldErrors errors;
  CheckLevel(Def(text), uid, allow_root, &errors);
  return std::string(errors.ToStatus().message());
}

TEST(LevelPolicy, OverridesThatWouldWeakenALevelAreRefused) {
  EXPECT_THAT(Errors("level: 4 overrides { network: NETWORK_HOST }"), HasSubstr("overrides.network: level 4 allows loopback at most"));
  EXPECT_THAT(Errors("level: 5 overrides { network: NETWORK_HOST }"), HasSubstr("overrides.network: level 5"));
  EXPECT_THAT(Errors("level: 1 overrides { network: NETWORK_NONE }"), HasSubstr("overrides.network: levels 3-5 only"));
  EXPECT_THAT(Errors("level: 5 capabilities: \"cap_kill\""), HasSubstr("capabilities: level 5 keeps none"));
  EXPECT_THAT(Errors("level: 3 capabilities: \"cap_kill\""), HasSubstr("capabilities: at level 3 only inside a user namespace"));
  EXPECT_THAT(Errors("level: 1 overrides { read_write_paths: \"/var/x\" }"), HasSubstr("overrides.read_write_paths: from level 2 on"));
  EXPECT_THAT(Errors("level: 2 overrides { read_write_paths: \"rel\" }"), HasSubstr("overrides.read_write_paths[0]: an absolute path"));
  EXPECT_THAT(Errors("level: 4 overrides { user_namespace: true }"), HasSubstr("overrides.user_namespace: level 4 always has one"));
  EXPECT_THAT(Errors("level: 4 supplementary_groups: \"adm\""), HasSubstr("supplementary_groups: levels 1-2 only"));
  EXPECT_THAT(Errors("level: 2 overrides { seccomp_profile: \"/p\" }"), HasSubstr("overrides.seccomp_profile: levels 3-5 only"));
  EXPECT_THAT(Errors("level: 3", 0), HasSubstr("user: root at level 3 needs overrides.user_namespace"));
}

TEST(LevelPolicy, TighteningAndDeclaringAreFine) {
  EXPECT_THAT(Errors("level: 3 overrides { network: NETWORK_NONE user_namespace: true } capabilities: \"cap_kill\""), IsEmpty());
  EXPECT_THAT(Errors("level: 4 overrides { network: NETWORK_NONE read_only_paths: \"/srv\" read_write_paths: \"/var/lib/x\" }"), IsEmpty());
  EXPECT_THAT(Errors("level: 4", 0), IsEmpty());  // Root inside its user namespace.
  EXPECT_THAT(Errors("level: 2 overrides { read_write_paths: \"/var/lib/x\" }"), IsEmpty());
}

TEST(LevelPolicy, LevelTwoAndUpGetDefaultLimits) {
  common::v1::ResourceLimits one = EffectiveLimits(Def("level: 1"));
  EXPECT_FALSE(one.has_pids());
  EXPECT_EQ(one.rlimits_size(), 0);
  common::v1::ResourceLimits two = EffectiveLimits(Def("level: 2 limits { memory_bytes: 67108864 }"));
  EXPECT_EQ(two.pids(), 512u);
  EXPECT_EQ(two.memory_bytes(), 67108864u);
  ASSERT_EQ(two.rlimits_size(), 2);
  EXPECT_EQ(two.rlimits(0).resource(), common::v1::RLIMIT_RESOURCE_NOFILE);
  EXPECT_EQ(two.rlimits(1).resource(), common::v1::RLIMIT_RESOURCE_CORE);
  EXPECT_EQ(two.rlimits(1).hard(), 0u);
  // The definition's own values win.
  common::v1::ResourceLimits own = EffectiveLimits(Def(
      "level: 3 limits { pids: 7 rlimits { resource: RLIMIT_RESOURCE_NOFILE soft: 64 hard: 64 } }"));
  EXPECT_EQ(own.pids(), 7u);
  ASSERT_EQ(own.rlimits_size(), 2);
  EXPECT_EQ(own.rlimits(0).soft(), 64u);
}

TEST(LevelPolicy, ExpectationsGrowWithTheLevel) {
  const CapSet bind = CapSet::Parse("cap_net_bind_service").value();
  LevelExpectations one = ExpectationsFor(Def("level: 1"), 65534, bind);
  EXPECT_TRUE(one.all_five_sets);
  EXPECT_THAT(one.new_namespaces, IsEmpty());
  EXPECT_FALSE(one.private_tmp);
  EXPECT_EQ(one.host_uid, 65534u);
  LevelExpectations two = ExpectationsFor(Def("level: 2"), 65534, bind);
  EXPECT_THAT(two.new_namespaces, ElementsAre("mnt"));
  EXPECT_TRUE(two.private_tmp);
  EXPECT_EQ(two.pids, 512u);
  LevelExpectations three = ExpectationsFor(Def("level: 3"), 1000, CapSet());
  EXPECT_THAT(three.new_namespaces, UnorderedElementsAre("mnt", "pid", "ipc", "uts"));
  EXPECT_TRUE(three.seccomp_filter);
  EXPECT_FALSE(three.all_five_sets);
  EXPECT_EQ(three.host_uid, 1000u);
  LevelExpectations four = ExpectationsFor(Def("level: 4"), 65534, CapSet());
  EXPECT_THAT(four.new_namespaces, UnorderedElementsAre("mnt", "pid", "ipc", "uts", "user", "net"));
  EXPECT_EQ(four.host_uid, std::nullopt);
  EXPECT_TRUE(four.private_tmp);
  // Level 5's root is an empty tmpfs without /tmp: nothing of the host's, no tmpfs to check.
  LevelExpectations five = ExpectationsFor(Def("level: 5"), 65534, CapSet());
  EXPECT_FALSE(five.private_tmp);
  EXPECT_THAT(five.read_only_mounts, ::testing::Contains("/"));
  LevelExpectations three_none = ExpectationsFor(Def("level: 3 overrides { network: NETWORK_NONE }"), 1000, CapSet());
  EXPECT_THAT(three_none.new_namespaces, ::testing::Contains("net"));
}

TEST(LevelPolicy, EveryLevelHasASummary) {
  for (int level = 1; level <= 5; ++level) EXPECT_THAT(LevelSummary(level), Not(HasSubstr("not a level")));
}

}  // namespace
}  // namespace secureos::svcd
