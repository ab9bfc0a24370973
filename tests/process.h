// Starting and supervising real processes from tests: daemons, secctl, tools/up.
//
// Children are started with fork+exec; between the two only async-signal-safe calls are
// made (the test process may already run gRPC threads). A Child that is still running when
// destroyed is killed with SIGKILL and reaped, so a failing test leaves no process behind.
#ifndef SECUREOS_TESTS_PROCESS_H_
#define SECUREOS_TESTS_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace secureos::test {

struct SpawnOptions {
  std::optional<uid_t> uid;    // Run as this uid (and gid, no supplementary groups).
  std::optional<gid_t> gid;
  std::optional<mode_t> umask;
  std::string stdout_path;     // Empty: /dev/null.
  std::string stderr_path;     // Empty: /dev/null.
  bool append_stderr = false;  // Append to stderr_path instead of truncating it.
  std::vector<std::string> extra_env;  // "K=V" added to the inherited environment.
};

class Child {
 public:
  static absl::StatusOr<Child> Start(const std::vector<std::string>& argv,
                                     const SpawnOptions& options);
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  bool Signal(int sig) const;
  // Waits up to `timeout` for the exit; returns the wait status, nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  bool running() const { return pid_ > 0; }

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

struct RunResult {
  int exit_code = -1;  // 128+signal when killed by a signal.
  std::string out;
  std::string err;
};

// Runs to completion (killed after `timeout`), capturing stdout and stderr.
RunResult RunProcess(const std::vector<std::string>& argv, SpawnOptions options = {},
              absl::Duration timeout = absl::Seconds(30));

// Polls until `path` exists.
bool WaitForPath(const std::string& path, absl::Duration timeout);
// Polls until `path` no longer exists.
bool WaitForNoPath(const std::string& path, absl::Duration timeout);

// A fresh directory under /tmp (short enough for socket paths), mode 0755 so that an
// unprivileged uid can reach what the test puts there; removed by the destructor. It names
// its owner (pid and start time) in <root>.owner beside it: a root whose owner is gone (a
// test killed at its timeout runs no destructor) is removed by the next TempRoot, and the
// processes whose command line names it (the daemons it started) are killed first.
class TempRoot {
 public:
  TempRoot();
  ~TempRoot();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Runs `<root>/bin/secctl --root <root> ARGS...`, as `uid` (and gid) when given. Tests copy
// secctl to <root>/bin first (InstallSecctl) so that an unprivileged uid can execute it.
RunResult RunSecctl(const TempRoot& root, const std::vector<std::string>& args,
                    std::optional<uid_t> uid = std::nullopt);
// Copies the secctl runfile to <root>/bin/secctl, mode 0755.
void InstallSecctl(const TempRoot& root);

// Writes `text` to `path`, creating parent directories.
void WriteFileOrDie(const std::string& path, const std::string& text, mode_t mode = 0644);
std::string ReadFileOrEmpty(const std::string& path);

// Removes <hierarchy>/<rel> and the cgroups directly under it in every cgroup hierarchy,
// SIGKILLing what still runs there (a test that kills a daemon leaves its cgroups behind),
// then <hierarchy>/<first component of rel> when it is empty.
void RemoveCgroupEverywhere(const std::string& rel);

// The resident memory of `pid` (VmRSS), KiB; -1 when it cannot be read.
int64_t ResidentKib(pid_t pid);

// Whether resident memory says anything about leaks in this build: AddressSanitizer keeps
// freed memory in quarantine on purpose.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kResidentMemoryMeaningful = false;
#else
inline constexpr bool kResidentMemoryMeaningful = true;
#endif

// Absolute path of a runfile such as "capd/capd".
std::string Runfile(const std::string& rel);

// Starts daemon `name` (its runfile `<name>/<name>`) with --root `root`, stderr to
// <root>/<name>.log, and waits up to 20 s for its socket; the error carries the log.
absl::StatusOr<Child> StartDaemon(const TempRoot& root, const std::string& name);

// SIGTERM to each daemon that is set, then up to 10 s for it to end, in the order given.
void StopDaemons(std::initializer_list<std::optional<Child>*> daemons);

// StartDaemon into *out; the error, for the test to report, when it cannot start.
absl::Status StartDaemonInto(const TempRoot& root, const std::string& name, std::optional<Child>* out);

// The logs of `daemons` (<root>/<daemon>.log, as StartDaemon writes them), each under a
// header, for a failing test's output.
std::string DaemonLogs(const TempRoot& root, std::initializer_list<const char*> daemons);

}  // namespace secureos::test

#endif  // SECUREOS_TESTS_PROCESS_H_
