// A client for the four methods every daemon serves, whichever daemon it is.
#ifndef SECUREOS_CLI_DAEMON_CLIENT_H_
#define SECUREOS_CLI_DAEMON_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/common.pb.h"

namespace secureos::cli {

class DaemonClient {
 public:
  virtual ~DaemonClient() = default;
  virtual absl::StatusOr<common::v1::HealthResponse> Health() = 0;
  virtual absl::StatusOr<common::v1::VersionResponse> Version() = 0;
  virtual absl::StatusOr<common::v1::ReloadResponse> Reload() = 0;
  // Calls `on_record` for each record until it returns false or the stream ends.
  virtual absl::Status Subscribe(
      const common::v1::SubscribeRequest& request,
      const std::function<bool(const common::v1::SubscribeResponse&)>& on_record) = 0;
};

// A client for `daemon` ("capd", ...) on the Unix socket at `socket_path`. Unary calls fail
// after `timeout`; an absent daemon is UNAVAILABLE at once.
//
// The client lives until the process exits and is never destroyed: secctl makes a few calls
// and leaves with _exit(), and tearing a gRPC channel down costs more than the calls.
absl::StatusOr<DaemonClient*> ConnectDaemon(absl::string_view daemon,
                                                            const std::string& socket_path,
                                                            absl::Duration timeout);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_DAEMON_CLIENT_H_
