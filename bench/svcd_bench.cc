// svcd, side by side with the floor a hand-written supervisor would reach, in one run:
//   crash-to-running-again with zero backoff: SIGKILL of the service's process until svcd's
//     RESTARTED event reaches the client (and svcd's own EXITED -> RESTARTED time)
//     vs  waitpid + posix_spawn of the same program by this process, one of each per round
//   starting 100 level-1 services one StartService call after another (then stopping them)
//     vs  posix_spawn of the same 100 processes, alternating rounds
//   svcd's resident memory with 500 definitions loaded (and with none).
// Needs root; starts its own capd and svcd on a temporary root (/run on a tmpfs, as deployed).
// Run: bazel run -c opt //bench:svcd_bench [-- --rounds N]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/proc_usage.h"
#include "google/protobuf/util/time_util.h"
#include "proto/svcd.grpc.pb.h"

ABSL_FLAG(int, rounds, 50, "Crash/restart rounds measured.");
ABSL_FLAG(int, services, 100, "Services started for the start-up case.");
ABSL_FLAG(int, start_rounds, 5, "Rounds of the start-up case (start all, stop all; then posix_spawn all).");
ABSL_FLAG(int, definitions, 500, "Definitions loaded for the memory case.");

extern char** environ;

namespace {

using secureos::svcd::v1::Svcd;
namespace v1 = secureos::svcd::v1;
namespace cv1 = secureos::common::v1;

using secureos::bench::Pct;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what.c_str());
    std::exit(1);
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  Check(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0, "posix_spawn " + args[0]);
  return pid;
}

std::string Runfile(const std::string& rel) {
  char path[4096];
  Check(realpath(rel.c_str(), path) != nullptr, "find " + rel + " in runfiles");
  return path;
}

int64_t RssKiB(pid_t pid) {
  absl::StatusOr<int64_t> kib = secureos::ReadResidentKib(pid);
  Check(kib.ok(), "svcd's resident memory: " + std::string(kib.status().message()));
  return *kib;
}

