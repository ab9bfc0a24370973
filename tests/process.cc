#include "tests/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/proc_usage.h"

extern char** environ;

namespace secureos::test {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ChildFail(const char* what) {
  // Raw writes only: we are between fork and exec.
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, "\n", 1);
  _exit(127);
}

}  // namespace

absl::StatusOr<Child> Child::Start(const std::vector<std::string>& argv,
                                   const SpawnOptions& options) {
  std::vector<std::string> args = argv;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& e : options.extra_env) env.push_back(e);
  std::vector<char*> cargs = CStrings(args);
  std::vector<char*> cenv = CStrings(env);
  const std::string out = options.stdout_path.empty() ? "/dev/null" : options.stdout_path;
  const std::string err = options.stderr_path.empty() ? "/dev/null" : options.stderr_path;
  const int err_flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append_stderr ? O_APPEND : O_TRUNC);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = ::open(err.c_str(), err_flags, 0644);
    int n = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (o < 0 || e < 0 || n < 0) ChildFail("open stdio");
    if (::dup2(n, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ChildFail("dup2");
    ::setpgid(0, 0);
    if (options.umask) ::umask(*options.umask);
    if (options.gid) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(*options.gid, *options.gid, *options.gid) != 0) {
        ChildFail("setgid");
      }
    }
    if (options.uid && ::setresuid(*options.uid, *options.uid, *options.uid) != 0) {
      ChildFail("setuid");
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(cargs[0], cargs.data(), cenv.data());
    ChildFail("execve");
  }
  return Child(pid);
}

Child::Child(Child&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Child::Signal(int sig) const { return pid_ > 0 && ::kill(pid_, sig) == 0; }

std::optional<int> Child::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (pid_ > 0) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return std::nullopt;
}

RunResult RunProcess(const std::vector<std::string>& argv, SpawnOptions options,
              absl::Duration timeout) {
  TempRoot tmp;
  options.stdout_path = tmp / "out";
  options.stderr_path = tmp / "err";
  RunResult result;
  absl::StatusOr<Child> child = Child::Start(argv, options);
  if (!child.ok()) {
    result.err = std::string(child.status().message());
    return result;
  }
  std::optional<int> status = child->Wait(timeout);
  if (!status.has_value()) {
    child->Signal(SIGKILL);
    status = child->Wait(absl::Seconds(5));
  }
  if (status.has_value()) {
    result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }
  result.out = ReadFileOrEmpty(options.stdout_path);
  result.err = ReadFileOrEmpty(options.stderr_path);
  return result;
}

