// sandboxd's gRPC service: authorization, validation and conversion only. The work is in
// workload_plan (validation), launcher, workload_registry and the cgroup, seccomp and fs
// libraries.
#ifndef SECUREOS_SANDBOXD_SANDBOXD_SERVICE_H_
#define SECUREOS_SANDBOXD_SANDBOXD_SERVICE_H_

#include <memory>

#include "common/access_policy.h"
#include "common/basic_service.h"
#include "proto/sandboxd.grpc.pb.h"
#include "sandboxd/capability_authorizer.h"
#include "sandboxd/filter_cache.h"
#include "sandboxd/workload_plan.h"
#include "sandboxd/workload_registry.h"

namespace secureos::sandboxd {

class SandboxdService : public BasicService<v1::Sandboxd> {
 public:
  SandboxdService(DaemonCore* core, std::unique_ptr<WorkloadRegistry> workloads,
                  std::unique_ptr<CapabilityAuthorizer> authorizer);

  static MethodTable AccessTable();

  grpc::Status Run(grpc::ServerContext* ctx, const v1::RunRequest* request,
                   grpc::ServerWriter<v1::RunEvent>* writer) override;
  grpc::Status Create(grpc::ServerContext* ctx, const v1::CreateRequest* request,
                      v1::WorkloadInfo* response) override;
  grpc::Status Start(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                     v1::WorkloadInfo* response) override;
  grpc::Status Kill(grpc::ServerContext* ctx, const v1::KillRequest* request,
                    v1::KillResponse* response) override;
  grpc::Status Status(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                      v1::WorkloadInfo* response) override;
  grpc::Status List(grpc::ServerContext* ctx, const v1::ListRequest* request,
                    v1::ListResponse* response) override;
  grpc::Status Wait(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                    grpc::ServerWriter<v1::RunEvent>* writer) override;
  grpc::Status Exec(grpc::ServerContext* ctx, const v1::ExecRequest* request,
                    grpc::ServerWriter<v1::RunEvent>* writer) override;

 private:
  // What the configuration contributes to a plan.
  PlanContext Context();
  // How an admitted workload is registered: a one-shot Run, a Create (its process made and
  // held until Start), an exec into workload `joins`.
  enum class Registration { kOneShot, kPrepared, kExec };
  // Takes the validated `plan` of `spec`, asks capd for its kept capabilities, and registers
  // it; an event says why on refusal.
  absl::StatusOr<std::string> Admit(const v1::SandboxSpec& spec, absl::StatusOr<WorkloadPlan> plan,
                                    const Caller& caller, const std::string& trace_id, Registration how,
                                    const std::string& joins = "");
  // Starts a one-shot workload and streams it to `writer`; killed when the caller goes.
  grpc::Status StartAndStream(grpc::ServerContext* ctx, const std::string& id,
                              grpc::ServerWriter<v1::RunEvent>* writer);

  std::unique_ptr<WorkloadRegistry> workloads_;
  FilterCache filters_;
  std::unique_ptr<CapabilityAuthorizer> authorizer_;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SANDBOXD_SERVICE_H_
