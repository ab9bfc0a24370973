// svcd's gRPC service: authorization, required-field checks and conversion only; the work is
// in service_manager and the libraries it names.
#ifndef SECUREOS_SVCD_SVCD_SERVICE_H_
#define SECUREOS_SVCD_SVCD_SERVICE_H_

#include <memory>

#include "common/access_policy.h"
#include "common/basic_service.h"
#include "proto/svcd.grpc.pb.h"
#include "svcd/service_manager.h"

namespace secureos::svcd {

class SvcdService : public BasicService<v1::Svcd> {
 public:
  SvcdService(DaemonCore* core, std::unique_ptr<ServiceManager> manager);

  // Read-only: Health, Version, ListServices, GetStatus, Explain. Peer: Subscribe. Admin:
  // everything else, Logs included (services write secrets to their logs).
  static MethodTable AccessTable();

  grpc::Status AddService(grpc::ServerContext* ctx, const v1::AddServiceRequest* request,
                          v1::ServiceStatus* response) override;
  grpc::Status UpdateService(grpc::ServerContext* ctx, const v1::UpdateServiceRequest* request,
                             v1::ServiceStatus* response) override;
  grpc::Status RemoveService(grpc::ServerContext* ctx, const v1::RemoveServiceRequest* request,
                             v1::RemoveServiceResponse* response) override;
  grpc::Status StartService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                            v1::ServiceStatus* response) override;
  grpc::Status StopService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                           v1::ServiceStatus* response) override;
  grpc::Status RestartService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                              v1::ServiceStatus* response) override;
  grpc::Status ResetFailed(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                           v1::ServiceStatus* response) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                         v1::ServiceStatus* response) override;
  grpc::Status ListServices(grpc::ServerContext* ctx, const v1::ListServicesRequest* request,
                            v1::ListServicesResponse* response) override;
  grpc::Status Explain(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                       v1::ExplainResponse* response) override;
  grpc::Status Logs(grpc::ServerContext* ctx, const v1::LogsRequest* request,
                    grpc::ServerWriter<v1::LogChunk>* writer) override;

 private:
  std::unique_ptr<ServiceManager> manager_;
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_SVCD_SERVICE_H_
