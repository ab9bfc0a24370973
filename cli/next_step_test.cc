// The hints secctl prints after an error.
#include "cli/next_step.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

using ::testing::HasSubstr;

TEST(NextStepTest, EachKindOfFailureSaysWhatToDo) {
  EXPECT_THAT(NextStep(absl::StatusCode::kUnavailable, "capd"), HasSubstr("`systemctl start secureos-capd`"));
  EXPECT_THAT(NextStep(absl::StatusCode::kUnavailable, ""), HasSubstr("`systemctl start secureos.target`"));
  EXPECT_THAT(NextStep(absl::StatusCode::kPermissionDenied, "svcd"),
              HasSubstr("server.admin_uids of /etc/secureos/svcd.conf"));
  EXPECT_THAT(NextStep(absl::StatusCode::kDeadlineExceeded, "monitord"), HasSubstr("--timeout 30s"));
  EXPECT_THAT(NextStep(absl::StatusCode::kNotFound, "containerd-lite"), HasSubstr("`secctl ctr list`"));
  // The error itself names the field and what was wrong.
  EXPECT_EQ(NextStep(absl::StatusCode::kInvalidArgument, "capd"), "");
}

}  // namespace
}  // namespace secureos::cli
