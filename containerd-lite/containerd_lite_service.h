// containerd-lite's gRPC service: authorization, required fields and conversion only; the
// work is in container_manager and the libraries it names.
#ifndef SECUREOS_CONTAINERD_LITE_CONTAINERD_LITE_SERVICE_H_
#define SECUREOS_CONTAINERD_LITE_CONTAINERD_LITE_SERVICE_H_

#include <memory>

#include "common/access_policy.h"
#include "common/basic_service.h"
#include "containerd-lite/container_manager.h"
#include "proto/containerd_lite.grpc.pb.h"

namespace secureos::ctr {

class ContainerdLiteService : public BasicService<containerd_lite::v1::ContainerdLite> {
 public:
  ContainerdLiteService(DaemonCore* core, std::unique_ptr<ContainerManager> manager);

  // Read-only: Health, Version, State, List, Stats, Check. Peer: Subscribe. Admin: the rest
  // (Create, Start, Kill, Delete, Run, Exec, Reload).
  static MethodTable AccessTable();

  grpc::Status Create(grpc::ServerContext* ctx, const containerd_lite::v1::CreateRequest* request,
                      containerd_lite::v1::ContainerState* response) override;
  grpc::Status Start(grpc::ServerContext* ctx, const containerd_lite::v1::ContainerRef* request,
                     containerd_lite::v1::ContainerState* response) override;
  grpc::Status State(grpc::ServerContext* ctx, const containerd_lite::v1::ContainerRef* request,
                     containerd_lite::v1::ContainerState* response) override;
  grpc::Status Kill(grpc::ServerContext* ctx, const containerd_lite::v1::KillRequest* request,
                    containerd_lite::v1::KillResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const containerd_lite::v1::DeleteRequest* request,
                      containerd_lite::v1::DeleteResponse* response) override;
  grpc::Status List(grpc::ServerContext* ctx, const containerd_lite::v1::ListRequest* request,
                    containerd_lite::v1::ListResponse* response) override;
  grpc::Status Run(grpc::ServerContext* ctx, const containerd_lite::v1::RunRequest* request,
                   grpc::ServerWriter<containerd_lite::v1::RunEvent>* writer) override;
  grpc::Status Exec(grpc::ServerContext* ctx, const containerd_lite::v1::ExecRequest* request,
                    grpc::ServerWriter<containerd_lite::v1::RunEvent>* writer) override;
  grpc::Status Stats(grpc::ServerContext* ctx, const containerd_lite::v1::StatsRequest* request,
                     grpc::ServerWriter<containerd_lite::v1::ContainerStats>* writer) override;
  grpc::Status Check(grpc::ServerContext* ctx, const containerd_lite::v1::CheckRequest* request,
                     containerd_lite::v1::CheckResponse* response) override;

 private:
  std::unique_ptr<ContainerManager> manager_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_CONTAINERD_LITE_SERVICE_H_
