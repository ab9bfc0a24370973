#include "monitord/failure_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace secureos::monitord {

absl::Status ValidateFailureCommand(const std::vector<std::string>& argv) {
  if (!argv.empty() && (argv[0].empty() || argv[0][0] != '/')) {
    return absl::InvalidArgumentError(absl::StrCat("the program must be an absolute path, got \"", argv[0], "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<pid_t> RunFailureCommand(const std::vector<std::string>& argv, absl::string_view error) {
  if (argv.empty()) return absl::InvalidArgumentError("on_failure_exec: no command");
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", absl::StrCat("SECUREOS_AUDIT_ERROR=", error)};
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: a signal meant for monitord's group does not reach it.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return ErrnoToStatus(rc, absl::StrCat("on_failure_exec: start ", argv[0]));
  std::thread([pid, program = argv[0]] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string how = WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                                              : absl::StrCat("signal ", WTERMSIG(status));
    Log(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? LogLevel::kInfo : LogLevel::kWarning,
        "audit failure command ended", {{"program", program}, {"how", how}});
  }).detach();
  return pid;
}

}  // namespace secureos::monitord
