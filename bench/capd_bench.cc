// capd latencies, side by side with their floors in one run:
//   GetProcessCapabilities over the socket  vs  Health (an empty call) on the same channel
//   Spawn of /bin/true, request to exited    vs  posix_spawn + waitpid of /bin/true
// Needs root (capd does); mounts a tmpfs on <root>/run as /run is in deployment.
// Starts its own capd on a temporary root; prints p50/p99 and ratios as a markdown table.
// Run: bazel run -c opt //bench:capd_bench [-- --rounds N]
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
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "proto/capd.grpc.pb.h"

ABSL_FLAG(int, rounds, 500, "Measured iterations of each case (after 50 warm-up ones).");

extern char** environ;

namespace {

using secureos::capd::v1::Capd;

using secureos::bench::Pct;

double TimeUs(const std::function<void()>& fn) {
  const absl::Time t = absl::Now();
  fn();
  return absl::ToDoubleMicroseconds(absl::Now() - t);
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  char tmpl[] = "/tmp/secureos-capd-bench-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  // As deployed: /run is a tmpfs (capd keeps what it spawned under run/secureos/capd).
  const std::string run = root + "/run";
  const bool run_on_tmpfs = mkdir(run.c_str(), 0755) == 0 &&
                            mount("tmpfs", run.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
  char capd_path[4096];
  Check(realpath("capd/capd", capd_path) != nullptr, "find capd/capd in runfiles");
  std::vector<char*> capd_argv = {capd_path, const_cast<char*>("--root"),
                                  const_cast<char*>(root.c_str()), nullptr};
  pid_t capd = -1;
  Check(posix_spawn(&capd, capd_path, nullptr, nullptr, capd_argv.data(), environ) == 0, "start capd");
  const std::string sock = root + "/run/secureos/capd.sock";
  struct stat st;
  for (int i = 0; i < 2000 && stat(sock.c_str(), &st) != 0; ++i) usleep(5000);
  auto stub = Capd::NewStub(grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials()));

  secureos::capd::v1::GrantRequest grant;
  grant.set_principal("service:bench");
  grant.set_capabilities("cap_kill");
  secureos::capd::v1::Grant granted;
  {
    grpc::ClientContext ctx;
    Check(stub->GrantCapabilities(&ctx, grant, &granted).ok(), "grant");
  }
  auto health = [&] {
    grpc::ClientContext ctx;
    secureos::common::v1::HealthResponse r;
    Check(stub->Health(&ctx, {}, &r).ok(), "Health");
  };
  secureos::capd::v1::GetProcessCapabilitiesRequest get;
  get.set_pid(capd);
  auto query = [&] {
    grpc::ClientContext ctx;
    secureos::capd::v1::ProcessCapabilities r;
    Check(stub->GetProcessCapabilities(&ctx, get, &r).ok(), "GetProcessCapabilities");
  };
  // A typical target too: a service process capd spawned (one thread, one capability),
  // kept running for the whole benchmark.
  secureos::capd::v1::SpawnRequest sleeper_req;
  sleeper_req.set_principal("service:bench");
  sleeper_req.add_argv("/bin/sleep");
  sleeper_req.add_argv("3600");
  sleeper_req.set_uid(65534);
  sleeper_req.set_gid(65534);
  sleeper_req.set_capabilities("cap_kill");
  grpc::ClientContext sleeper_ctx;
  auto sleeper = stub->Spawn(&sleeper_ctx, sleeper_req);
  secureos::capd::v1::SpawnEvent sleeper_started;
  Check(sleeper->Read(&sleeper_started) && sleeper_started.has_started(), "spawn the query target");
  secureos::capd::v1::GetProcessCapabilitiesRequest get_service;
  get_service.set_pid(sleeper_started.started().pid());
  auto query_service = [&] {
    grpc::ClientContext ctx;
    secureos::capd::v1::ProcessCapabilities r;
    Check(stub->GetProcessCapabilities(&ctx, get_service, &r).ok(), "GetProcessCapabilities");
  };
  secureos::capd::v1::SpawnRequest spawn;
  spawn.set_principal("service:bench");
  spawn.add_argv("/bin/true");
  spawn.set_uid(65534);
  spawn.set_gid(65534);
  auto capd_spawn = [&] {
    grpc::ClientContext ctx;
    auto reader = stub->Spawn(&ctx, spawn);
    secureos::capd::v1::SpawnEvent ev;
    bool exited = false;
    while (reader->Read(&ev)) exited = exited || ev.has_exited();
    Check(reader->Finish().ok() && exited, "Spawn");
  };
  auto fork_exec = [&] {
    char* args[] = {const_cast<char*>("/bin/true"), nullptr};
    pid_t pid;
    Check(posix_spawn(&pid, "/bin/true", nullptr, nullptr, args, environ) == 0, "posix_spawn");
    int status;
    waitpid(pid, &status, 0);
  };

  struct Case {
    const char* label;  // For ratios.
    const char* name;
    std::function<void()> fn;
    int floor;  // Index of the case it is compared with; its own index for a floor.
    std::vector<double> us;
  };
  std::vector<Case> cases = {
      {"Health", "Health (empty call, same socket)", health, 0, {}},
      {"query, service", "GetProcessCapabilities of a spawned service (1 thread, 1 capability)", query_service, 0, {}},
      {"query, capd", "GetProcessCapabilities of capd itself (12 threads, 38 capabilities in 3 sets)", query, 0, {}},
      {"fork+exec", "fork+exec+wait /bin/true", fork_exec, 3, {}},
      {"capd Spawn", "capd Spawn /bin/true to exited", capd_spawn, 3, {}}};
  for (int i = 0; i < 50; ++i) {
    for (auto& c : cases) c.fn();
  }
  for (int i = 0; i < rounds; ++i) {
    for (auto& c : cases) c.us.push_back(TimeUs(c.fn));
  }
  sleeper_ctx.TryCancel();
  kill(sleeper_started.started().pid(), SIGKILL);
  kill(capd, SIGTERM);
  waitpid(capd, nullptr, 0);
  if (run_on_tmpfs) umount2(run.c_str(), MNT_DETACH);
  if (std::system(("rm -rf " + root).c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", root.c_str());

  std::printf("| case | median us | p10 us | p90 us | median ratio |\n|---|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    const bool floor = cases[i].floor == static_cast<int>(i);
    const double base = Pct(cases[cases[i].floor].us, 0.5);
    std::printf("| %s | %.0f | %.0f | %.0f | %.2fx%s |\n", cases[i].name, Pct(cases[i].us, 0.5), Pct(cases[i].us, 0.1),
                Pct(cases[i].us, 0.9), Pct(cases[i].us, 0.5) / base, floor ? " (floor)" : "");
    const absl::Status recorded = secureos::bench::Record(
        {cases[i].floor == 0 ? "capd query over the socket" : "capd Spawn of /bin/true, request to exited",
         cases[i].label, cases[i].name, "us",
         floor ? secureos::bench::Role::kFloor : secureos::bench::Role::kOurs, cases[i].us});
    Check(recorded.ok(), "record the results");
  }
  std::printf("\n%d rounds, interleaved, after 50 warm-up rounds. Spawn runs /bin/true as uid "
              "65534 under a grant, with every capability step applied; capd's runtime "
              "directory is %s.\n", rounds,
              run_on_tmpfs ? "on a tmpfs, as /run is in deployment"
                           : "NOT on a tmpfs (mount failed), so each spawn pays the disk's rename");
  return 0;
}
