// Calling any method of a daemon by name with serialized request bytes, over its Unix
// socket, without generated stubs: what the authorization matrix and the malformed-input
// tests need to reach every RPC the same way. Server-streaming methods are read until the
// first message or the end (enough to see whether the call was accepted).
#ifndef SECUREOS_TESTS_RAW_RPC_H_
#define SECUREOS_TESTS_RAW_RPC_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"

namespace secureos::test {

// The service a daemon serves ("capd" -> secureos.capd.v1.Capd).
const google::protobuf::ServiceDescriptor* ServiceOf(const std::string& daemon);

struct RawReply {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::string response;  // The (first) response message, serialized.
};

// A channel to the daemon listening at `socket` (no client-side size limit, so that
// oversized requests reach the server to be refused there).
std::shared_ptr<grpc::Channel> RawChannel(const std::string& socket);

// Calls "/<service>/<method>" on `channel`.
RawReply CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                 const google::protobuf::MethodDescriptor& method, const std::string& request,
                 absl::Duration timeout = absl::Seconds(5));

// The same on a new connection to `socket`, as each secctl run makes one.
RawReply CallRaw(const std::string& socket, const google::protobuf::MethodDescriptor& method,
                 const std::string& request, absl::Duration timeout = absl::Seconds(5));

// The name of a status code ("PERMISSION_DENIED").
std::string CodeName(grpc::StatusCode code);

}  // namespace secureos::test

#endif  // SECUREOS_TESTS_RAW_RPC_H_
