#include "bench/bench_support.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_table.h"
#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/status.h"

extern char** environ;

ABSL_FLAG(std::string, results, "",
          "Append every measured case to this file, for bench_table (tools/bench sets it).");

namespace secureos::bench {
namespace {

int RemoveTreeEntry(const char* path, const struct stat*, int type, FTW*) {
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;
}

int RemoveCgroupEntry(const char* path, const struct stat*, int type, FTW*) {
  if (type == FTW_DP) ::rmdir(path);
  return 0;
}

}  // namespace

void RemoveTree(const std::string& root) {
  ::nftw(root.c_str(), RemoveTreeEntry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

std::vector<std::string> RemoveCgroupParent(const std::string& parent) {
  std::vector<std::string> bases = {"/sys/fs/cgroup"};  // A pure cgroup2 host.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
    if (e.is_directory(ec)) bases.push_back(e.path().string());
  }
  std::vector<std::string> left;
  const std::string top = parent.substr(0, parent.find('/'));
  for (const std::string& base : bases) {
    const std::string dir = base + "/" + parent;
    ::nftw(dir.c_str(), RemoveCgroupEntry, 16, FTW_DEPTH | FTW_PHYS);
    ::rmdir((base + "/" + top).c_str());  // Fails while another bench uses it: fine.
    if (::access(dir.c_str(), F_OK) == 0) left.push_back(dir);
  }
  return left;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

absl::Status Record(const Result& result) {
  const std::string path = absl::GetFlag(FLAGS_results);
  if (path.empty()) return absl::OkStatus();
  if (result.samples.empty()) return absl::InvalidArgumentError(absl::StrCat("samples: none for ", result.name));
  Row row;
  row.group = result.group;
  row.label = result.label;
  row.name = result.name;
  row.unit = result.unit;
  row.role = result.role == Role::kOurs ? "ours" : result.role == Role::kPeer ? "peer" : "floor";
  row.n = static_cast<int>(result.samples.size());
  row.median = Pct(result.samples, 0.5);
  row.p10 = Pct(result.samples, 0.1);
  row.p90 = Pct(result.samples, 0.9);
  SECUREOS_ASSIGN_OR_RETURN(std::string line, FormatRow(row));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoToStatus(errno, "open --results " + path);
  return WriteAll(fd.get(), line);
}

std::string Runfile(const std::string& rel) {
  char path[PATH_MAX];
  return ::realpath(rel.c_str(), path) != nullptr ? path : rel;
}

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& stderr_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // Nothing of the bench leaks in.
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return ErrnoToStatus(err, "posix_spawn " + argv[0]);
  return pid;
}

absl::Status WaitOk(pid_t pid, const std::string& what) {
  int status = 0;
  if (RetryOnEintr([&] { return ::waitpid(pid, &status, 0); }) != pid) {
    return ErrnoToStatus(errno, "waitpid " + what);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(what, ": wait status ", status));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> TimeCommandMs(const std::vector<std::string>& argv, const std::string& stderr_path) {
  const absl::Time start = absl::Now();
  SECUREOS_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, stderr_path));
  SECUREOS_RETURN_IF_ERROR(WaitOk(pid, argv[0]));
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const std::vector<std::string>& daemons,
                                                    const std::map<std::string, std::string>& configs,
                                                    const std::string& cgroup_parent) {
  std::unique_ptr<Suite> s(new Suite());
  s->cgroup_parent_ = cgroup_parent;
  SECUREOS_RETURN_IF_ERROR(s->Prepare(configs));
  for (const std::string& d : daemons) SECUREOS_RETURN_IF_ERROR(s->Launch(d));
  return s;
}

absl::Status Suite::Prepare(const std::map<std::string, std::string>& configs) {
  char tmpl[] = "/tmp/secureos-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoToStatus(errno, "mkdtemp");
  root_ = tmpl;
  // Workloads run as unprivileged host ids and must reach what the bench puts here.
  if (::chmod(root_.c_str(), 0755) != 0) return ErrnoToStatus(errno, "chmod " + root_);
  SECUREOS_RETURN_IF_ERROR(MakeDirs(root_ + "/etc/secureos", 0755));
  SECUREOS_RETURN_IF_ERROR(MakeDirs(root_ + "/run", 0755));
  if (::mount("tmpfs", (root_ + "/run").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return ErrnoToStatus(errno, "mount tmpfs on " + root_ + "/run");
  }
  run_mounted_ = true;
  for (const auto& [name, text] : configs) {
    SECUREOS_RETURN_IF_ERROR(
        WriteFileAtomically(root_ + "/etc/secureos/" + name, text, 0644, Durability::kProcessCrash));
  }
  return absl::OkStatus();
}

std::string Suite::Socket(const std::string& daemon) const {
  return absl::StrCat(root_, "/run/secureos/", daemon, ".sock");
}

pid_t Suite::Pid(const std::string& daemon) const {
  for (const auto& [name, pid] : daemons_) {
    if (name == daemon) return pid;
  }
  return -1;
}

std::string Suite::Log(const std::string& daemon) const {
  absl::StatusOr<std::string> log = ReadFile(absl::StrCat(root_, "/", daemon, ".log"));
  return log.ok() ? *log : std::string(log.status().message());
}

absl::Status Suite::Launch(const std::string& daemon) {
  SECUREOS_ASSIGN_OR_RETURN(pid_t pid, Spawn({Runfile(daemon + "/" + daemon), "--root", root_},
                                             absl::StrCat(root_, "/", daemon, ".log")));
  daemons_.emplace_back(daemon, pid);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (::access(Socket(daemon).c_str(), F_OK) != 0) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      daemons_.back().second = -1;
      return absl::InternalError(absl::StrCat(daemon, " exited at start:\n", Log(daemon)));
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError(daemon + " made no socket in 20 s");
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

Suite::~Suite() {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) {
    const pid_t pid = it->second;
    if (pid <= 0) continue;
    ::kill(pid, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (::waitpid(pid, nullptr, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        ::kill(pid, SIGKILL);
        RetryOnEintr([&] { return ::waitpid(pid, nullptr, 0); });
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  if (run_mounted_) ::umount2((root_ + "/run").c_str(), MNT_DETACH);
  if (!root_.empty()) RemoveTree(root_);
  if (!cgroup_parent_.empty()) {
    for (const std::string& dir : RemoveCgroupParent(cgroup_parent_)) {
      std::fprintf(stderr, "could not remove cgroup %s\n", dir.c_str());
    }
  }
}

}  // namespace secureos::bench
