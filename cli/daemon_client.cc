#include "cli/daemon_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "proto/capd.grpc.pb.h"
#include "proto/containerd_lite.grpc.pb.h"
#include "proto/monitord.grpc.pb.h"
#include "proto/sandboxd.grpc.pb.h"
#include "proto/svcd.grpc.pb.h"

namespace secureos::cli {
namespace {

template <typename GrpcService>
class Client : public DaemonClient {
 public:
  Client(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(GrpcService::NewStub(channel)), timeout_(timeout) {}

  absl::StatusOr<common::v1::HealthResponse> Health() override {
    return Unary<common::v1::HealthResponse>(&GrpcService::Stub::Health,
                                             common::v1::HealthRequest());
  }
  absl::StatusOr<common::v1::VersionResponse> Version() override {
    return Unary<common::v1::VersionResponse>(&GrpcService::Stub::Version,
                                              common::v1::VersionRequest());
  }
  absl::StatusOr<common::v1::ReloadResponse> Reload() override {
    return Unary<common::v1::ReloadResponse>(&GrpcService::Stub::Reload,
                                             common::v1::ReloadRequest());
  }

  absl::Status Subscribe(
      const common::v1::SubscribeRequest& request,
      const std::function<bool(const common::v1::SubscribeResponse&)>& on_record) override {
    grpc::ClientContext ctx;
    auto reader = stub_->Subscribe(&ctx, request);
    common::v1::SubscribeResponse record;
    while (reader->Read(&record)) {
      if (!on_record(record)) {
        ctx.TryCancel();
        reader->Finish();
        return absl::OkStatus();
      }
    }
    return FromGrpcStatus(reader->Finish());
  }

 private:
  template <typename Response, typename Method, typename Request>
  absl::StatusOr<Response> Unary(Method method, const Request& request) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    Response response;
    grpc::Status status = ((*stub_).*method)(&ctx, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::unique_ptr<typename GrpcService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

absl::StatusOr<DaemonClient*> ConnectDaemon(absl::string_view daemon,
                                                            const std::string& socket_path,
                                                            absl::Duration timeout) {
  auto channel = grpc::CreateChannel(absl::StrCat("unix:", socket_path),
                                     grpc::InsecureChannelCredentials());
  // Deliberately never freed: see the header.
  if (daemon == "capd") return new Client<capd::v1::Capd>(channel, timeout);
  if (daemon == "sandboxd") return new Client<sandboxd::v1::Sandboxd>(channel, timeout);
  if (daemon == "containerd-lite") {
    return new Client<containerd_lite::v1::ContainerdLite>(channel, timeout);
  }
  if (daemon == "svcd") return new Client<svcd::v1::Svcd>(channel, timeout);
  if (daemon == "monitord") return new Client<monitord::v1::Monitord>(channel, timeout);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown daemon \"", daemon, "\": expected capd, sandboxd, containerd-lite, svcd or monitord"));
}

}  // namespace secureos::cli
