// All five daemons on a temporary root, for tests of the suite as a whole: started as
// tools/up starts them (each with --root and a config file of the test's), ready when every
// socket answers Health, and stopped with a check that nothing is left behind.
//
// Configs: each daemon's socket is mode 0666 (so that the tests' unprivileged callers can
// connect and the authorization table, not the file mode, decides), peer_uids holds
// kPeerUid, event rings hold SuiteOptions.event_ring_capacity, and sandboxd's and svcd's cgroups live under
// "secureos-test/suite-<pid>/{sbx,svc}", removed at the end. Tests add settings per daemon.
//
// Leftovers checked by Stop(): processes whose command line names the root or that sit in
// the suite's cgroups; mounts under the root; cgroups still present under the suite's parent
// (reported before they are forcibly removed); sockets of the daemons; veth host ends
// ("sv*") sandboxd made for bridged workloads. Stop() reports them and cleans up anyway, so
// one failing test does not poison the next.
#ifndef SECUREOS_TESTS_SUITE_H_
#define SECUREOS_TESTS_SUITE_H_

#include <sys/types.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/process.h"

namespace secureos::test {

// In start order; Stop() goes the other way.
inline constexpr std::array<const char*, 5> kDaemons = {"capd", "sandboxd", "containerd-lite",
                                                        "svcd", "monitord"};

// The uid the configs name as a peer daemon (peer_uids), and one they name nowhere.
inline constexpr uid_t kPeerUid = 990;
inline constexpr uid_t kUnrelatedUid = 4321;

struct SuiteOptions {
  // Every daemon's server.event_ring_capacity.
  uint32_t event_ring_capacity = 4096;
  // Appended to a daemon's config, by daemon name (protobuf text format).
  std::map<std::string, std::string> extra_config;
};

class Suite {
 public:
  // Writes the configs, starts the five daemons and waits until each answers Health (20 s).
  static absl::StatusOr<std::unique_ptr<Suite>> Start(const SuiteOptions& options = {});
  // Stop(), its findings logged to stderr.
  ~Suite();
  Suite(const Suite&) = delete;
  Suite& operator=(const Suite&) = delete;

  const TempRoot& root() const { return root_; }
  std::string Socket(const std::string& daemon) const;
  // The cgroup parent (relative) of sandboxd's workloads and svcd's services.
  std::string CgroupParent(const std::string& daemon) const;
  // The running daemon's pid, or -1.
  pid_t Pid(const std::string& daemon) const;

  // secctl --root <root> ARGS, as `uid` when given.
  RunResult Secctl(const std::vector<std::string>& args, std::optional<uid_t> uid = std::nullopt) const;

  // Sends `signal` to the daemon (SIGKILL: and reaps it; it stays stopped).
  absl::Status Signal(const std::string& daemon, int signal);
  // Starts a stopped (or killed) daemon again and waits for its Health.
  absl::Status Restart(const std::string& daemon);

  // True when the daemon answers Health within `timeout`.
  bool Healthy(const std::string& daemon, absl::Duration timeout) const;

  // SIGTERM to every daemon, last started first (10 s each, then SIGKILL); then what is
  // left behind, one line each (empty when clean), after which everything is removed.
  std::vector<std::string> Stop();

  // Every daemon's log, each under a header.
  std::string Logs() const;

  // Makes <root>/<name>: an OCI bundle by `crun spec` whose rootfs holds Debian's static
  // busybox, with no terminal, running busybox's `sleep SECONDS`. Returns its path.
  std::string BusyboxBundle(const std::string& name, int sleep_seconds) const;

 private:
  Suite() = default;
  absl::Status WriteConfigs(const SuiteOptions& options);
  absl::Status StartOne(const std::string& daemon);
  std::vector<std::string> Leftovers() const;
  void RemoveCgroups() const;

  TempRoot root_;
  std::string cgroups_;  // "secureos-test/suite-<pid>-<n>"
  std::map<std::string, std::optional<Child>> children_;
  bool stopped_ = false;
};

}  // namespace secureos::test

#endif  // SECUREOS_TESTS_SUITE_H_
