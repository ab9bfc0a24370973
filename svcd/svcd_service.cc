#include "svcd/svcd_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace secureos::svcd {
namespace {

absl::Status RequireName(const std::string& name, const char* field) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return absl::OkStatus();
}

template <typename Message>
grpc::Status Reply(absl::StatusOr<Message> result, Message* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

SvcdService::SvcdService(DaemonCore* core, std::unique_ptr<ServiceManager> manager)
    : BasicService(core), manager_(std::move(manager)) {
  ServiceManager* m = manager_.get();
  core->OnReload([m](const google::protobuf::Message&) { m->Rescan(); });
}

MethodTable SvcdService::AccessTable() {
  MethodTable t = BasicMethods();
  for (const char* admin : {"AddService", "UpdateService", "RemoveService", "StartService", "StopService",
                            "RestartService", "ResetFailed", "Logs"}) {
    t[admin] = Access::kAdmin;
  }
  for (const char* read : {"GetStatus", "ListServices", "Explain"}) t[read] = Access::kRead;
  return t;
}

grpc::Status SvcdService::AddService(grpc::ServerContext* ctx, const v1::AddServiceRequest* request,
                                     v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (!request->has_definition()) return ToGrpcStatus(absl::InvalidArgumentError("definition: required"));
  return Reply(manager_->Add(request->definition()), response);
}

grpc::Status SvcdService::UpdateService(grpc::ServerContext* ctx, const v1::UpdateServiceRequest* request,
                                        v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (!request->has_definition()) return ToGrpcStatus(absl::InvalidArgumentError("definition: required"));
  return Reply(manager_->Update(request->definition()), response);
}

grpc::Status SvcdService::RemoveService(grpc::ServerContext* ctx, const v1::RemoveServiceRequest* request,
                                        v1::RemoveServiceResponse*) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return ToGrpcStatus(manager_->Remove(request->name()));
}

grpc::Status SvcdService::StartService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                       v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->Start(request->name()), response);
}

grpc::Status SvcdService::StopService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                      v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->Stop(request->name()), response);
}

grpc::Status SvcdService::RestartService(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                         v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->Restart(request->name()), response);
}

grpc::Status SvcdService::ResetFailed(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                      v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->ResetFailed(request->name()), response);
}

grpc::Status SvcdService::GetStatus(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                    v1::ServiceStatus* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->Status(request->name()), response);
}

grpc::Status SvcdService::ListServices(grpc::ServerContext* ctx, const v1::ListServicesRequest*,
                                       v1::ListServicesResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (v1::ServiceStatus& s : manager_->List()) *response->add_services() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status SvcdService::Explain(grpc::ServerContext* ctx, const v1::ServiceRef* request,
                                  v1::ExplainResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  return Reply(manager_->Explain(request->name()), response);
}

grpc::Status SvcdService::Logs(grpc::ServerContext* ctx, const v1::LogsRequest* request,
                               grpc::ServerWriter<v1::LogChunk>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = RequireName(request->name(), "name"); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = manager_->Status(request->name()).status(); !s.ok()) return ToGrpcStatus(s);
  const uint64_t tail = request->tail_bytes() == 0 ? 8192 : request->tail_bytes();
  return ToGrpcStatus(manager_->logs().Read(
      request->name(), tail, request->follow(),
      [writer](absl::string_view data) {
        v1::LogChunk chunk;
        chunk.set_data(std::string(data));
        return writer->Write(chunk);
      },
      [ctx, this] { return ctx->IsCancelled() || core()->stopping(); }));
}

}  // namespace secureos::svcd
