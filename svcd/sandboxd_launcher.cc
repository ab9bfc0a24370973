// Launcher for levels 3-5: sandboxd's Create, Start, Wait, Kill and Status.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status.h"
#include "common/unix_channel.h"
#include "proto/sandboxd.grpc.pb.h"
#include "svcd/launcher.h"
#include "common/run_followers.h"
#include "common/sandboxd_outcome.h"

namespace secureos::svcd {
namespace {

using sandboxd::v1::RunEvent;
using sandboxd::v1::Sandboxd;

constexpr absl::Duration kCallTimeout = absl::Seconds(15);

class SandboxdLauncher : public Launcher {
 public:
  explicit SandboxdLauncher(const std::string& socket)
      : stub_(Sandboxd::NewStub(UnixChannel(socket))) {}

  absl::StatusOr<RunHandle> Launch(const LaunchRequest& request, OnExit on_exit) override {
    sandboxd::v1::WorkloadInfo created;
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
      SECUREOS_RETURN_IF_ERROR(FromGrpcStatus(stub_->Create(&ctx, request.create, &created)));
    }
    sandboxd::v1::WorkloadRef ref;
    ref.set_id(created.id());
    sandboxd::v1::WorkloadInfo started;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    SECUREOS_RETURN_IF_ERROR(FromGrpcStatus(stub_->Start(&ctx, ref, &started)));
    return Follow(started, std::move(on_exit));
  }

  absl::StatusOr<RunHandle> Adopt(const std::string& id, OnExit on_exit) override {
    sandboxd::v1::WorkloadRef ref;
    ref.set_id(id);
    sandboxd::v1::WorkloadInfo info;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    SECUREOS_RETURN_IF_ERROR(FromGrpcStatus(stub_->Status(&ctx, ref, &info)));
    return Follow(info, std::move(on_exit));
  }

  absl::Status Signal(const std::string& id, int signal) override {
    sandboxd::v1::KillRequest req;
    req.set_id(id);
    req.set_signal(signal);
    sandboxd::v1::KillResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    return FromGrpcStatus(stub_->Kill(&ctx, req, &resp));
  }

 private:
  absl::StatusOr<RunHandle> Follow(const sandboxd::v1::WorkloadInfo& info, OnExit on_exit) {
    RunHandle h{info.id(), info.pid(), {info.cgroup_paths().begin(), info.cgroup_paths().end()}};
    const std::string id = info.id();
    followers_.Follow(
        nullptr,
        [this, id](grpc::ClientContext* ctx, int) -> std::optional<RunOutcome> {
          sandboxd::v1::WorkloadRef ref;
          ref.set_id(id);
          auto reader = stub_->Wait(ctx, ref);
          return ReadToExit(reader.get(), SandboxdOutcome, "sandboxd");
        },
        std::move(on_exit));
    return h;
  }

  std::unique_ptr<Sandboxd::Stub> stub_;
  RunFollowers followers_;
};

}  // namespace

std::unique_ptr<Launcher> NewSandboxdLauncher(const std::string& socket) {
  return std::make_unique<SandboxdLauncher>(socket);
}

}  // namespace secureos::svcd
