// Every daemon's Health over its Unix socket, side by side with the floors, in one run,
// interleaved (one call of each case per round):
//   <daemon> Health              the real daemon with its default configuration: caller
//                                identity (SO_PEERCRED), the access table, the reply
//   empty gRPC call              a Health that does nothing, served by this process over a
//                                Unix socket: what gRPC itself costs
//   raw Unix socket round trip   one byte each way on a connected stream socket: the floor
// Then, after 2 s idle: each daemon's resident memory and open fds.
// Needs root (the daemons do); starts all five on a temporary root (/run on a tmpfs, as
// deployed) and removes it, and their cgroups, at the end.
// Run: bazel run -c opt //bench:health_bench [-- --rounds N]
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "common/fd.h"
#include "common/proc_usage.h"
#include "common/status.h"
#include "grpcpp/grpcpp.h"
#include "proto/capd.grpc.pb.h"
#include "proto/containerd_lite.grpc.pb.h"
#include "proto/monitord.grpc.pb.h"
#include "proto/sandboxd.grpc.pb.h"
#include "proto/svcd.grpc.pb.h"

ABSL_FLAG(int, rounds, 2000, "Measured rounds (after 200 warm-up ones).");

namespace secureos::bench {
namespace {

namespace cv1 = ::secureos::common::v1;

constexpr int kWarmUp = 200;
constexpr const char* kGroup = "Health over the Unix socket";

// The daemons' embedded defaults, but cgroups under the bench's own parent and the
// containers' id pools that tools/up writes too.
std::map<std::string, std::string> Configs(const std::string& cgroup_parent) {
  const std::string server =
      "server { socket_mode: \"0660\" event_ring_capacity: 4096 shutdown_timeout_ms: 5000 }\n";
  return {
      {"sandboxd.conf", absl::StrCat(server,
                                     "workload_uid: 65534\nid_map_count: 1\ncontainer_id_start: 1000000\n"
                                     "container_id_count: 4194304\ncgroup_favor_dynmods: true\ncgroup_parent: \"",
                                     cgroup_parent, "/sandboxd\"\n")},
      {"svcd.conf", absl::StrCat(server,
                                 "services_dir: \"etc/secureos/services\"\nlog_dir: \"var/log/secureos/services\"\n"
                                 "log_max_bytes: 10485760\nlog_files_kept: 3\ncgroup_parent: \"",
                                 cgroup_parent, "/svcd\"\n")},
      {"containerd-lite.subuid", "containers:1000000:4194304\n"},
      {"containerd-lite.subgid", "containers:1000000:4194304\n"},
  };
}

template <typename Service>
std::function<absl::StatusOr<double>()> HealthCall(const std::string& socket) {
  std::shared_ptr<typename Service::Stub> stub =
      Service::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  return [stub]() -> absl::StatusOr<double> {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cv1::HealthRequest req;
    cv1::HealthResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status s = stub->Health(&ctx, req, &resp);
    const double us = absl::ToDoubleMicroseconds(absl::Now() - start);
    if (!s.ok()) return absl::UnavailableError("Health: " + s.error_message());
    return us;
  };
}

// A Health that does nothing: the cost of gRPC alone.
class EmptyHealth final : public capd::v1::Capd::Service {
 public:
  grpc::Status Health(grpc::ServerContext*, const cv1::HealthRequest*, cv1::HealthResponse*) override {
    return grpc::Status::OK;
  }
};

// One byte each way, echoed by a thread of this process.
class RawEcho {
 public:
  static absl::StatusOr<std::unique_ptr<RawEcho>> Start() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return ErrnoToStatus(errno, "socketpair");
    std::unique_ptr<RawEcho> e(new RawEcho(UniqueFd(fds[0]), UniqueFd(fds[1])));
    e->echo_ = std::thread([server = e->server_.get()] {
      char c;
      while (::read(server, &c, 1) == 1 && ::write(server, &c, 1) == 1) {
      }
    });
    return e;
  }
  ~RawEcho() {
    ::shutdown(client_.get(), SHUT_RDWR);
    echo_.join();
  }

  absl::StatusOr<double> RoundTripUs() {
    char c = 'x';
    const absl::Time start = absl::Now();
    if (::write(client_.get(), &c, 1) != 1 || ::read(client_.get(), &c, 1) != 1) {
      return ErrnoToStatus(errno, "raw round trip");
    }
    return absl::ToDoubleMicroseconds(absl::Now() - start);
  }

