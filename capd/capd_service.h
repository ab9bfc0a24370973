// capd's gRPC service: authorization, validation and conversion only. The work is in
// cap_set, proc_status, grant_store, spawn_plan, spawner and spawn_registry.
#ifndef SECUREOS_CAPD_CAPD_SERVICE_H_
#define SECUREOS_CAPD_CAPD_SERVICE_H_

#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "capd/audit_gate.h"
#include "capd/grant_store.h"
#include "capd/spawn_registry.h"
#include "common/access_policy.h"
#include "common/basic_service.h"
#include "proto/capd.grpc.pb.h"

namespace secureos::capd {

class CapdService : public BasicService<v1::Capd> {
 public:
  // Starts the maintenance thread: lease expiry and drift checks, every
  // drift_check_interval_seconds of the configuration in force (so a reload applies).
  // `audit_gate` is asked before every grant and spawn while required_audit is on.
  CapdService(DaemonCore* core, std::unique_ptr<GrantStore> grants,
              std::unique_ptr<SpawnRegistry> spawns, CapSet grantable, std::unique_ptr<AuditGate> audit_gate);
  ~CapdService() override;

  static MethodTable AccessTable();

  grpc::Status GetProcessCapabilities(grpc::ServerContext* ctx,
                                      const v1::GetProcessCapabilitiesRequest* request,
                                      v1::ProcessCapabilities* response) override;
  grpc::Status Audit(grpc::ServerContext* ctx, const v1::AuditRequest* request,
                     v1::AuditResponse* response) override;
  grpc::Status GrantCapabilities(grpc::ServerContext* ctx, const v1::GrantRequest* request,
                                 v1::Grant* response) override;
  grpc::Status RevokeGrant(grpc::ServerContext* ctx, const v1::RevokeRequest* request,
                           v1::RevokeResponse* response) override;
  grpc::Status ListGrants(grpc::ServerContext* ctx, const v1::ListGrantsRequest* request,
                          v1::ListGrantsResponse* response) override;
  grpc::Status Authorize(grpc::ServerContext* ctx, const v1::AuthorizeRequest* request,
                         v1::AuthorizeResponse* response) override;
  grpc::Status Spawn(grpc::ServerContext* ctx, const v1::SpawnRequest* request,
                     grpc::ServerWriter<v1::SpawnEvent>* writer) override;
  grpc::Status Signal(grpc::ServerContext* ctx, const v1::SignalRequest* request,
                      v1::SignalResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::SpawnEvent>* writer) override;
  grpc::Status ListSpawns(grpc::ServerContext* ctx, const v1::ListSpawnsRequest* request,
                          v1::ListSpawnsResponse* response) override;
  grpc::Status CheckDrift(grpc::ServerContext* ctx, const v1::CheckDriftRequest* request,
                          v1::CheckDriftResponse* response) override;

 private:
  // OK unless required_audit is on and monitord cannot record capd's events now; a refusal
  // is also a CAPABILITY_DENIED event (which monitord reads once it is back).
  absl::Status CheckRequiredAudit(const std::string& principal, const std::string& what);
  std::unique_ptr<AuditGate> audit_gate_;
  // container_default_capabilities for a "container:ID" principal; empty for the others.
  CapSet ContainerDefaults(const std::string& principal) const;
  absl::StatusOr<CapSet> CheckSpawnPolicy(const v1::SpawnRequest& request, const CapSet& caps,
                                          const Caller& caller);
  void ApplyRevocation(const GrantRecord& grant, const std::string& why);
  void Maintain();
  absl::Duration DriftInterval() const;
  void Publish(common::v1::EventKind kind, common::v1::Severity severity,
               const std::string& principal, const std::string& message,
               common::v1::CapabilityEvent details, const std::string& trace_id = "");

  std::unique_ptr<GrantStore> grants_;
  std::unique_ptr<SpawnRegistry> spawns_;
  const CapSet grantable_;  // Nothing outside it is granted or spawned.
  absl::Notification stop_;
  std::thread maintenance_;
};

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_CAPD_SERVICE_H_
