#include "capd/audit_gate.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/unix_channel.h"
#include "proto/monitord.grpc.pb.h"

namespace secureos::capd {
namespace {

class MonitordAuditGate : public AuditGate {
 public:
  explicit MonitordAuditGate(const std::string& socket) : socket_(socket) {}

  absl::Status Ready() override {
    // A channel per question: one that failed while monitord was away would wait out its
    // reconnect backoff, refusing grants for longer than monitord was gone.
    auto stub = monitord::v1::Monitord::NewStub(
        UnixChannel(socket_));
    monitord::v1::ReadyRequest request;
    request.set_source("capd");
    monitord::v1::ReadyResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::Status s = stub->Ready(&ctx, request, &response);
    if (!s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("required_audit: monitord cannot be asked (", s.error_message(), "), so nothing would record it"));
    }
    if (!response.ready()) return absl::FailedPreconditionError("required_audit: " + response.reason());
    return absl::OkStatus();
  }

 private:
  const std::string socket_;
};

}  // namespace

std::unique_ptr<AuditGate> NewMonitordAuditGate(const std::string& monitord_socket) {
  return std::make_unique<MonitordAuditGate>(monitord_socket);
}

}  // namespace secureos::capd
