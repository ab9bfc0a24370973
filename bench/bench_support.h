// What the benchmarks share: percentiles, spawning and timing peer programs, and daemons
// of the suite on a temporary root (configs written, /run on a tmpfs as deployed, a cgroup
// parent of their own), removed again by the destructor however far the start got.
#ifndef SECUREOS_BENCH_BENCH_SUPPORT_H_
#define SECUREOS_BENCH_BENCH_SUPPORT_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace secureos::bench {

// The p-quantile (0..1) of `v`, nearest rank.
double Pct(std::vector<double> v, double p);

// What a case is to the combined table that tools/bench prints (bench/bench_table.h).
enum class Role { kOurs, kPeer, kFloor };

// One measured case. Cases of one `group` are compared: each of ours with each peer and
// floor of the group, by median.
struct Result {
  std::string group;  // "sandbox start-to-exit"
  std::string label;  // Short, for ratios: "bwrap".
  std::string name;   // What exactly ran: "bwrap --unshare-all, tmpfs root, --seccomp".
  std::string unit;   // "ms", "us", "MiB", "fds", "events/s", ...
  Role role = Role::kOurs;
  std::vector<double> samples;
};

// Appends `result` to the file that --results names (nothing when the flag is empty), as
// one line of bench_table's format. INVALID_ARGUMENT for a result without samples or with
// a tab or newline in a text field.
absl::Status Record(const Result& result);

// A runfile's absolute path (bazel run's working directory is the runfiles root).
std::string Runfile(const std::string& rel);

// posix_spawn of argv with stdin and stdout on /dev/null; stderr appended to `stderr_path`
// when given, inherited otherwise.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& stderr_path = "");

// Waits for `pid`; an error unless it exited 0.
absl::Status WaitOk(pid_t pid, const std::string& what);

// Wall milliseconds from spawn to the reaped exit of argv, which must exit 0; stderr as Spawn.
absl::StatusOr<double> TimeCommandMs(const std::vector<std::string>& argv, const std::string& stderr_path = "");

// Deletes a directory tree without crossing into other mounts (a /run left mounted).
void RemoveTree(const std::string& root);

// Removes <hierarchy>/<parent> (and whatever cgroups are left under it) in every hierarchy
// under /sys/fs/cgroup, then the first component of `parent` where it is empty. Returns the
// paths that are still there.
std::vector<std::string> RemoveCgroupParent(const std::string& parent);

// Daemons of the suite on a temporary root.
class Suite {
 public:
  // `configs`: daemon name -> its configuration text. `cgroup_parent` is removed from every
  // hierarchy at the end (the configs should place their cgroups under it).
  static absl::StatusOr<std::unique_ptr<Suite>> Start(const std::vector<std::string>& daemons,
                                                      const std::map<std::string, std::string>& configs,
                                                      const std::string& cgroup_parent);
  // Stops the daemons (SIGTERM, then SIGKILL after 10 s), in reverse order, and removes
  // the root and the cgroup parent.
  ~Suite();
  Suite(const Suite&) = delete;
  Suite& operator=(const Suite&) = delete;

  const std::string& root() const { return root_; }
  std::string Socket(const std::string& daemon) const;
  std::string Log(const std::string& daemon) const;
  // The daemon's pid, or -1 when it is not running.
  pid_t Pid(const std::string& daemon) const;

 private:
  Suite() = default;
  absl::Status Prepare(const std::map<std::string, std::string>& configs);
  absl::Status Launch(const std::string& daemon);

  std::string root_;
  std::string cgroup_parent_;
  bool run_mounted_ = false;
  std::vector<std::pair<std::string, pid_t>> daemons_;
};

}  // namespace secureos::bench

#endif  // SECUREOS_BENCH_BENCH_SUPPORT_H_
