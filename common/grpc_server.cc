#include "common/grpc_server.h"

#include <grpcpp/server_posix.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status.h"

namespace secureos {

using grpc::experimental::InterceptionHookPoints;

class UdsGrpcServer::Interceptor : public grpc::experimental::Interceptor {
 public:
  Interceptor(UdsGrpcServer* server, grpc::experimental::ServerRpcInfo* info, uint64_t id)
      : server_(server), info_(info), id_(id) {}
  ~Interceptor() override { server_->ForgetCall(id_, info_->server_context()); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      server_->DecideCall(id_, info_->method(), info_->server_context());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        server_->WasDenied(info_->server_context()) &&
        methods->GetSendStatus().error_code() != grpc::StatusCode::PERMISSION_DENIED) {
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          absl::StrCat(info_->method(), ": denied by the access table")));
    }
    methods->Proceed();
  }

 private:
  UdsGrpcServer* const server_;
  grpc::experimental::ServerRpcInfo* const info_;
  const uint64_t id_;
};

class UdsGrpcServer::InterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InterceptorFactory(UdsGrpcServer* server) : server_(server) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(server_, info, next_id_.fetch_add(1));
  }

 private:
  UdsGrpcServer* const server_;
  std::atomic<uint64_t> next_id_{1};
};

UdsGrpcServer::UdsGrpcServer(AccessPolicy* policy, EventRing* events)
    : policy_(policy), events_(events) {}

UdsGrpcServer::~UdsGrpcServer() { Shutdown(absl::Now()); }

absl::Status UdsGrpcServer::AddService(grpc::Service* service,
                                       const google::protobuf::ServiceDescriptor& desc,
                                       MethodTable table) {
  SECUREOS_RETURN_IF_ERROR(CheckMethodTable(desc, table));
  for (const auto& [name, access] : table) {
    methods_[absl::StrCat("/", desc.full_name(), "/", name)] = access;
  }
  services_.push_back(service);
  return absl::OkStatus();
}

absl::Status UdsGrpcServer::Start(const UnixListener::Options& socket) {
  SECUREOS_ASSIGN_OR_RETURN(listener_, UnixListener::Open(socket));
  grpc::ServerBuilder builder;
  for (grpc::Service* s : services_) builder.RegisterService(s);
  builder.SetMaxReceiveMessageSize(4 << 20);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<InterceptorFactory>(this));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) return absl::InternalError("gRPC server failed to start");
  listener_->Start([this](UniqueFd conn, const PeerCredentials& peer) {
    {
      absl::MutexLock lock(&mu_);
      peers_[conn.get()] = peer;
    }
    grpc::AddInsecureChannelFromFd(server_.get(), conn.Release());
  });
  return absl::OkStatus();
}

void UdsGrpcServer::DecideCall(uint64_t call_id, const std::string& method,
                               const grpc::ServerContextBase* ctx) {
  CallRecord record;
  record.id = call_id;
  record.method = method;
  // peer() is "fd:N" for channels made with AddInsecureChannelFromFd.
  const std::string peer = ctx->peer();
  int fd = -1;
  bool known_peer = absl::StartsWith(peer, "fd:") && absl::SimpleAtoi(peer.substr(3), &fd);
  auto access = methods_.find(method);
  {
    absl::MutexLock lock(&mu_);
    if (known_peer) {
      auto it = peers_.find(fd);
      known_peer = it != peers_.end();
      if (known_peer) record.caller.creds = it->second;
    }
  }
  if (!known_peer) {
    record.decision.rule = absl::StrCat("no credentials recorded for peer \"", peer, "\"");
  } else if (access == methods_.end()) {
    record.decision.rule = "method has no entry in the access table";
  } else {
    record.decision = policy_->Decide(access->second, record.caller.creds);
  }
  record.caller.granted = record.decision.required;
  record.caller.rule = record.decision.rule;
  if (!record.decision.allowed) RecordDenial(record);
  absl::MutexLock lock(&mu_);
  calls_[ctx] = std::move(record);
}

void UdsGrpcServer::RecordDenial(const CallRecord& record) {
  const PeerCredentials& c = record.caller.creds;
  Log(LogLevel::kWarning, "permission denied",
      {{"method", record.method},
       {"uid", absl::StrCat(c.uid)},
       {"gid", absl::StrCat(c.gid)},
       {"pid", absl::StrCat(c.pid)},
       {"rule", record.decision.rule}});
  common::v1::Event event;
  event.set_kind(common::v1::EVENT_KIND_ACCESS_DENIED);
  event.set_severity(common::v1::SEVERITY_WARNING);
  event.set_message(absl::StrCat(record.method, " denied to uid ", c.uid));
  event.mutable_principal()->set_id(absl::StrCat("uid:", c.uid));
  event.mutable_principal()->set_uid(c.uid);
  event.mutable_principal()->set_gid(c.gid);
  event.mutable_principal()->set_pid(c.pid);
  auto* details = event.mutable_access_denied();
  details->set_method(record.method);
  details->set_required(std::string(AccessName(record.decision.required)));
  details->set_rule(record.decision.rule);
  events_->Publish(std::move(event));
}

void UdsGrpcServer::ForgetCall(uint64_t call_id, const grpc::ServerContextBase* ctx) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(ctx);
  // A context can be reused by a later call: only remove our own record.
  if (it != calls_.end() && it->second.id == call_id) calls_.erase(it);
}

bool UdsGrpcServer::WasDenied(const grpc::ServerContextBase* ctx) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(ctx);
  return it == calls_.end() || !it->second.decision.allowed;
}

absl::StatusOr<Caller> UdsGrpcServer::Authorize(const grpc::ServerContextBase* ctx) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(ctx);
  if (it == calls_.end()) {
    return absl::PermissionDeniedError("no authorization decision for this call");
  }
  const CallRecord& r = it->second;
  if (!r.decision.allowed) {
    return absl::PermissionDeniedError(
        absl::StrCat(r.method, " needs ", AccessName(r.decision.required), " access: ",
                     r.decision.rule));
  }
  return r.caller;
}

void UdsGrpcServer::Shutdown(absl::Time deadline) {
  if (listener_ != nullptr) listener_->Stop();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(deadline));
    server_->Wait();
    server_.reset();
  }
  listener_.reset();  // Removes the socket and the lock file.
}

}  // namespace secureos
