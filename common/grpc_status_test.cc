#include "common/grpc_status.h"

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(GrpcStatusTest, CodeAndMessageSurviveBothWays) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  grpc::Status g = ToGrpcStatus(absl::InvalidArgumentError("uid: required"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), "uid: required");
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  absl::Status a = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  EXPECT_EQ(a.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a.message(), "down");
}

absl::StatusOr<int> Fails() { return absl::NotFoundError("no such grant"); }

grpc::Status Handler() {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(int x, Fails());
  (void)x;
  return grpc::Status::OK;
}

TEST(GrpcStatusTest, AssignOrReturnGrpcConvertsAtTheEdge) {
  grpc::Status s = Handler();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "no such grant");
}

}  // namespace
}  // namespace secureos