 private:
  RawEcho(UniqueFd client, UniqueFd server) : client_(std::move(client)), server_(std::move(server)) {}
  UniqueFd client_;
  UniqueFd server_;
  std::thread echo_;
};

struct Case {
  std::string label;
  std::string name;
  Role role;
  std::function<absl::StatusOr<double>()> once;
  std::vector<double> us;
};

absl::Status Measure(std::vector<Case>& cases, int rounds) {
  for (int i = 0; i < kWarmUp + rounds; ++i) {
    for (Case& c : cases) {
      absl::StatusOr<double> us = c.once();
      if (!us.ok()) return Annotate(us.status(), c.name);
      if (i >= kWarmUp) c.us.push_back(*us);
    }
  }
  return absl::OkStatus();
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "health_bench: %s\n", std::string(s.message()).c_str());
  return 1;
}

int Main(int rounds) {
  if (::geteuid() != 0) return Fail(absl::FailedPreconditionError("needs root (the daemons do)"));
  const std::string cgroup_parent = absl::StrCat("secureos-bench/health-", ::getpid());
  const std::vector<std::string> daemons = {"capd", "sandboxd", "containerd-lite", "svcd", "monitord"};
  absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start(daemons, Configs(cgroup_parent), cgroup_parent);
  if (!suite.ok()) return Fail(suite.status());

  EmptyHealth empty;
  const std::string empty_socket = (*suite)->root() + "/run/empty.sock";
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + empty_socket, grpc::InsecureServerCredentials());
  builder.RegisterService(&empty);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return Fail(absl::InternalError("cannot serve " + empty_socket));
  absl::StatusOr<std::unique_ptr<RawEcho>> echo = RawEcho::Start();
  if (!echo.ok()) return Fail(echo.status());

  const Suite& s = **suite;
  std::vector<Case> cases = {
      {"capd", "capd Health", Role::kOurs, HealthCall<capd::v1::Capd>(s.Socket("capd")), {}},
      {"sandboxd", "sandboxd Health", Role::kOurs, HealthCall<sandboxd::v1::Sandboxd>(s.Socket("sandboxd")), {}},
      {"containerd-lite", "containerd-lite Health", Role::kOurs,
       HealthCall<containerd_lite::v1::ContainerdLite>(s.Socket("containerd-lite")), {}},
      {"svcd", "svcd Health", Role::kOurs, HealthCall<svcd::v1::Svcd>(s.Socket("svcd")), {}},
      {"monitord", "monitord Health", Role::kOurs, HealthCall<monitord::v1::Monitord>(s.Socket("monitord")), {}},
      {"empty gRPC", "empty gRPC call (a Health that does nothing, this process, Unix socket)", Role::kFloor,
       HealthCall<capd::v1::Capd>(empty_socket), {}},
      {"raw socket", "raw Unix socket round trip (1 byte each way)", Role::kFloor,
       [e = echo->get()] { return e->RoundTripUs(); }, {}},
  };
  if (absl::Status m = Measure(cases, rounds); !m.ok()) return Fail(m);

  std::printf("| case | median us | p10 us | p90 us | median / empty gRPC |\n|---|---:|---:|---:|---:|\n");
  double empty_median = 0;
  for (const Case& c : cases) {
    if (c.label == "empty gRPC") empty_median = Pct(c.us, 0.5);
  }
  for (const Case& c : cases) {
    std::printf("| %s | %.1f | %.1f | %.1f | %.2fx |\n", c.name.c_str(), Pct(c.us, 0.5), Pct(c.us, 0.1),
                Pct(c.us, 0.9), Pct(c.us, 0.5) / empty_median);
    if (absl::Status r = Record({kGroup, c.label, c.name, "us", c.role, c.us}); !r.ok()) return Fail(r);
  }
  std::printf("\n%d rounds, interleaved, after %d warm-up rounds; one channel per case.\n\n", rounds, kWarmUp);

  absl::SleepFor(absl::Seconds(2));
  std::printf("| daemon (idle, default config) | resident MiB | open fds |\n|---|---:|---:|\n");
  for (const std::string& d : daemons) {
    absl::StatusOr<int64_t> kib = ReadResidentKib(s.Pid(d));
    if (!kib.ok()) return Fail(kib.status());
    absl::StatusOr<int> fds = CountOpenFds(s.Pid(d));
    if (!fds.ok()) return Fail(fds.status());
    const double mib = static_cast<double>(*kib) / 1024;
    std::printf("| %s | %.1f | %d |\n", d.c_str(), mib, *fds);
    for (absl::Status r : {Record({"idle resident memory", d, d, "MiB", Role::kOurs, {mib}}),
                           Record({"idle open fds", d, d, "fds", Role::kOurs, {static_cast<double>(*fds)}})}) {
      if (!r.ok()) return Fail(r);
    }
  }
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace secureos::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (rounds < 1) {
    std::fprintf(stderr, "--rounds: at least 1, got %d\n", rounds);
    return 1;
  }
  return secureos::bench::Main(rounds);
}
