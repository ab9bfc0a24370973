#include "sandboxd/capability_authorizer.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/unix_channel.h"
#include "proto/capd.grpc.pb.h"

namespace secureos::sandboxd {
namespace {

class CapdAuthorizer : public CapabilityAuthorizer {
 public:
  explicit CapdAuthorizer(const std::string& socket)
      : stub_(capd::v1::Capd::NewStub(
            UnixChannel(socket))) {}

  absl::Status Authorize(const std::string& principal, const std::string& capabilities,
                         const std::string& trace_id) override {
    capd::v1::AuthorizeRequest request;
    request.set_principal(principal);
    request.set_capabilities(capabilities);
    request.set_trace_id(trace_id);
    capd::v1::AuthorizeResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status s = stub_->Authorize(&ctx, request, &response);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("capabilities: capd could not authorize them: ", s.error_message()));
    }
    if (!response.allowed()) {
      return absl::PermissionDeniedError(
          absl::StrCat("capabilities: capd refused ", principal, ": ", response.rule()));
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<capd::v1::Capd::Stub> stub_;
};

}  // namespace

std::unique_ptr<CapabilityAuthorizer> NewCapdAuthorizer(const std::string& capd_socket) {
  return std::make_unique<CapdAuthorizer>(capd_socket);
}

}  // namespace secureos::sandboxd
