#include "sandboxd/sandboxd_service.h"

#include <signal.h>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/trace_id.h"
#include "sandboxd/workload_plan.h"

namespace secureos::sandboxd {
namespace {

// RunRequest and CreateRequest spell their output fields alike.
template <typename Request>
OutputRequest Output(const Request& request, v1::OutputMode fallback) {
  OutputRequest o;
  o.mode = request.output() == v1::OUTPUT_MODE_UNSPECIFIED ? fallback : request.output();
  o.stdout_path = request.stdout_path();
  o.stderr_path = request.stderr_path();
  return o;
}

// Whom capd authorizes a workload's capabilities for.
absl::StatusOr<std::string> CapabilityPrincipal(const v1::SandboxSpec& spec) {
  if (spec.principal().empty()) {
    if (spec.name().empty()) {
      return absl::InvalidArgumentError(
          "name: required when capabilities are kept (capd authorizes sandbox:<name>)");
    }
    return absl::StrCat("sandbox:", spec.name());
  }
  for (absl::string_view kind : {"sandbox:", "container:"}) {
    if (absl::StartsWith(spec.principal(), kind) && spec.principal().size() > kind.size()) {
      return spec.principal();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "principal: must be \"sandbox:NAME\" or \"container:ID\", got \"", spec.principal(), "\""));
}

}  // namespace

SandboxdService::SandboxdService(DaemonCore* core, std::unique_ptr<WorkloadRegistry> workloads,
                                 std::unique_ptr<CapabilityAuthorizer> authorizer)
    : BasicService(core), workloads_(std::move(workloads)), authorizer_(std::move(authorizer)) {}

MethodTable SandboxdService::AccessTable() {
  MethodTable t = BasicMethods();
  t["Run"] = Access::kPeer;
  t["Create"] = Access::kPeer;
  t["Start"] = Access::kPeer;
  t["Kill"] = Access::kPeer;
  t["Wait"] = Access::kPeer;
  t["Exec"] = Access::kPeer;
  t["Status"] = Access::kRead;
  t["List"] = Access::kRead;
  return t;
}

PlanContext SandboxdService::Context() {
  auto config = core()->config().Get<v1::SandboxdConfig>();
  PlanContext context;
  context.workload_uid = config->workload_uid();
  context.id_map_count = config->id_map_count() == 0 ? 1 : config->id_map_count();
  context.container_id_start = config->container_id_start();
  context.container_id_count = config->container_id_count();
  context.filters = &filters_;
  return context;
}

absl::StatusOr<std::string> SandboxdService::Admit(const v1::SandboxSpec& spec,
                                                   absl::StatusOr<WorkloadPlan> plan,
                                                   const Caller& caller, const std::string& trace_id,
                                                   Registration how, const std::string& joins) {
  absl::Status admitted = plan.status();
  if (admitted.ok() && !spec.capabilities().empty()) {
    absl::StatusOr<std::string> principal = CapabilityPrincipal(spec);
    admitted = principal.ok() ? authorizer_->Authorize(*principal, spec.capabilities(), trace_id)
                              : principal.status();
  }
  if (!admitted.ok()) {
    common::v1::Event e;
    e.set_kind(common::v1::EVENT_KIND_WORKLOAD_REFUSED);
    e.set_severity(common::v1::SEVERITY_WARNING);
    e.set_trace_id(trace_id);
    e.mutable_principal()->set_id(absl::StrCat("uid:", caller.creds.uid));
    e.set_message(absl::StrCat(how == Registration::kExec ? "exec into " + joins : "workload", " refused: ",
                               admitted.message()));
    e.mutable_workload()->set_name(spec.name());
    e.mutable_workload()->set_rule(std::string(admitted.message()));
    core()->events().Publish(std::move(e));
    return admitted;
  }
  switch (how) {
    case Registration::kExec:
      return workloads_->CreateExec(joins, std::move(*plan), caller.creds.uid, trace_id);
    case Registration::kPrepared:
      return workloads_->CreatePrepared(std::move(*plan), caller.creds.uid, trace_id);
    default:
      return workloads_->Create(std::move(*plan), caller.creds.uid, trace_id);
  }
}

grpc::Status SandboxdService::StartAndStream(grpc::ServerContext* ctx, const std::string& id,
                                             grpc::ServerWriter<v1::RunEvent>* writer) {
  absl::Status started = workloads_->Start(id);
  absl::Status followed = workloads_->Follow(
      id, [writer](const v1::RunEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); });
  if (!followed.ok() || ctx->IsCancelled()) {
    // A one-shot workload does not outlive its caller.
    (void)workloads_->Kill(id, SIGKILL);
  }
  return ToGrpcStatus(started.ok() ? followed : started);
}

