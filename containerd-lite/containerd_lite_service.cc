#include "containerd-lite/containerd_lite_service.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_status.h"
#include "common/trace_id.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

constexpr uint32_t kDefaultIntervalMs = 1000;
constexpr uint32_t kMinIntervalMs = 100;

template <typename Message>
grpc::Status Reply(absl::StatusOr<Message> result, Message* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

Requester RequesterOf(const Caller& caller) {
  return Requester{caller.creds.uid, TraceIdOr("")};
}

}  // namespace

ContainerdLiteService::ContainerdLiteService(DaemonCore* core, std::unique_ptr<ContainerManager> manager)
    : BasicService(core), manager_(std::move(manager)) {}

MethodTable ContainerdLiteService::AccessTable() {
  MethodTable t = BasicMethods();
  for (const char* admin : {"Create", "Start", "Kill", "Delete", "Run", "Exec"}) t[admin] = Access::kAdmin;
  for (const char* read : {"State", "List", "Stats", "Check"}) t[read] = Access::kRead;
  return t;
}

grpc::Status ContainerdLiteService::Create(grpc::ServerContext* ctx, const v1::CreateRequest* request,
                                           v1::ContainerState* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return Reply(manager_->Create(*request, RequesterOf(caller)), response);
}

grpc::Status ContainerdLiteService::Start(grpc::ServerContext* ctx, const v1::ContainerRef* request,
                                          v1::ContainerState* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return Reply(manager_->Start(request->id()), response);
}

grpc::Status ContainerdLiteService::State(grpc::ServerContext* ctx, const v1::ContainerRef* request,
                                          v1::ContainerState* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return Reply(manager_->State(request->id()), response);
}

grpc::Status ContainerdLiteService::Kill(grpc::ServerContext* ctx, const v1::KillRequest* request,
                                         v1::KillResponse*) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return ToGrpcStatus(manager_->Kill(request->id(), request->signal()));
}

grpc::Status ContainerdLiteService::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* request,
                                           v1::DeleteResponse*) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return ToGrpcStatus(manager_->Delete(request->id(), request->force()));
}

grpc::Status ContainerdLiteService::List(grpc::ServerContext* ctx, const v1::ListRequest*,
                                         v1::ListResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (v1::ContainerState& s : manager_->List()) *response->add_containers() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status ContainerdLiteService::Run(grpc::ServerContext* ctx, const v1::RunRequest* request,
                                        grpc::ServerWriter<v1::RunEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return ToGrpcStatus(manager_->Run(
      *request, RequesterOf(caller), [writer](const v1::RunEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); }));
}

grpc::Status ContainerdLiteService::Exec(grpc::ServerContext* ctx, const v1::ExecRequest* request,
                                         grpc::ServerWriter<v1::RunEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return ToGrpcStatus(manager_->Exec(
      *request, RequesterOf(caller), [writer](const v1::RunEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); }));
}

grpc::Status ContainerdLiteService::Stats(grpc::ServerContext* ctx, const v1::StatsRequest* request,
                                          grpc::ServerWriter<v1::ContainerStats>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  const uint32_t interval = request->interval_ms() == 0 ? kDefaultIntervalMs : request->interval_ms();
  if (interval < kMinIntervalMs) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("interval_ms: at least ", kMinIntervalMs, ", got ", interval)));
  }
  std::optional<v1::ContainerStats> previous;
  for (int n = 0;; ++n) {
    absl::StatusOr<v1::ContainerStats> s = manager_->Sample(request->id(), previous ? &*previous : nullptr);
    // A container that stops while streamed ends the stream normally.
    if (!s.ok()) return n > 0 && absl::IsFailedPrecondition(s.status()) ? grpc::Status::OK : ToGrpcStatus(s.status());
    if (!writer->Write(*s) || request->once()) return grpc::Status::OK;
    previous = std::move(*s);
    const absl::Time next = absl::Now() + absl::Milliseconds(interval);
    while (absl::Now() < next) {
      if (ctx->IsCancelled()) return grpc::Status::OK;
      absl::SleepFor(std::min(absl::Milliseconds(100), next - absl::Now()));
    }
  }
}

grpc::Status ContainerdLiteService::Check(grpc::ServerContext* ctx, const v1::CheckRequest* request,
                                          v1::CheckResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  return Reply(manager_->Check(*request), response);
}

}  // namespace secureos::ctr
