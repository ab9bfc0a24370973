#include "monitord/monitord_service.h"

#include "common/grpc_status.h"

namespace secureos::monitord {

MonitordService::MonitordService(DaemonCore* core, std::unique_ptr<Monitor> monitor,
                                 std::function<absl::StatusOr<v1::ReloadRulesResponse>()> reload_rules)
    : BasicService(core), monitor_(std::move(monitor)), reload_rules_(std::move(reload_rules)) {}

MethodTable MonitordService::AccessTable() {
  MethodTable t = BasicMethods();
  for (const char* read : {"Watch", "Violations", "Stats", "Ready"}) t[read] = Access::kRead;
  t["ReloadRules"] = Access::kAdmin;
  return t;
}

grpc::Status MonitordService::Watch(grpc::ServerContext* ctx, const v1::WatchRequest* request,
                                    grpc::ServerWriter<v1::Alert>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  uint64_t cursor = monitor_->alerts().next();  // From now on.
  while (!ctx->IsCancelled()) {
    for (const v1::Alert& a : monitor_->alerts().WaitAfter(&cursor, absl::Milliseconds(200))) {
      if (a.severity() < request->min_severity()) continue;
      if (!writer->Write(a)) return grpc::Status::OK;
    }
  }
  return grpc::Status::OK;
}

grpc::Status MonitordService::Violations(grpc::ServerContext* ctx, const v1::ViolationsRequest* request,
                                         v1::ViolationsResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  *response = monitor_->alerts().Query(*request);
  return grpc::Status::OK;
}

grpc::Status MonitordService::Stats(grpc::ServerContext* ctx, const v1::StatsRequest*, v1::StatsResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  *response = monitor_->Stats();
  return grpc::Status::OK;
}

grpc::Status MonitordService::Ready(grpc::ServerContext* ctx, const v1::ReadyRequest* request,
                                    v1::ReadyResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  *response = monitor_->Ready(request->source());
  return grpc::Status::OK;
}

grpc::Status MonitordService::ReloadRules(grpc::ServerContext* ctx, const v1::ReloadRulesRequest*,
                                          v1::ReloadRulesResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  absl::StatusOr<v1::ReloadRulesResponse> r = reload_rules_();
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = std::move(*r);
  return grpc::Status::OK;
}

}  // namespace secureos::monitord
