#include "cli/exit_codes.h"

#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

TEST(ExitCodesTest, DistinctCodesForWhatScriptsTestFor) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("x")), kExitPermissionDenied);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), kExitInvalidArgument);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), kExitFailed);
}

}  // namespace
}  // namespace secureos::cli
