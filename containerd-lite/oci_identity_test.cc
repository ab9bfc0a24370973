#include "containerd-lite/oci_identity.h"

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::HasSubstr;
namespace sbx = sandboxd::v1;

TEST(OciIdentityTest, IdentityRefusals) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->mutable_user()->set_uid(70000);
  spec.mutable_process()->mutable_user()->add_additional_gids(10);
  spec.mutable_process()->mutable_user()->set_umask(022);
  sbx::SandboxSpec out;
  OciReport report;
  TranslateIdentity(spec.process().user(), Range(0, 100000, 65536), Range(0, 100000, 65536), &out,
                    &report);
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("config.json: process.user.uid: 70000 is not mapped by the "
                               "container's uid range (0-65535)"));
  EXPECT_THAT(error, HasSubstr("config.json: process.user.additionalGids: [10]: supplementary "
                               "groups are not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: process.user.umask: 18: not supported"));
}

TEST(OciIdentityTest, IdentityInsideTheRange) {
  oci::v1::User user;
  user.set_uid(1000);
  user.set_gid(1000);
  sbx::SandboxSpec out;
  OciReport report;
  TranslateIdentity(user, Range(1000, 300000, 1), Range(0, 400000, 65536), &out, &report);
  ASSERT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  EXPECT_EQ(out.uid(), 1000u);
  EXPECT_EQ(out.gid(), 1000u);
  EXPECT_EQ(out.uid_map(0).inside(), 1000u);
  EXPECT_EQ(out.uid_map(0).outside(), 300000u);
  EXPECT_EQ(out.uid_map(0).count(), 1u);
  EXPECT_EQ(out.gid_map(0).outside(), 400000u);
}

TEST(OciIdentityTest, IdMappingArguments) {
  EXPECT_TRUE(CheckIdMapping(Range(0, 100000, 65536), "uid_map").ok());
  EXPECT_TRUE(CheckIdMapping(Range(0, ~0u, 1), "uid_map").ok());
  EXPECT_EQ(CheckIdMapping(Range(0, 100000, 0), "m").message(), "m: size must be at least 1");
  EXPECT_EQ(CheckIdMapping(Range(~0u, 0, 2), "m").message(), "m: the range passes 2^32");
  EXPECT_EQ(CheckIdMapping(Range(0, ~0u, 2), "m").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace secureos::ctr
