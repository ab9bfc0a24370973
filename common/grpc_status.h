// The one conversion from absl::Status to grpc::Status, used at the service edge only.
#ifndef SECUREOS_COMMON_GRPC_STATUS_H_
#define SECUREOS_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "common/status.h"

namespace secureos {

// Same code (the two enums share their numbering), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for clients (secctl, daemons calling each other).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace secureos

// `SECUREOS_ASSIGN_OR_RETURN_GRPC(auto x, F());` for gRPC handlers: returns the status,
// converted with ToGrpcStatus, when F() fails.
#define SECUREOS_ASSIGN_OR_RETURN_GRPC(lhs, expr)                                       \
  SECUREOS_ASSIGN_OR_RETURN_GRPC_IMPL_(SECUREOS_STATUS_CONCAT_(secureos_gor_, __LINE__), \
                                       lhs, expr)
#define SECUREOS_ASSIGN_OR_RETURN_GRPC_IMPL_(tmp, lhs, expr)       \
  auto tmp = (expr);                                               \
  if (!tmp.ok()) return ::secureos::ToGrpcStatus(tmp.status());    \
  lhs = std::move(tmp).value()

#endif  // SECUREOS_COMMON_GRPC_STATUS_H_
