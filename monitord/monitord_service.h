// monitord's gRPC service: authorization and conversion only; the work is in monitor.h.
#ifndef SECUREOS_MONITORD_MONITORD_SERVICE_H_
#define SECUREOS_MONITORD_MONITORD_SERVICE_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/access_policy.h"
#include "common/basic_service.h"
#include "monitord/monitor.h"
#include "proto/monitord.grpc.pb.h"

namespace secureos::monitord {

class MonitordService : public BasicService<v1::Monitord> {
 public:
  // `reload_rules` re-reads the rules file and hands it to the monitor (or says why not).
  MonitordService(DaemonCore* core, std::unique_ptr<Monitor> monitor,
                  std::function<absl::StatusOr<v1::ReloadRulesResponse>()> reload_rules);

  // Read-only: Health, Version, Watch, Violations, Stats, Ready. Peer: Subscribe. Admin: Reload,
  // ReloadRules.
  static MethodTable AccessTable();

  grpc::Status Watch(grpc::ServerContext* ctx, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::Alert>* writer) override;
  grpc::Status Violations(grpc::ServerContext* ctx, const v1::ViolationsRequest* request,
                          v1::ViolationsResponse* response) override;
  grpc::Status Stats(grpc::ServerContext* ctx, const v1::StatsRequest* request,
                     v1::StatsResponse* response) override;
  grpc::Status Ready(grpc::ServerContext* ctx, const v1::ReadyRequest* request,
                     v1::ReadyResponse* response) override;
  grpc::Status ReloadRules(grpc::ServerContext* ctx, const v1::ReloadRulesRequest* request,
                           v1::ReloadRulesResponse* response) override;

 private:
  std::unique_ptr<Monitor> monitor_;
  std::function<absl::StatusOr<v1::ReloadRulesResponse>()> reload_rules_;
};

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_MONITORD_SERVICE_H_
