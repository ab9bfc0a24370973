// WorkloadRunner over sandboxd's gRPC API.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/status.h"
#include "common/run_followers.h"
#include "common/sandboxd_outcome.h"
#include "common/unix_channel.h"
#include "containerd-lite/workload_runner.h"
#include "proto/sandboxd.grpc.pb.h"

namespace secureos::ctr {
namespace {

namespace sbx = ::secureos::sandboxd::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(15);

class SandboxdRunner : public WorkloadRunner {
 public:
  explicit SandboxdRunner(const std::string& socket)
      : stub_(sbx::Sandboxd::NewStub(
            UnixChannel(socket))) {}

  absl::StatusOr<sbx::WorkloadInfo> Create(const sbx::CreateRequest& request) override {
    return Call<sbx::WorkloadInfo>(&sbx::Sandboxd::Stub::Create, request);
  }

  absl::StatusOr<sbx::WorkloadInfo> Start(const std::string& id) override {
    return Call<sbx::WorkloadInfo>(&sbx::Sandboxd::Stub::Start, Ref(id));
  }

  absl::Status Kill(const std::string& id, int signal) override {
    sbx::KillRequest request;
    request.set_id(id);
    request.set_signal(signal);
    return Call<sbx::KillResponse>(&sbx::Sandboxd::Stub::Kill, request).status();
  }

  absl::StatusOr<sbx::WorkloadInfo> Status(const std::string& id) override {
    return Call<sbx::WorkloadInfo>(&sbx::Sandboxd::Stub::Status, Ref(id));
  }

  void Follow(const std::string& id, OnExit on_exit) override {
    followers_.Follow(
        nullptr,
        [this, id](grpc::ClientContext* ctx, int) -> std::optional<RunOutcome> {
          auto reader = stub_->Wait(ctx, Ref(id));
          return ReadToExit(reader.get(), SandboxdOutcome, "sandboxd");
        },
        std::move(on_exit));
  }

  absl::Status Wait(const std::string& id, const OnEvent& on_event,
                    const std::function<bool()>& cancelled) override {
    return ReadStream([&](grpc::ClientContext* ctx) { return stub_->Wait(ctx, Ref(id)); }, on_event,
                      cancelled);
  }

  absl::Status Exec(const sbx::ExecRequest& request, const OnEvent& on_event,
                    const std::function<bool()>& cancelled) override {
    return ReadStream([&](grpc::ClientContext* ctx) { return stub_->Exec(ctx, request); }, on_event,
                      cancelled);
  }

 private:
  // Reads a RunEvent stream to its exited record (OK), until on_event says stop, or until
  // `cancelled` says so: a watcher polls it every 100 ms and cancels the call, since a reader
  // blocked in Read cannot look.
  template <typename Open>
  absl::Status ReadStream(Open open, const OnEvent& on_event, const std::function<bool()>& cancelled) {
    grpc::ClientContext ctx;
    absl::Notification finished;
    std::thread watcher([&] {
      while (!finished.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
        if (cancelled()) {
          ctx.TryCancel();
          return;
        }
      }
    });
    auto reader = open(&ctx);
    sbx::RunEvent event;
    bool exited = false;
    while (reader->Read(&event)) {
      exited = exited || event.has_exited();
      if (!on_event(event)) {
        ctx.TryCancel();
        break;
      }
    }
    grpc::Status s = reader->Finish();
    finished.Notify();
    watcher.join();
    if (exited) return absl::OkStatus();
    if (s.ok()) return absl::UnavailableError("sandboxd ended the stream before the exit");
    return FromGrpcStatus(s);
  }

  static sbx::WorkloadRef Ref(const std::string& id) {
    sbx::WorkloadRef ref;
    ref.set_id(id);
    return ref;
  }

  template <typename Response, typename Method, typename Request>
  absl::StatusOr<Response> Call(Method method, const Request& request) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    Response response;
    SECUREOS_RETURN_IF_ERROR(FromGrpcStatus((stub_.get()->*method)(&ctx, request, &response)));
    return response;
  }

  std::unique_ptr<sbx::Sandboxd::Stub> stub_;
  RunFollowers followers_;  // Last: destroyed (its threads joined) first.
};

}  // namespace

std::unique_ptr<WorkloadRunner> NewSandboxdRunner(const std::string& sandboxd_socket) {
  return std::make_unique<SandboxdRunner>(sandboxd_socket);
}

}  // namespace secureos::ctr
