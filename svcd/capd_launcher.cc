// Launcher for levels 1-2: capd's Spawn, Watch and Signal.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/unix_channel.h"
#include "proto/capd.grpc.pb.h"
#include "svcd/launcher.h"
#include "common/run_followers.h"

namespace secureos::svcd {
namespace {

using capd::v1::Capd;
using capd::v1::SpawnEvent;

constexpr absl::Duration kCallTimeout = absl::Seconds(15);

RunOutcome OutcomeOf(const capd::v1::Exited& e) {
  RunOutcome o;
  switch (e.how_case()) {
    case capd::v1::Exited::kCode:
      o.known = true;
      o.has_code = true;
      o.code = e.code();
      o.reason = "exited";
      break;
    case capd::v1::Exited::kSignal:
      o.known = true;
      o.signal = e.signal();
      o.reason = "killed";
      break;
    default:
      o.reason = "unknown";
  }
  o.detail = e.note();
  return o;
}

class CapdLauncher : public Launcher {
 public:
  explicit CapdLauncher(const std::string& socket)
      : stub_(Capd::NewStub(UnixChannel(socket))) {}

  absl::StatusOr<RunHandle> Launch(const LaunchRequest& request, OnExit on_exit) override {
    auto ctx = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<grpc::ClientReader<SpawnEvent>> reader = stub_->Spawn(ctx.get(), request.spawn);
    SpawnEvent first;
    if (!reader->Read(&first) || !first.has_started()) {
      absl::Status s = FromGrpcStatus(reader->Finish());
      if (s.ok()) s = absl::InternalError("capd: the spawn stream ended before it started");
      return s;
    }
    RunHandle h{first.started().id(), first.started().pid(), {}};
    followers_.Follow(std::move(ctx), Attempt(h.id, std::move(reader)), std::move(on_exit));
    return h;
  }

  absl::StatusOr<RunHandle> Adopt(const std::string& id, OnExit on_exit) override {
    auto ctx = std::make_unique<grpc::ClientContext>();
    capd::v1::WatchRequest req;
    req.set_id(id);
    std::unique_ptr<grpc::ClientReader<SpawnEvent>> reader = stub_->Watch(ctx.get(), req);
    SpawnEvent first;
    if (!reader->Read(&first) || !first.has_started()) {
      return FromGrpcStatus(reader->Finish());
    }
    RunHandle h{id, first.started().pid(), {}};
    followers_.Follow(std::move(ctx), Attempt(id, std::move(reader)), std::move(on_exit));
    return h;
  }

  absl::Status Signal(const std::string& id, int signal) override {
    capd::v1::SignalRequest req;
    req.set_id(id);
    req.set_signal(signal);
    capd::v1::SignalResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    return FromGrpcStatus(stub_->Signal(&ctx, req, &resp));
  }


 private:
  // Attempt 0 continues the stream already open; later ones re-attach with Watch.
  // The first reader is used up (and destroyed) in attempt 0, while its context still lives.
  RunFollowers::Attempt Attempt(const std::string& id,
                                std::unique_ptr<grpc::ClientReader<SpawnEvent>> first) {
    auto held = std::make_shared<std::unique_ptr<grpc::ClientReader<SpawnEvent>>>(std::move(first));
    return [this, id, held](grpc::ClientContext* ctx, int n) -> std::optional<RunOutcome> {
      if (n == 0 && *held != nullptr) {
        std::unique_ptr<grpc::ClientReader<SpawnEvent>> reader = std::move(*held);
        return ReadToExit(reader.get(), OutcomeOf, "capd");
      }
      capd::v1::WatchRequest req;
      req.set_id(id);
      auto reader = stub_->Watch(ctx, req);
      return ReadToExit(reader.get(), OutcomeOf, "capd");
    };
  }

  std::unique_ptr<Capd::Stub> stub_;
  RunFollowers followers_;  // Last: stopped before the stub goes.
};

}  // namespace

std::unique_ptr<Launcher> NewCapdLauncher(const std::string& socket) {
  return std::make_unique<CapdLauncher>(socket);
}

}  // namespace secureos::svcd