class Bench {
 public:
  Bench() {
    char tmpl[] = "/tmp/secureos-svcd-bench-XXXXXX";
    root_ = mkdtemp(tmpl);
    mkdir((root_ + "/run").c_str(), 0755);
    run_on_tmpfs_ = mount("tmpfs", (root_ + "/run").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
    mkdir((root_ + "/etc").c_str(), 0755);
    mkdir((root_ + "/etc/secureos").c_str(), 0755);
    mkdir((root_ + "/etc/secureos/services").c_str(), 0755);
    const std::string server = "server { socket_mode: \"0660\" event_ring_capacity: 65536 shutdown_timeout_ms: 2000 }\n";
    WriteFile(root_ + "/etc/secureos/capd.conf",
              server + "drift_check_interval_seconds: 3600\ngrantable_capabilities: \"cap_kill\"\n");
    cgroup_parent_ = absl::StrCat("secureos-bench/svcd-", getpid());
    WriteFile(root_ + "/etc/secureos/svcd.conf",
              server + "services_dir: \"etc/secureos/services\"\nlog_dir: \"var/log/services\"\n"
                       "log_max_bytes: 1048576\nlog_files_kept: 1\ncgroup_parent: \"" + cgroup_parent_ + "\"\n");
    capd_ = Spawn({Runfile("capd/capd"), "--root", root_});
    WaitFor(root_ + "/run/secureos/capd.sock");
  }

  ~Bench() {
    if (svcd_ > 0) StopSvcd(true);
    kill(capd_, SIGTERM);
    waitpid(capd_, nullptr, 0);
    // Level-1 services live in svcd's cgroups: kill what is left, remove them.
    for (const char* h : {"cpu", "cpuacct", "memory", "pids", "unified", ""}) {
      const std::string parent = absl::StrCat("/sys/fs/cgroup/", h, h[0] ? "/" : "", cgroup_parent_);
      (void)!std::system(absl::StrCat("for d in ", parent, "/*/; do [ -d \"$d\" ] && { for p in $(cat \"$d/cgroup.procs\"); do kill -9 $p; done; "
                               "sleep 0.05; rmdir \"$d\"; }; done 2>/dev/null; rmdir ", parent,
                               " $(dirname ", parent, ") 2>/dev/null").c_str());
    }
    if (run_on_tmpfs_) umount2((root_ + "/run").c_str(), MNT_DETACH);
    (void)!std::system(("rm -rf " + root_).c_str());
  }

  void StartSvcd() {
    svcd_ = Spawn({Runfile("svcd/svcd"), "--root", root_});
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    for (;;) {
      Check(absl::Now() < deadline, "svcd answers");
      stub_ = Svcd::NewStub(grpc::CreateChannel("unix:" + root_ + "/run/secureos/svcd.sock",
                                                grpc::InsecureChannelCredentials()));
      cv1::HealthResponse h;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
      if (stub_->Health(&ctx, {}, &h).ok()) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // Stops every service (when asked), then svcd.
  void StopSvcd(bool stop_services) {
    if (stop_services) {
      v1::ListServicesResponse all;
      grpc::ClientContext ctx;
      if (stub_->ListServices(&ctx, {}, &all).ok()) {
        for (const auto& s : all.services()) {
          if (s.pid() > 0) Call(&Svcd::Stub::StopService, s.name());
        }
      }
    }
    kill(svcd_, SIGTERM);
    waitpid(svcd_, nullptr, 0);
    svcd_ = -1;
  }

  v1::ServiceStatus Call(grpc::Status (Svcd::Stub::*method)(grpc::ClientContext*, const v1::ServiceRef&, v1::ServiceStatus*),
                         const std::string& name) {
    v1::ServiceRef ref;
    ref.set_name(name);
    v1::ServiceStatus s;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::Status st = ((*stub_).*method)(&ctx, ref, &s);
    Check(st.ok(), absl::StrCat("call for ", name, ": ", st.error_message()));
    return s;
  }

  void Add(const std::string& name, bool crash_loop) {
    v1::AddServiceRequest req;
    v1::ServiceDefinition* d = req.mutable_definition();
    d->set_name(name);
    d->add_argv("/bin/sleep");
    d->add_argv("100000");
    d->set_user("nobody");
    d->set_level(1);
    if (crash_loop) {
      d->set_restart(v1::RESTART_POLICY_ALWAYS);
      d->mutable_restart_backoff()->set_initial_ms(0);
      d->mutable_start_limit()->set_interval_ms(0);
    }
    v1::ServiceStatus s;
    grpc::ClientContext ctx;
    grpc::Status st = stub_->AddService(&ctx, req, &s);
    Check(st.ok(), "add " + name + ": " + st.error_message());
  }

  pid_t svcd() const { return svcd_; }
  const std::string& root() const { return root_; }
  Svcd::Stub& stub() { return *stub_; }

 private:
  static void WaitFor(const std::string& path) {
    struct stat st;
    for (int i = 0; i < 4000 && stat(path.c_str(), &st) != 0; ++i) usleep(5000);
  }

  std::string root_, cgroup_parent_;
  bool run_on_tmpfs_ = false;
  pid_t capd_ = -1, svcd_ = -1;
  std::unique_ptr<Svcd::Stub> stub_;
};

absl::Time TimeOf(const cv1::Event& e) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(e.time()));
}

struct CrashTimes {
  std::vector<double> client;  // Kill -> READY event at the client.
  std::vector<double> server;  // svcd's EXITED -> READY.
  std::vector<double> hand;    // The floor: this process restarting the same program itself.
};

// Kills the service's process `rounds` times, each followed by one restart by hand (the
// floor), after 5 warm-up rounds; in ms.
CrashTimes CrashToRunning(Bench& b, int rounds) {
  b.Add("crash", true);
  b.Call(&Svcd::Stub::StartService, "crash");
  cv1::SubscribeRequest sub;  // From now on.
  grpc::ClientContext ctx;
  auto events = b.stub().Subscribe(&ctx, sub);
  CrashTimes t;
  pid_t by_hand = Spawn({"/bin/sleep", "100000"});
  for (int i = 0; i < rounds + 5; ++i) {
    const pid_t pid = b.Call(&Svcd::Stub::GetStatus, "crash").pid();
    Check(pid > 0, "the service runs");
    const absl::Time t0 = absl::Now();
    kill(pid, SIGKILL);
    cv1::SubscribeResponse r;
    absl::Time exited;
    for (;;) {
      Check(events->Read(&r), "event stream");
      if (!r.has_event()) continue;
      if (r.event().kind() == cv1::EVENT_KIND_SERVICE_EXITED) exited = TimeOf(r.event());
      if (r.event().kind() == cv1::EVENT_KIND_SERVICE_READY) break;  // Running again.
    }
    const double client = absl::ToDoubleMilliseconds(absl::Now() - t0);
    const absl::Time t1 = absl::Now();
    kill(by_hand, SIGKILL);
    waitpid(by_hand, nullptr, 0);
    by_hand = Spawn({"/bin/sleep", "100000"});
    if (i < 5) continue;  // Warm-up.
    t.hand.push_back(absl::ToDoubleMilliseconds(absl::Now() - t1));
    t.client.push_back(client);
    t.server.push_back(absl::ToDoubleMilliseconds(TimeOf(r.event()) - exited));
  }
  kill(by_hand, SIGKILL);
  waitpid(by_hand, nullptr, 0);
  ctx.TryCancel();
  b.Call(&Svcd::Stub::StopService, "crash");
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int services = absl::GetFlag(FLAGS_services);
  const int definitions = absl::GetFlag(FLAGS_definitions);
  const int start_rounds = absl::GetFlag(FLAGS_start_rounds);
  if (rounds < 1 || start_rounds < 1) {
    std::fprintf(stderr, "--rounds and --start_rounds: at least 1\n");
    return 1;
  }
  Bench b;
  b.StartSvcd();
  absl::SleepFor(absl::Milliseconds(300));
  const int64_t rss_empty = RssKiB(b.svcd());

  const CrashTimes crash_times = CrashToRunning(b, rounds);
  const std::vector<double>& client = crash_times.client;
  const std::vector<double>& server = crash_times.server;
  const std::vector<double>& hand = crash_times.hand;

  // Starting `services` services, then the same processes by posix_spawn, alternating.
  for (int i = 0; i < services; ++i) b.Add(absl::StrCat("s", i), false);
  std::vector<double> start_ms, spawn_ms;
  for (int r = 0; r < start_rounds; ++r) {
    absl::Time t0 = absl::Now();
    for (int i = 0; i < services; ++i) b.Call(&Svcd::Stub::StartService, absl::StrCat("s", i));
    start_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    for (int i = 0; i < services; ++i) b.Call(&Svcd::Stub::StopService, absl::StrCat("s", i));
    t0 = absl::Now();
    std::vector<pid_t> pids;
    for (int i = 0; i < services; ++i) pids.push_back(Spawn({"/bin/sleep", "100000"}));
    spawn_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    for (pid_t p : pids) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
  }
  b.StopSvcd(true);

  // Memory: svcd restarted with `definitions` more files in its services directory.
  for (int i = 0; i < definitions; ++i) {
    const std::string name = absl::StrCat("d", i);
    WriteFile(absl::StrCat(b.root(), "/etc/secureos/services/", name, ".service"),
              absl::StrCat("name: \"", name, "\"\nargv: \"/bin/sleep\"\nargv: \"100000\"\nuser: \"nobody\"\nlevel: 2\n"
                           "restart: RESTART_POLICY_ON_FAILURE\nlimits { memory_bytes: 67108864 pids: 64 }\n"));
  }
  b.StartSvcd();
  absl::SleepFor(absl::Milliseconds(500));
  v1::ListServicesResponse all;
  {
    grpc::ClientContext ctx;
    Check(b.stub().ListServices(&ctx, {}, &all).ok(), "list");
  }
  const int64_t rss_full = RssKiB(b.svcd());

  std::printf("| case | svcd | floor (this process, no daemon) |\n|---|---|---|\n");
  std::printf("| crash -> running again, kill to RESTARTED/READY at the client, median / p90 | %.2f / %.2f ms | "
              "waitpid + posix_spawn %.2f / %.2f ms |\n",
              Pct(client, 0.5), Pct(client, 0.9), Pct(hand, 0.5), Pct(hand, 0.9));
  std::printf("| svcd's own EXITED -> READY (backoff 0), median / p90 | %.2f / %.2f ms | |\n", Pct(server, 0.5),
              Pct(server, 0.9));
  std::printf("| start %d services (StartService each, until running), median of %d | %.0f ms (%.2f ms each) | "
              "posix_spawn %.1f ms |\n",
              services, start_rounds, Pct(start_ms, 0.5), Pct(start_ms, 0.5) / services, Pct(spawn_ms, 0.5));
  std::printf("| svcd RSS, no definitions / %d loaded (%d listed) | %.1f MiB / %.1f MiB | |\n", definitions,
              all.services_size(), rss_empty / 1024.0, rss_full / 1024.0);

  using secureos::bench::Role;
  const std::string crash = "svcd crash to running again (SIGKILL, restart backoff 0)";
  const std::string start = absl::StrCat("start ", services, " level-1 services, one call each");
  const std::string memory = "svcd resident memory";
  for (const secureos::bench::Result& r : std::vector<secureos::bench::Result>{
           {crash, "svcd", "kill to RESTARTED/READY at the client", "ms", Role::kOurs, client},
           {crash, "svcd, own", "svcd's own EXITED -> READY", "ms", Role::kOurs, server},
           {crash, "waitpid+posix_spawn", "waitpid + posix_spawn by this process (floor)", "ms", Role::kFloor, hand},
           {start, "svcd", "StartService each, until running", "ms", Role::kOurs, start_ms},
           {start, "posix_spawn", "posix_spawn of the same processes (floor)", "ms", Role::kFloor, spawn_ms},
           {memory, "none", "no definitions", "MiB", Role::kOurs, {rss_empty / 1024.0}},
           {memory, absl::StrCat(definitions), absl::StrCat(definitions, " definitions loaded"), "MiB", Role::kOurs, {rss_full / 1024.0}},
       }) {
    const absl::Status recorded = secureos::bench::Record(r);
    Check(recorded.ok(), std::string(recorded.message()));
  }
  return 0;
}
