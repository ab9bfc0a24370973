// The Unix-socket gRPC server every daemon uses, with per-call caller identity and per-method
// authorization.
//
// How identity reaches a handler on gRPC 1.51 (see DESIGN.md "Wire"): the UnixListener
// accepts each connection itself and reads SO_PEERCRED; the fd is handed to gRPC with
// grpc::AddInsecureChannelFromFd, after which ServerContext::peer() is "fd:N". A server
// interceptor maps that back to the credentials recorded at accept, looks the method up in
// the daemon's access table and records the decision for the call; a denial is logged and
// published as an ACCESS_DENIED event right there, whatever the handler does.
//
// Handlers begin with `SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, server.Authorize(ctx))`.
// As a second line of defence, a denied call whose handler nevertheless answered OK has its
// status replaced with PERMISSION_DENIED by the interceptor.
#ifndef SECUREOS_COMMON_GRPC_SERVER_H_
#define SECUREOS_COMMON_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/access_policy.h"
#include "common/event_ring.h"
#include "common/grpc_status.h"
#include "common/unix_listener.h"

namespace secureos {

// Who is calling, and why they were let in.
struct Caller {
  PeerCredentials creds;
  Access granted = Access::kRead;
  std::string rule;
};

class UdsGrpcServer {
 public:
  // `policy` and `events` must outlive the server.
  UdsGrpcServer(AccessPolicy* policy, EventRing* events);
  ~UdsGrpcServer();

  // Registers a service and its access table; CheckMethodTable must pass. Before Start().
  absl::Status AddService(grpc::Service* service, const google::protobuf::ServiceDescriptor& desc,
                          MethodTable table);

  // Opens the socket (see UnixListener) and starts serving.
  absl::Status Start(const UnixListener::Options& socket);

  // The decision recorded for this call: the caller when allowed, PERMISSION_DENIED naming
  // the method and rule when not (or when no decision exists, which fails closed).
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase* ctx) const;

  // Stops accepting, lets calls in flight finish until `deadline`, then cancels the rest,
  // and removes the socket.
  void Shutdown(absl::Time deadline);

 private:
  class Interceptor;
  class InterceptorFactory;
  struct CallRecord {
    uint64_t id = 0;
    std::string method;
    Caller caller;
    Decision decision;
  };

  // Called by the interceptor when a call's metadata arrives.
  void DecideCall(uint64_t call_id, const std::string& method, const grpc::ServerContextBase* ctx);
  void ForgetCall(uint64_t call_id, const grpc::ServerContextBase* ctx);
  bool WasDenied(const grpc::ServerContextBase* ctx) const;
  void RecordDenial(const CallRecord& record);

  AccessPolicy* const policy_;
  EventRing* const events_;
  absl::flat_hash_map<std::string, Access> methods_;  // Full name "/pkg.Svc/M" -> access.
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<UnixListener> listener_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, PeerCredentials> peers_ ABSL_GUARDED_BY(mu_);  // fd -> creds.
  absl::flat_hash_map<const grpc::ServerContextBase*, CallRecord> calls_ ABSL_GUARDED_BY(mu_);
  uint64_t next_call_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_GRPC_SERVER_H_
