#include "monitord/source_subscriber.h"

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/unix_channel.h"
#include "proto/capd.grpc.pb.h"
#include "proto/containerd_lite.grpc.pb.h"
#include "proto/monitord.grpc.pb.h"
#include "proto/sandboxd.grpc.pb.h"
#include "proto/svcd.grpc.pb.h"

namespace secureos::monitord {
namespace {

constexpr absl::Duration kRetry = absl::Milliseconds(100);

template <typename Service>
class ServiceStream : public SourceSubscriber::Stream {
 public:
  explicit ServiceStream(std::string socket) : socket_(std::move(socket)) {}

  absl::Status Subscribe(const common::v1::SubscribeRequest& request, const std::function<void()>& on_open,
                         const std::function<bool(const common::v1::SubscribeResponse&)>& on_record) override {
    // A channel of its own for every attempt: one that failed while the daemon was away
    // would wait out its reconnect backoff first.
    std::unique_ptr<typename Service::Stub> stub = Service::NewStub(UnixChannel(socket_));
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(false);
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return absl::CancelledError("stopping");
      ctx_ = &ctx;
    }
    auto reader = stub->Subscribe(&ctx, request);
    reader->WaitForInitialMetadata();  // The daemon sends it when it accepts the stream.
    on_open();
    common::v1::SubscribeResponse record;
    while (reader->Read(&record)) {
      if (!on_record(record)) {
        ctx.TryCancel();
        break;
      }
    }
    grpc::Status s = reader->Finish();
    absl::MutexLock lock(&mu_);
    ctx_ = nullptr;
    return FromGrpcStatus(s);
  }

  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
  }

 private:
  const std::string socket_;
  absl::Mutex mu_;
  grpc::ClientContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

absl::StatusOr<std::unique_ptr<SourceSubscriber::Stream>> StreamFor(const std::string& daemon,
                                                                     const std::string& socket) {
  if (daemon == "capd") return std::make_unique<ServiceStream<capd::v1::Capd>>(socket);
  if (daemon == "sandboxd") return std::make_unique<ServiceStream<sandboxd::v1::Sandboxd>>(socket);
  if (daemon == "containerd-lite") {
    return std::make_unique<ServiceStream<containerd_lite::v1::ContainerdLite>>(socket);
  }
  if (daemon == "svcd") return std::make_unique<ServiceStream<svcd::v1::Svcd>>(socket);
  if (daemon == "monitord") return std::make_unique<ServiceStream<monitord::v1::Monitord>>(socket);
  return absl::InvalidArgumentError(absl::StrCat("source: no daemon \"", daemon, "\""));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SourceSubscriber>> SourceSubscriber::Start(const std::string& daemon,
                                                                          const std::string& socket,
                                                                          StreamCursor from, OnRecord on_record) {
  absl::StatusOr<std::unique_ptr<Stream>> stream = StreamFor(daemon, socket);
  if (!stream.ok()) return stream.status();
  std::unique_ptr<SourceSubscriber> s(
      new SourceSubscriber(daemon, std::move(*stream), std::move(from), std::move(on_record)));
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

SourceSubscriber::SourceSubscriber(std::string daemon, std::unique_ptr<Stream> stream, StreamCursor from,
                                   OnRecord on_record)
    : daemon_(std::move(daemon)), stream_(std::move(stream)), on_record_(std::move(on_record)) {
  status_.cursor = std::move(from);
}

namespace {

// How many events of the run `cursor` is in came after it, when the new run's first event
// (its DAEMON_STARTED) says where that run ended; nullopt when unknown (it crashed, or
// another run came between, or the start event is no longer held).
std::optional<uint64_t> MissedOfPreviousRun(const common::v1::Event& first, const StreamCursor& cursor) {
  if (first.sequence() != 1 || first.kind() != common::v1::EVENT_KIND_DAEMON_STARTED) return std::nullopt;
  const common::v1::RunEnd& previous = first.lifecycle().previous();
  if (previous.epoch() != cursor.epoch || previous.last_sequence() < cursor.sequence) return std::nullopt;
  return previous.last_sequence() - cursor.sequence;
}

}  // namespace

SourceSubscriber::~SourceSubscriber() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_.SignalAll();
  }
  stream_->Cancel();
  if (thread_.joinable()) thread_.join();
}

SourceSubscriber::Status SourceSubscriber::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

bool SourceSubscriber::Deliver(const common::v1::SubscribeResponse& record) {
  StreamCursor cursor;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    status_.connected = true;
    cursor = status_.cursor;
  }
  if (record.has_event()) {
    const common::v1::Event& e = record.event();
    if (!cursor.epoch.empty() && e.epoch() != cursor.epoch) {
      // The daemon restarted: what the old run published after the cursor is gone with it.
      const std::optional<uint64_t> missed = MissedOfPreviousRun(e, cursor);
      if (!missed.has_value() || *missed > 0) {
        common::v1::SubscribeResponse gap;
        gap.mutable_lost()->set_from_sequence(cursor.sequence + 1);
        gap.mutable_lost()->set_count(missed.value_or(0));
        gap.mutable_lost()->set_epoch(cursor.epoch);
        on_record_(gap);
        absl::MutexLock lock(&mu_);
        ++status_.lost_records;
        status_.lost_events += missed.value_or(0);
      }
    }
    on_record_(record);
    absl::MutexLock lock(&mu_);
    status_.cursor = StreamCursor{e.epoch(), e.sequence()};
    ++status_.events;
    return true;
  }
  on_record_(record);
  absl::MutexLock lock(&mu_);
  ++status_.lost_records;
  status_.lost_events += record.lost().count();
  return true;
}

void SourceSubscriber::Loop() {
  for (;;) {
    common::v1::SubscribeRequest request;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (!status_.cursor.epoch.empty()) {
        request.set_from_sequence(status_.cursor.sequence + 1);
        request.set_epoch(status_.cursor.epoch);
      } else {
        request.set_from_sequence(1);  // Everything the daemon still holds.
      }
    }
    absl::Status s = stream_->Subscribe(
        request,
        [this] {
          absl::MutexLock lock(&mu_);
          status_.connected = true;
        },
        [this](const common::v1::SubscribeResponse& r) { return Deliver(r); });
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    status_.connected = false;
    status_.last_error = std::string(s.message());
    ++status_.reconnects;
    stop_.WaitWithTimeout(&mu_, kRetry);
  }
}

}  // namespace secureos::monitord
