// The four methods every daemon serves (Health, Version, Reload, Subscribe), written once.
//
// A daemon's gRPC service derives from BasicService<its generated service> and adds its own
// methods; its access table starts from BasicService::BasicMethods().
#ifndef SECUREOS_COMMON_BASIC_SERVICE_H_
#define SECUREOS_COMMON_BASIC_SERVICE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/strings/str_cat.h"
#include "common/access_policy.h"
#include "common/daemon_core.h"
#include "common/grpc_status.h"
#include "common/subscribe_stream.h"
#include "proto/common.pb.h"

namespace secureos {

template <typename GrpcService>
class BasicService : public GrpcService::Service {
 public:
  explicit BasicService(DaemonCore* core) : core_(core) {}

  static MethodTable BasicMethods() {
    return {{"Health", Access::kRead},
            {"Version", Access::kRead},
            {"Reload", Access::kAdmin},
            {"Subscribe", Access::kPeer}};
  }

  grpc::Status Health(grpc::ServerContext* ctx, const common::v1::HealthRequest*,
                      common::v1::HealthResponse* response) override {
    SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core_->Authorize(ctx));
    core_->FillHealth(response);
    return grpc::Status::OK;
  }

  grpc::Status Version(grpc::ServerContext* ctx, const common::v1::VersionRequest*,
                       common::v1::VersionResponse* response) override {
    SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core_->Authorize(ctx));
    core_->FillVersion(response);
    return grpc::Status::OK;
  }

  grpc::Status Reload(grpc::ServerContext* ctx, const common::v1::ReloadRequest*,
                      common::v1::ReloadResponse* response) override {
    SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core_->Authorize(ctx));
    SECUREOS_ASSIGN_OR_RETURN_GRPC(std::string source,
                                   core_->Reload(absl::StrCat("uid:", caller.creds.uid)));
    response->set_path(source);
    return grpc::Status::OK;
  }

  grpc::Status Subscribe(grpc::ServerContext* ctx, const common::v1::SubscribeRequest* request,
                         grpc::ServerWriter<common::v1::SubscribeResponse>* writer) override {
    SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core_->Authorize(ctx));
    // At once, not with the first event: a reader knows it is following even while the
    // ring stays quiet.
    writer->SendInitialMetadata();
    return ToGrpcStatus(ServeSubscribe(
        core_->events(), *request,
        [writer](const common::v1::SubscribeResponse& r) { return writer->Write(r); },
        [ctx] { return ctx->IsCancelled(); }));
  }

 protected:
  DaemonCore* core() const { return core_; }

 private:
  DaemonCore* const core_;
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_BASIC_SERVICE_H_