bool WaitForPath(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (::access(path.c_str(), F_OK) != 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

bool WaitForNoPath(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (::access(path.c_str(), F_OK) == 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

namespace {

// Beside the root, not in it: tests list their roots' contents.
constexpr char kOwnerSuffix[] = ".owner";

// The start time of `pid` (field 22 of /proc/<pid>/stat), "" when it is gone: with the pid
// it names one process for good, even after the pid is reused.
std::string StartTime(pid_t pid) {
  const std::string stat = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return "";
  std::vector<std::string> f = absl::StrSplit(stat.substr(paren + 2), ' ');
  return f.size() > 19 ? f[19] : "";
}

bool OwnerAlive(const std::string& root) {
  std::vector<std::string> owner = absl::StrSplit(ReadFileOrEmpty(root + kOwnerSuffix), ' ');
  pid_t pid = 0;
  if (owner.size() == 2 && absl::SimpleAtoi(owner[0], &pid)) return StartTime(pid) == owner[1];
  struct stat st;  // No owner yet: a root being made now, or one from before owners.
  return ::stat(root.c_str(), &st) == 0 && st.st_mtime > ::time(nullptr) - 60;
}

// A test killed by Bazel's timeout (SIGKILL after SIGTERM) runs no destructor: its root and
// the daemons it started stay. Whoever makes the next root removes them.
void SweepStaleRoots() {
  DIR* tmp = ::opendir("/tmp");
  if (tmp == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(tmp)) {
    const std::string root = absl::StrCat("/tmp/", e->d_name);
    if (absl::StartsWith(e->d_name, "secureos-test-") && !absl::EndsWith(e->d_name, kOwnerSuffix) &&
        !OwnerAlive(root)) {
      stale.push_back(root);
    }
  }
  ::closedir(tmp);
  for (const std::string& root : stale) {
    if (DIR* proc = ::opendir("/proc")) {
      while (dirent* e = ::readdir(proc)) {
        pid_t pid = 0;
        if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
        std::string cmdline = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cmdline"));
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (absl::StrContains(cmdline + " ", root + " ") || absl::StrContains(cmdline, root + "/")) {
          ::kill(pid, SIGKILL);
        }
      }
      ::closedir(proc);
    }
    std::string cmd = "rm -rf '" + root + "' '" + root + kOwnerSuffix + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove stale %s\n", root.c_str());
  }
}

}  // namespace

TempRoot::TempRoot() {
  SweepStaleRoots();
  char tmpl[] = "/tmp/secureos-test-XXXXXX";
  char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) std::abort();
  path_ = dir;
  ::chmod(path_.c_str(), 0755);
  WriteFileOrDie(path_ + kOwnerSuffix, absl::StrCat(::getpid(), " ", StartTime(::getpid())));
}

TempRoot::~TempRoot() {
  std::string cmd = "rm -rf '" + path_ + "' '" + path_ + kOwnerSuffix + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path_.c_str());
}

RunResult RunSecctl(const TempRoot& root, const std::vector<std::string>& args,
                    std::optional<uid_t> uid) {
  std::vector<std::string> argv = {root / "bin/secctl", "--root", root.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.uid = uid;
  o.gid = uid;
  return RunProcess(argv, o);
}

void InstallSecctl(const TempRoot& root) {
  WriteFileOrDie(root / "bin/secctl", ReadFileOrEmpty(Runfile("cli/secctl")), 0755);
  ::chmod((root / "bin").c_str(), 0755);
}

void WriteFileOrDie(const std::string& path, const std::string& text, mode_t mode) {
  std::string mk = "mkdir -p \"$(dirname '" + path + "')\"";
  if (std::system(mk.c_str()) != 0) std::abort();
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.close();
  if (!f || ::chmod(path.c_str(), mode) != 0) std::abort();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int64_t ResidentKib(pid_t pid) { return ReadResidentKib(pid).value_or(-1); }

std::string Runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || ws == nullptr) return rel;
  return absl::StrCat(srcdir, "/", ws, "/", rel);
}

void RemoveCgroupEverywhere(const std::string& rel) {
  DIR* d = ::opendir("/sys/fs/cgroup");
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string parent = absl::StrCat("/sys/fs/cgroup/", e->d_name, "/", rel);
    if (DIR* leaves = ::opendir(parent.c_str())) {
      while (dirent* l = ::readdir(leaves)) {
        if (l->d_type != DT_DIR || l->d_name[0] == '.') continue;
        const std::string leaf = parent + "/" + l->d_name;
        for (const auto& line : absl::StrSplit(test::ReadFileOrEmpty(leaf + "/cgroup.procs"), '\n')) {
          int pid;
          if (absl::SimpleAtoi(line, &pid)) ::kill(pid, SIGKILL);
        }
        for (int i = 0; i < 100 && ::rmdir(leaf.c_str()) != 0 && errno == EBUSY; ++i) {
          absl::SleepFor(absl::Milliseconds(10));
        }
      }
      ::closedir(leaves);
    }
    ::rmdir(parent.c_str());
    ::rmdir(absl::StrCat("/sys/fs/cgroup/", e->d_name, "/", rel.substr(0, rel.find('/'))).c_str());
  }
  ::closedir(d);
}


absl::StatusOr<Child> StartDaemon(const TempRoot& root, const std::string& name) {
  SpawnOptions o;
  o.stderr_path = root / (name + ".log");
  absl::StatusOr<Child> child = Child::Start({Runfile(name + "/" + name), "--root", root.path()}, o);
  if (!child.ok()) return child.status();
  if (!WaitForPath(root / ("run/secureos/" + name + ".sock"), absl::Seconds(20))) {
    return absl::DeadlineExceededError(name + " made no socket within 20 s:\n" + ReadFileOrEmpty(o.stderr_path));
  }
  return child;
}

absl::Status StartDaemonInto(const TempRoot& root, const std::string& name, std::optional<Child>* out) {
  absl::StatusOr<Child> child = StartDaemon(root, name);
  if (!child.ok()) return child.status();
  out->emplace(std::move(*child));
  return absl::OkStatus();
}

std::string DaemonLogs(const TempRoot& root, std::initializer_list<const char*> daemons) {
  std::string out;
  for (const char* d : daemons) absl::StrAppend(&out, "--- ", d, " log:\n", ReadFileOrEmpty(root / absl::StrCat(d, ".log")));
  return out;
}

void StopDaemons(std::initializer_list<std::optional<Child>*> daemons) {
  for (std::optional<Child>* d : daemons) {
    if (!d->has_value()) continue;
    (*d)->Signal(SIGTERM);
    (*d)->Wait(absl::Seconds(10));
  }
}

}  // namespace secureos::test
