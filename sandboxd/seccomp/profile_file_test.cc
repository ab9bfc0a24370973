#include "sandboxd/seccomp/profile_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

TEST(ProfileFile, DockerJsonIsKeptWhole) {
  const std::string docker = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})";
  auto p = ParseProfileText("p.json", docker);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->oci_json(), docker);
  EXPECT_TRUE(p->base().empty());
}

TEST(ProfileFile, TextFormatAndProtoJson) {
  auto text = ParseProfileText("t", "base: \"strict\" rules { syscalls: \"ptrace\" action: SECCOMP_ACTION_ERRNO }");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->base(), "strict");
  EXPECT_EQ(text->rules_size(), 1);
  auto json = ParseProfileText("j", R"({"base": "default", "rules": [{"syscalls": ["mount"], "action": "SECCOMP_ACTION_KILL_PROCESS"}]})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->base(), "default");
  EXPECT_EQ(json->rules(0).action(), v1::SECCOMP_ACTION_KILL_PROCESS);
}

TEST(ProfileFile, NeitherIsAnErrorNamingTheFile) {
  auto p = ParseProfileText("/etc/x.profile", "this is { not a profile");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), ::testing::HasSubstr("/etc/x.profile is neither"));
  EXPECT_EQ(LoadProfileFile("/nonexistent/profile").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos::sandboxd
