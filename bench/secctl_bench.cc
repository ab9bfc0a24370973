// secctl start-to-exit latency, side by side with /bin/true in one run.
//
// Starts capd on a temporary root, then alternates: /bin/true, `secctl cap status` (static,
// the shipped binary: one connection, Health + Version), and the same command from a
// dynamically linked build of secctl. Prints median, p10, p90 and the ratio to /bin/true
// as a markdown table. Run with `bazel run -c opt //bench:secctl_bench [-- --rounds N]`.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"

ABSL_FLAG(int, rounds, 300, "Measured runs of each command (after 30 warm-up runs).");

extern char** environ;

namespace {

pid_t Spawn(const std::vector<std::string>& argv, bool quiet) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Wall time from spawn to reaped exit; aborts the benchmark on a failed run.
double TimeOnceMs(const std::vector<std::string>& argv) {
  absl::Time start = absl::Now();
  pid_t pid = Spawn(argv, true);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "run failed: %s (status %d)\n", argv[0].c_str(), status);
    std::exit(1);
  }
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

using secureos::bench::Pct;

std::string Abs(const std::string& rel) {
  char buf[4096];
  return realpath(rel.c_str(), buf) != nullptr ? buf : rel;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  char tmpl[] = "/tmp/secureos-bench-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  pid_t capd = Spawn({Abs("capd/capd"), "--root", root}, true);
  const std::string sock = root + "/run/secureos/capd.sock";
  struct stat st;
  for (int i = 0; i < 2000 && stat(sock.c_str(), &st) != 0; ++i) usleep(5000);

  using secureos::bench::Role;
  struct Case {
    std::string label;
    std::string name;
    Role role;
    std::vector<std::string> argv;
    std::vector<double> ms;
  };
  std::vector<Case> cases = {
      {"/bin/true", "/bin/true", Role::kFloor, {"/bin/true"}, {}},
      {"secctl", "secctl cap status (static, shipped)", Role::kOurs, {Abs("cli/secctl"), "--root", root, "cap", "status"}, {}},
      {"secctl, dynamic", "secctl cap status (dynamic build)", Role::kOurs,
       {Abs("bench/secctl_dynamic"), "--root", root, "cap", "status"}, {}},
  };
  for (int i = 0; i < 30; ++i) {
    for (auto& c : cases) TimeOnceMs(c.argv);
  }
  for (int i = 0; i < rounds; ++i) {
    for (auto& c : cases) c.ms.push_back(TimeOnceMs(c.argv));
  }
  kill(capd, SIGTERM);
  waitpid(capd, nullptr, 0);
  if (std::system(("rm -rf " + root).c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", root.c_str());

  const double base = Pct(cases[0].ms, 0.5);
  std::printf("| command | median ms | p10 ms | p90 ms | median / /bin/true |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const auto& c : cases) {
    double med = Pct(c.ms, 0.5);
    std::printf("| %s | %.2f | %.2f | %.2f | %.1fx |\n", c.name.c_str(), med,
                Pct(c.ms, 0.1), Pct(c.ms, 0.9), med / base);
    const absl::Status recorded =
        secureos::bench::Record({"secctl start-to-exit (one connection, Health + Version)", c.label, c.name, "ms", c.role, c.ms});
    if (!recorded.ok()) {
      std::fprintf(stderr, "%s\n", std::string(recorded.message()).c_str());
      return 1;
    }
  }
  std::printf("\n%d rounds, alternating, after 30 warm-up rounds; capd on a Unix socket.\n",
              rounds);
  return 0;
}