grpc::Status SandboxdService::Run(grpc::ServerContext* ctx, const v1::RunRequest* request,
                                  grpc::ServerWriter<v1::RunEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (!request->has_spec()) return ToGrpcStatus(absl::InvalidArgumentError("spec: required: the workload"));
  const OutputRequest output = Output(*request, v1::OUTPUT_MODE_STREAM);
  SECUREOS_ASSIGN_OR_RETURN_GRPC(
      std::string id, Admit(request->spec(), BuildWorkloadPlan(request->spec(), output, Context(), true),
                            caller, TraceIdOr(request->trace_id()), Registration::kOneShot));
  return StartAndStream(ctx, id, writer);
}

grpc::Status SandboxdService::Exec(grpc::ServerContext* ctx, const v1::ExecRequest* request,
                                   grpc::ServerWriter<v1::RunEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (absl::Status s = CheckExecRequest(*request); !s.ok()) return ToGrpcStatus(s);
  SECUREOS_ASSIGN_OR_RETURN_GRPC(v1::WorkloadInfo target, workloads_->Status(request->id()));
  if (target.state() != v1::WORKLOAD_STATE_RUNNING) {
    return ToGrpcStatus(absl::FailedPreconditionError(absl::StrCat("workload ", request->id(), " is not running")));
  }
  // Its capabilities are asked for again: a grant revoked since the workload started
  // does not reach a new process.
  SECUREOS_ASSIGN_OR_RETURN_GRPC(
      std::string id, Admit(target.spec(), BuildExecPlan(target.spec(), *request, Context()), caller,
                            TraceIdOr(request->trace_id()), Registration::kExec, request->id()));
  return StartAndStream(ctx, id, writer);
}

grpc::Status SandboxdService::Create(grpc::ServerContext* ctx, const v1::CreateRequest* request,
                                     v1::WorkloadInfo* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (!request->has_spec()) return ToGrpcStatus(absl::InvalidArgumentError("spec: required: the workload"));
  const OutputRequest output = Output(*request, v1::OUTPUT_MODE_NULL);
  SECUREOS_ASSIGN_OR_RETURN_GRPC(
      std::string id, Admit(request->spec(), BuildWorkloadPlan(request->spec(), output, Context(), false),
                            caller, TraceIdOr(request->trace_id()), Registration::kPrepared));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(*response, workloads_->Status(id));
  return grpc::Status::OK;
}

grpc::Status SandboxdService::Start(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                                    v1::WorkloadInfo* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("id: required"));
  if (absl::Status s = workloads_->Start(request->id()); !s.ok()) return ToGrpcStatus(s);
  SECUREOS_ASSIGN_OR_RETURN_GRPC(*response, workloads_->Status(request->id()));
  return grpc::Status::OK;
}

grpc::Status SandboxdService::Kill(grpc::ServerContext* ctx, const v1::KillRequest* request,
                                   v1::KillResponse*) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("id: required"));
  const int signal = request->signal() == 0 ? SIGKILL : request->signal();
  if (signal < 1 || signal > 64) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat("signal: must be 1-64, got ", signal)));
  }
  return ToGrpcStatus(workloads_->Kill(request->id(), signal));
}

grpc::Status SandboxdService::Status(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                                     v1::WorkloadInfo* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("id: required"));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(*response, workloads_->Status(request->id()));
  return grpc::Status::OK;
}

grpc::Status SandboxdService::List(grpc::ServerContext* ctx, const v1::ListRequest*,
                                   v1::ListResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (v1::WorkloadInfo& w : workloads_->List()) *response->add_workloads() = std::move(w);
  return grpc::Status::OK;
}

grpc::Status SandboxdService::Wait(grpc::ServerContext* ctx, const v1::WorkloadRef* request,
                                   grpc::ServerWriter<v1::RunEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("id: required"));
  return ToGrpcStatus(workloads_->Follow(
      request->id(), [writer](const v1::RunEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); }));
}

}  // namespace secureos::sandboxd
