#include "sandboxd/level_presets.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;

TEST(LevelPresetsTest, EveryPresetSatisfiesItsOwnClaim) {
  for (int level : {3, 4, 5}) {
    v1::SandboxSpec spec;
    ASSERT_TRUE(ApplyLevelPreset(level, &spec).ok());
    EXPECT_EQ(spec.level(), static_cast<uint32_t>(level));
    EXPECT_TRUE(VerifyLevel(spec).ok()) << level << ": " << VerifyLevel(spec);
  }
  v1::SandboxSpec plain;
  ApplyDefaultPreset(&plain);
  EXPECT_EQ(plain.level(), 0u);
  EXPECT_TRUE(VerifyLevel(plain).ok());
}

TEST(LevelPresetsTest, LooseningAClaimedLevelIsRefusedNamingTheField) {
  v1::SandboxSpec four;
  ASSERT_TRUE(ApplyLevelPreset(4, &four).ok());
  four.set_network(v1::NETWORK_MODE_HOST);
  four.mutable_namespaces()->set_user(false);
  four.mutable_seccomp()->set_base("default");
  const std::string m(VerifyLevel(four).message());
  EXPECT_THAT(m, HasSubstr("network: level 4 allows loopback at most"));
  EXPECT_THAT(m, HasSubstr("namespaces.user: level 4 needs it"));
  EXPECT_THAT(m, HasSubstr("seccomp: level 4 needs the strict profile"));

  v1::SandboxSpec five;
  ASSERT_TRUE(ApplyLevelPreset(5, &five).ok());
  five.mutable_filesystem()->set_root(v1::Filesystem::ROOT_HOST_READ_ONLY);
  five.set_capabilities("cap_net_bind_service");
  EXPECT_THAT(VerifyLevel(five).message(), HasSubstr("filesystem.root: level 5 needs ROOT_TMPFS"));
  EXPECT_THAT(VerifyLevel(five).message(), HasSubstr("capabilities: level 5 keeps none"));

  v1::SandboxSpec three;
  ASSERT_TRUE(ApplyLevelPreset(3, &three).ok());
  three.mutable_seccomp()->set_base("unconfined");
  three.mutable_namespaces()->set_pid(false);
  EXPECT_THAT(VerifyLevel(three).message(), HasSubstr("seccomp.base: level 3 needs a seccomp filter"));
  EXPECT_THAT(VerifyLevel(three).message(), HasSubstr("namespaces.pid: level 3 needs it"));
}

TEST(LevelPresetsTest, HostLevelsAreNotSandboxdsToRun) {
  v1::SandboxSpec spec;
  EXPECT_THAT(ApplyLevelPreset(2, &spec).message(), HasSubstr("level: sandboxd runs levels 3, 4 and 5"));
  spec.set_level(1);
  EXPECT_EQ(VerifyLevel(spec).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace secureos::sandboxd
