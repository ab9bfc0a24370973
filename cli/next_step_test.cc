// The hints secctl prints after an error.
#include "cli/next_step.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

using ::testing::HasSubstr;

TEST(NextStepTest, EachKindOfFailureSaysWhatToDo) {
  EXPECT_THAT(NextStep(absl::UnavailableError("x"), "capd"), HasSubstr("`systemctl start secureos-capd`"));
  EXPECT_THAT(NextStep(absl::UnavailableError("x"), ""), HasSubstr("`systemctl start secureos.target`"));
  EXPECT_THAT(NextStep(absl::PermissionDeniedError("/secureos.svcd.v1.Svcd/AddService needs admin access: uid 1000 is "
                                                   "not root"),
                       "svcd"),
              HasSubstr("server.admin_uids of /etc/secureos/svcd.conf"));
  EXPECT_THAT(NextStep(absl::PermissionDeniedError("/secureos.capd.v1.Capd/Subscribe needs peer access: x"), "capd"),
              HasSubstr("server.peer_uids of /etc/secureos/capd.conf"));
  EXPECT_THAT(NextStep(absl::DeadlineExceededError("x"), "monitord"), HasSubstr("--timeout 30s"));
  // The error itself says what there is to say: the field, what is missing, the policy's rule.
  EXPECT_EQ(NextStep(absl::InvalidArgumentError("caps: unknown capability cap_foo"), "capd"), "");
  EXPECT_EQ(NextStep(absl::NotFoundError("container \"x\" does not exist"), "containerd-lite"), "");
  EXPECT_EQ(NextStep(absl::PermissionDeniedError("spawn refused: no grant in force for uid:0"), "capd"), "");
}

}  // namespace
}  // namespace secureos::cli
