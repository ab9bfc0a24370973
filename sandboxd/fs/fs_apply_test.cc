// ApplyFsPlan on the real kernel: each test clones a child into new namespaces (a user
// namespace with "0 <host id> 1" maps written by the parent, or plain root), applies a plan
// there, and has the child report facts it observed ("key=value" lines on a pipe) or run
// /bin/sh inside the view. Needs real root: tagged "local".
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/fs/fs_plan.h"
#include "tests/process.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Facts = std::map<std::string, std::string>;

constexpr long kTmpfsMagic = 0x01021994;

// ---- What the child observes (it may allocate: it is a test process, after the plan) ----

std::string ErrName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : absl::StrCat("errno ", err);
}

// "ok" when `data` could be written to `path` (created or truncated), else the errno name.
std::string TryWrite(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrName(errno);
  absl::string_view rest = data;
  int err = 0;
  while (!rest.empty() && err == 0) {  // A short write first, then the error (ENOSPC).
    ssize_t n = write(fd, rest.data(), rest.size());
    if (n < 0) err = errno;
    if (n > 0) rest.remove_prefix(static_cast<size_t>(n));
  }
  close(fd);
  return err == 0 ? "ok" : ErrName(err);
}

std::string ReadOrErr(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *text : "error: " + std::string(text.status().message());
}

std::string StatErr(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? "exists" : ErrName(errno);
}

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? ErrName(errno) : std::string(buf, static_cast<size_t>(n));
}

std::string ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return ErrName(errno);
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, " ");
}

// The options of the mount at `mount_point` in /proc/self/mountinfo ("rw,nosuid ... - tmpfs
// sandbox rw,size=1024k,mode=1777"), or "" when it is not a mount point.
std::string MountLine(const std::string& mount_point) {
  std::string found;
  for (absl::string_view line : absl::StrSplit(ReadOrErr("/proc/self/mountinfo"), '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 5 && fields[4] == mount_point) found = std::string(line);
  }
  return found;
}

// Runs /bin/sh -c `script` in the view; returns its output and "exit=<code>".
Facts RunShell(const std::string& script) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) return {{"shell", "pipe failed"}};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  UniqueFd reader(out[0]);
  std::string output = ReadAll(reader.get()).value_or("read failed");
  int status = 0;
  waitpid(pid, &status, 0);
  Facts facts;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    facts[kv.first] = kv.second;
  }
  facts["exit"] = WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "signal";
  facts["output"] = output;
  return facts;
}

// ---- The parent side ----

struct HostIds {
  uid_t uid;
  gid_t gid;
};

struct Isolation {
  bool user_ns = true;
  HostIds ids{0, 0};  // What uid/gid 0 of the user namespace is on the host.
};

constexpr Isolation kUserNs{true, {0, 0}};
constexpr Isolation kUserNsNobody{true, {65534, 65534}};
constexpr Isolation kRootOnly{false, {0, 0}};

struct ViewResult {
  std::string harness_error;  // A problem of the test itself.
  int apply_error = -1;
  std::string failed_step;
  Facts facts;
};

std::string Serialize(const Facts& facts) {
  std::string out;
  for (const auto& [key, value] : facts)
    absl::StrAppend(&out, key, "=", absl::CEscape(value), "\n");
  return out;
}

Facts Deserialize(const std::string& text) {
  Facts facts;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    std::string value;
    absl::CUnescape(kv.second, &value);
    facts[kv.first] = value;
  }
  return facts;
}

[[noreturn]] void ChildMain(const FsPlan& plan, bool user_ns, const std::function<Facts()>& check,
                            int go, int report) {
  char byte;
  if (read(go, &byte, 1) != 1) _exit(2);  // The parent gave up before the maps were written.
  // Become the namespace's uid/gid 0: until then this process keeps the parent's host ids,
  // which need not be mapped (0 -> 65534), and files it creates would get EOVERFLOW.
  if (user_ns && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)) _exit(3);
  const char* step = nullptr;
  const int err = ApplyFsPlan(plan, &step);
  Facts facts;
  if (err != 0) {
    facts["apply_error"] = std::to_string(err);
    facts["failed_step"] = step != nullptr ? step : "(null)";
  } else {
    facts = check();
    facts["apply_error"] = "0";
  }
  (void)WriteAll(report, Serialize(facts));
  _exit(0);
}

// Kills and reaps the child unless it was reaped already: a failing test leaves nothing.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int Wait() {
    int status = 0;
    RetryOnEintr([&] { return waitpid(pid_, &status, 0); });
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

absl::Status WriteProcFile(pid_t pid, const char* name, const std::string& text) {
  absl::StatusOr<UniqueFd> fd = OpenFile(absl::StrCat("/proc/", pid, "/", name), O_WRONLY);
  if (!fd.ok()) return fd.status();
  return WriteAll(fd->get(), text);
}

absl::Status WriteIdMaps(pid_t pid, HostIds ids) {
  absl::Status status = WriteProcFile(pid, "setgroups", "deny");
  if (status.ok()) status = WriteProcFile(pid, "uid_map", absl::StrCat("0 ", ids.uid, " 1\n"));
  if (status.ok()) status = WriteProcFile(pid, "gid_map", absl::StrCat("0 ", ids.gid, " 1\n"));
  return status;
}

// Reads until EOF or `deadline`.
std::string ReadUntil(int fd, absl::Time deadline, bool* timed_out) {
  std::string out;
  char buf[4096];
  *timed_out = false;
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) {
      *timed_out = true;
      return out;
    }
    pollfd p{fd, POLLIN, 0};
    if (RetryOnEintr([&] { return poll(&p, 1, static_cast<int>(ms)); }) <= 0) continue;
    ssize_t n = RetryOnEintr([&] { return read(fd, buf, sizeof(buf)); });
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// Clones a child in new mount and pid namespaces (and a user namespace), applies `plan`
// there and returns what `check` observed inside the view.
ViewResult RunInView(const FsPlan& plan, Isolation isolation, const std::function<Facts()>& check) {
  ViewResult result;
  int report[2], go[2];
  if (pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
    result.harness_error = "pipe2 failed";
    return result;
  }
  UniqueFd report_read(report[0]), report_write(report[1]), go_read(go[0]), go_write(go[1]);
  const unsigned long flags =
      CLONE_NEWNS | CLONE_NEWPID | (isolation.user_ns ? CLONE_NEWUSER : 0) | SIGCHLD;
  // A raw clone (fork-like: no new stack) so that the child is pid 1 of its namespace and
  // killing it kills everything it started.
  const pid_t pid = static_cast<pid_t>(syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0));
  if (pid == 0) {
    report_read.Reset();
    go_write.Reset();
    ChildMain(plan, isolation.user_ns, check, go_read.get(), report_write.get());
  }
  if (pid < 0) {
    result.harness_error = absl::StrCat("clone: ", strerror(errno));
    return result;
  }
  ChildGuard guard(pid);
  report_write.Reset();
  go_read.Reset();
  if (isolation.user_ns) {
    absl::Status maps = WriteIdMaps(pid, isolation.ids);
    if (!maps.ok()) {
      result.harness_error = std::string(maps.message());
      return result;
    }
  }
  if (write(go_write.get(), "g", 1) != 1) {
    result.harness_error = "could not start the child";
    return result;
  }
  bool timed_out = false;
  std::string text = ReadUntil(report_read.get(), absl::Now() + absl::Seconds(30), &timed_out);
  if (timed_out) {
    result.harness_error = "the child did not report within 30s";
    return result;
  }
  const int status = guard.Wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    result.harness_error = absl::StrCat("child wait status ", status, ", report: ", text);
  }
  result.facts = Deserialize(text);
  int apply_error = -1;
  if (absl::SimpleAtoi(result.facts["apply_error"], &apply_error)) result.apply_error = apply_error;
  result.failed_step = result.facts["failed_step"];
  return result;
}

FsPlan PlanOf(const std::string& text, bool user_ns = true) {
  v1::Filesystem fs;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fs)) << text;
  absl::StatusOr<FsPlan> plan = BuildFsPlan(fs, /*pid_namespace=*/true, user_ns);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : FsPlan{};
}

// Expects the plan to have applied; reports the failing step otherwise.
#define EXPECT_APPLIED(result)                                             \
  do {                                                                     \
    EXPECT_THAT((result).harness_error, IsEmpty());                        \
    EXPECT_EQ((result).apply_error, 0)                                     \
        << (result).failed_step << ": " << strerror((result).apply_error); \
  } while (false)

std::vector<std::string> MountInfoLines() {
  absl::StatusOr<std::string> text = ReadFile("/proc/self/mountinfo");
  EXPECT_TRUE(text.ok()) << text.status();
  return absl::StrSplit(text.value_or(""), '\n', absl::SkipEmpty());
}

// Mounts present in `after` but not in `before` that this test could have made: the staging
// tmpfs (on /tmp), any mount whose source is "sandbox", or any under `paths`.
std::vector<std::string> LeakedMounts(const std::vector<std::string>& before,
                                      const std::vector<std::string>& after,
                                      const std::vector<std::string>& paths) {
  std::set<std::string> old(before.begin(), before.end());
  std::vector<std::string> leaked;
  for (const std::string& line : after) {
    if (old.count(line) != 0) continue;
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    const std::string& mount_point = fields[4];
    bool ours = mount_point == "/tmp" || absl::StrContains(line, " - tmpfs sandbox ") ||
                absl::StrContains(line, " - proc sandbox ");
    for (const std::string& path : paths) ours = ours || absl::StartsWith(mount_point, path);
    if (ours) leaked.push_back(line);
  }
  return leaked;
}

// Every test checks that the host's mount table did not gain anything of ours.
class FsApplyTest : public ::testing::Test {
 protected:
  void SetUp() override { mounts_before_ = MountInfoLines(); }
  void TearDown() override {
    EXPECT_THAT(LeakedMounts(mounts_before_, MountInfoLines(), {temp_.path()}), IsEmpty());
  }
  test::TempRoot temp_;

 private:
  std::vector<std::string> mounts_before_;
};

TEST_F(FsApplyTest, HostRootIsReadOnlyAndTmpfsEntryHasItsSizeAndMode) {
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_PROC target: "/proc" }
    entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "1m" mode: "0750" }
  )pb");
  ViewResult result = RunInView(plan, kUserNs, [] {
    Facts facts;
    facts["etc_write"] = TryWrite("/etc/sandboxd-fs-test", "x");
    facts["os_release"] = ReadOrErr("/etc/os-release");
    facts["tmp_small_write"] = TryWrite("/tmp/small", std::string(512 << 10, 'a'));
    facts["tmp_big_write"] = TryWrite("/tmp/big", std::string(2 << 20, 'b'));
    facts["tmp_mount"] = MountLine("/tmp");
    facts["root_mount"] = MountLine("/");
    struct stat st;
    facts["tmp_mode"] = stat("/tmp", &st) == 0 ? absl::StrCat(st.st_mode & 07777) : "?";
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["etc_write"], "EROFS");
  EXPECT_EQ(result.facts["os_release"], ReadOrErr("/etc/os-release"));
  EXPECT_THAT(result.facts["os_release"], HasSubstr("Debian"));
  EXPECT_EQ(result.facts["tmp_small_write"], "ok");
  EXPECT_EQ(result.facts["tmp_big_write"], "ENOSPC");
  // tmpfs leaves its default mode (1777) out of mountinfo, hence 0750 here.
  EXPECT_THAT(result.facts["tmp_mount"], HasSubstr(" - tmpfs sandbox rw,size=1024k,mode=750"));
  EXPECT_THAT(result.facts["tmp_mount"], HasSubstr("nosuid,nodev"));
  EXPECT_EQ(result.facts["tmp_mode"], std::to_string(0750));
  EXPECT_THAT(result.facts["root_mount"], HasSubstr(" / / ro,nosuid,nodev"));
}

TEST_F(FsApplyTest, RwBindWritesReachTheHostAndRoBindIsReadOnly) {
  test::WriteFileOrDie(temp_ / "rw/existing", "from host");
  test::WriteFileOrDie(temp_ / "ro/existing", "read me");
  FsPlan plan = PlanOf(
      absl::Substitute(R"pb(
                         entries { kind: MOUNT_KIND_TMPFS target: "/mnt" size: "1m" }
                         entries { kind: MOUNT_KIND_RW_BIND source: "$0/rw" target: "/mnt/rw" }
                         entries { kind: MOUNT_KIND_RO_BIND source: "$0/ro" target: "/mnt/ro" }
                       )pb",
                       temp_.path()));
  ViewResult result = RunInView(plan, kUserNs, [] {
    Facts facts;
    facts["rw_read"] = ReadOrErr("/mnt/rw/existing");
    facts["rw_write"] = TryWrite("/mnt/rw/from-sandbox", "written inside");
    facts["ro_read"] = ReadOrErr("/mnt/ro/existing");
    facts["ro_write"] = TryWrite("/mnt/ro/new", "x");
    facts["ro_overwrite"] = TryWrite("/mnt/ro/existing", "x");
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["rw_read"], "from host");
  EXPECT_EQ(result.facts["rw_write"], "ok");
  EXPECT_EQ(test::ReadFileOrEmpty(temp_ / "rw/from-sandbox"), "written inside");
  EXPECT_EQ(result.facts["ro_read"], "read me");
  EXPECT_EQ(result.facts["ro_write"], "EROFS");
  EXPECT_EQ(result.facts["ro_overwrite"], "EROFS");
  EXPECT_EQ(test::ReadFileOrEmpty(temp_ / "ro/existing"), "read me");
  EXPECT_EQ(StatErr(temp_ / "ro/new"), "ENOENT");
}

// The entries a Debian 12 userland needs on a tmpfs root: /usr read-only, and /bin, /lib,
// /lib64, /sbin as the host has them (symlinks into usr on a merged-/usr system).
std::string DebianEntries() {
  std::string text = R"pb(entries { kind: MOUNT_KIND_RO_BIND source: "/usr" target: "/usr" })pb";
  for (const char* dir : {"/bin", "/lib", "/lib64", "/sbin"}) {
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISLNK(st.st_mode)) {
      absl::StrAppend(&text, absl::Substitute(R"pb(entries {
                                                     kind: MOUNT_KIND_RO_BIND
                                                     source: "$0"
                                                     target: "$0"
                                                     optional: true
                                                   })pb",
                                              dir));
    } else {
      absl::StrAppend(
          &text,
          absl::Substitute(R"pb(entries { kind: MOUNT_KIND_SYMLINK source: "$0" target: "$1" })pb",
                           ReadLink(dir), dir));
    }
  }
  return text;
}

TEST_F(FsApplyTest, TmpfsRootWithUsrRunsAShellAsAnUnprivilegedHostUid) {
  FsPlan plan = PlanOf(DebianEntries() + R"pb(
    root: ROOT_TMPFS
    entries { kind: MOUNT_KIND_PROC target: "/proc" }
    entries { kind: MOUNT_KIND_DEV target: "/dev" }
    entries { kind: MOUNT_KIND_TMPFS target: "/tmp" }
    entries { kind: MOUNT_KIND_DIR target: "/work/dir" mode: "0750" }
    cwd: "/work/dir"
  )pb");
  ViewResult result = RunInView(plan, kUserNsNobody, [] {
    return RunShell(
        "echo pwd=$(pwd); echo root=$(ls / | tr '\\n' ' '); echo uid=$(id -u);"
        "if echo x > /x 2>/dev/null; then echo root_write=ok; else echo root_write=refused; fi;"
        "echo tmp=$(echo hi > /tmp/f && cat /tmp/f);"
        "echo workdir=$(stat -c %a /work/dir); echo null=$(echo gone > /dev/null && echo ok)");
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["exit"], "0") << result.facts["output"];
  EXPECT_EQ(result.facts["pwd"], "/work/dir");
  EXPECT_EQ(result.facts["root"], "bin dev lib lib64 proc sbin tmp usr work");
  EXPECT_EQ(result.facts["uid"], "0");
  EXPECT_EQ(result.facts["root_write"], "refused");
  EXPECT_EQ(result.facts["tmp"], "hi");
  EXPECT_EQ(result.facts["workdir"], "750");
  EXPECT_EQ(result.facts["null"], "ok");
}

TEST_F(FsApplyTest, ProcShowsOnlyTheChildsPidNamespace) {
  FsPlan plan = PlanOf(R"pb(entries { kind: MOUNT_KIND_PROC target: "/proc" })pb");
  ViewResult result = RunInView(plan, kUserNs, [] {
    Facts facts;
    facts["self"] = ReadLink("/proc/self");
    facts["cmdline"] = ReadOrErr("/proc/1/cmdline");
    int pids = 0;
    for (absl::string_view name : absl::StrSplit(ListDir("/proc"), ' ')) {
      int pid;
      if (absl::SimpleAtoi(name, &pid)) ++pids;
    }
    facts["pids"] = std::to_string(pids);
    facts["proc_mount"] = MountLine("/proc");
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["self"], "1");
  EXPECT_EQ(result.facts["cmdline"], ReadOrErr("/proc/self/cmdline"));
  EXPECT_EQ(result.facts["pids"], "1");
  EXPECT_THAT(result.facts["proc_mount"], HasSubstr("nosuid,nodev,noexec"));
  EXPECT_THAT(result.facts["proc_mount"], HasSubstr(" - proc sandbox "));
}

// The name of a block device the host's /dev has ("vda"), for proving DEV leaves it out.
std::string HostBlockDevice() {
  DIR* dir = opendir("/dev");
  std::string found;
  while (dir != nullptr && found.empty()) {
    dirent* entry = readdir(dir);
    if (entry == nullptr) break;
    struct stat st;
    std::string path = std::string("/dev/") + entry->d_name;
    if (stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) found = entry->d_name;
  }
  if (dir != nullptr) closedir(dir);
  return found;
}

TEST_F(FsApplyTest, DevHasTheUsualNodesAndNoHostDisk) {
  const std::string disk = HostBlockDevice();
  ASSERT_FALSE(disk.empty()) << "the host /dev has no block device to look for";
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_PROC target: "/proc" }
    entries { kind: MOUNT_KIND_DEV target: "/dev" }
  )pb");
  ViewResult result = RunInView(plan, kUserNs, [&disk] {
    Facts facts;
    facts["list"] = ListDir("/dev");
    facts["null_write"] = TryWrite("/dev/null", "discard");
    facts["full_write"] = TryWrite("/dev/full", "x");
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    facts["zero_read"] =
        fd >= 0 && read(fd, buf, sizeof(buf)) == 8 && std::string(buf, 8) == std::string(8, '\0')
            ? "zeros"
            : ErrName(errno);
    if (fd >= 0) close(fd);
    facts["host_disk"] = StatErr("/dev/" + disk);
    facts["sda"] = StatErr("/dev/sda");
    facts["new_file"] = TryWrite("/dev/new", "x");
    facts["shm_write"] = TryWrite("/dev/shm/x", "x");
    facts["fd_link"] = ReadLink("/dev/fd");
    int ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    unsigned pty = 0;
    if (ptmx >= 0 && ioctl(ptmx, TIOCGPTN, &pty) == 0) {
      facts["pty"] = StatErr(absl::StrCat("/dev/pts/", pty));
    } else {
      facts["pty"] = ErrName(errno);
    }
    if (ptmx >= 0) close(ptmx);
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["list"],
            "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero");
  EXPECT_EQ(result.facts["null_write"], "ok");
  EXPECT_EQ(result.facts["full_write"], "ENOSPC");
  EXPECT_EQ(result.facts["zero_read"], "zeros");
  EXPECT_EQ(result.facts["host_disk"], "ENOENT") << disk;
  EXPECT_EQ(result.facts["sda"], "ENOENT");
  EXPECT_EQ(result.facts["new_file"], "EROFS");
  EXPECT_EQ(result.facts["shm_write"], "ok");
  EXPECT_EQ(result.facts["fd_link"], "/proc/self/fd");
  EXPECT_EQ(result.facts["pty"], "exists");
}

TEST_F(FsApplyTest, FileContentIsReadableAndReadOnly) {
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_FILE target: "/etc/hostname" content: "box-from-plan\n" }
    entries { kind: MOUNT_KIND_TMPFS target: "/tmp" }
    entries {
      kind: MOUNT_KIND_FILE
      target: "/tmp/a/b/greeting"
      content: "hello\000bin"
      mode: "0640"
    }
  )pb");
  ViewResult result = RunInView(plan, kUserNs, [] {
    Facts facts;
    facts["hostname"] = ReadOrErr("/etc/hostname");
    facts["hostname_write"] = TryWrite("/etc/hostname", "x");
    facts["greeting"] = ReadOrErr("/tmp/a/b/greeting");
    facts["greeting_write"] = TryWrite("/tmp/a/b/greeting", "x");
    struct stat st;
    facts["greeting_mode"] =
        stat("/tmp/a/b/greeting", &st) == 0 ? absl::StrCat(st.st_mode & 07777) : "?";
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["hostname"], "box-from-plan\n");
  EXPECT_EQ(result.facts["hostname_write"], "EROFS");
  EXPECT_EQ(result.facts["greeting"], std::string("hello\0bin", 9));
  EXPECT_EQ(result.facts["greeting_write"], "EROFS");
  EXPECT_EQ(result.facts["greeting_mode"], std::to_string(0640));
  EXPECT_NE(test::ReadFileOrEmpty("/etc/hostname"), "box-from-plan\n");
}

// A bind source holding "esc -> /": entries whose target goes through it land inside the
// new root (RESOLVE_IN_ROOT), never on the host or the staging tree.
TEST_F(FsApplyTest, SymlinkToSlashInABindSourceDoesNotEscapeTheNewRoot) {
  const std::string marker =
      "sandboxd-fs-escape-" + temp_.path().substr(temp_.path().rfind('/') + 1);
  ASSERT_EQ(symlink("/", (temp_ / "esc").c_str()), 0);
  ASSERT_EQ(StatErr("/" + marker), "ENOENT");
  FsPlan plan = PlanOf(
      absl::Substitute(R"pb(
                         root: ROOT_TMPFS
                         entries { kind: MOUNT_KIND_RW_BIND source: "$0" target: "/data" }
                         entries { kind: MOUNT_KIND_DIR target: "/data/esc/$1" }
                         entries { kind: MOUNT_KIND_TMPFS target: "/data/esc/$1/tmp" size: "1m" }
                         entries { kind: MOUNT_KIND_FILE target: "/data/esc/etc/$1" content: "in" }
                       )pb",
                       temp_.path(), marker));
  ViewResult result = RunInView(plan, kUserNs, [&marker] {
    Facts facts;
    facts["dir"] = StatErr("/" + marker);
    struct statfs fs;
    facts["tmpfs"] = statfs(("/" + marker + "/tmp").c_str(), &fs) == 0 && fs.f_type == kTmpfsMagic
                         ? "tmpfs"
                         : "not tmpfs";
    facts["file"] = ReadOrErr("/etc/" + marker);
    facts["data"] = ListDir("/data");
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["dir"], "exists");
  EXPECT_EQ(result.facts["tmpfs"], "tmpfs");
  EXPECT_EQ(result.facts["file"], "in");
  EXPECT_EQ(result.facts["data"], "esc");
  EXPECT_EQ(StatErr("/" + marker), "ENOENT");
  EXPECT_EQ(StatErr("/etc/" + marker), "ENOENT");
  EXPECT_EQ(ListDir(temp_.path()), "esc");
}

// "/proc/self/root" is a magic link to the process root, which is the staging tree (with
// the host at /oldroot) while the plan is applied: it must not be followed.
TEST_F(FsApplyTest, MagicLinkInATargetIsRefused) {
  ASSERT_EQ(symlink("/proc/self/root", (temp_ / "root-link").c_str()), 0);
  FsPlan plan = PlanOf(
      absl::Substitute(R"pb(
                         root: ROOT_TMPFS
                         entries { kind: MOUNT_KIND_PROC target: "/proc" }
                         entries { kind: MOUNT_KIND_RO_BIND source: "$0" target: "/data" }
                         entries { kind: MOUNT_KIND_TMPFS target: "/data/root-link/oldroot/tmp" }
                       )pb",
                       temp_.path()));
  ViewResult result = RunInView(plan, kUserNs, [] { return Facts{}; });
  EXPECT_THAT(result.harness_error, IsEmpty());
  EXPECT_EQ(result.apply_error, ELOOP) << strerror(result.apply_error);
  EXPECT_EQ(result.failed_step, "mount tmpfs on /data/root-link/oldroot/tmp");
}

TEST_F(FsApplyTest, OptionalBindWithMissingSourceIsSkippedOtherwiseNamed) {
  const std::string missing = temp_ / "missing";
  FsPlan optional = PlanOf(absl::Substitute(
      R"pb(
        entries { kind: MOUNT_KIND_TMPFS target: "/mnt" }
        entries { kind: MOUNT_KIND_RO_BIND source: "$0" target: "/mnt/x" optional: true }
      )pb",
      missing));
  ViewResult skipped = RunInView(optional, kUserNs, [] { return Facts{{"x", StatErr("/mnt/x")}}; });
  EXPECT_APPLIED(skipped);
  EXPECT_EQ(skipped.facts["x"], "ENOENT");

  FsPlan required =
      PlanOf(absl::Substitute(R"pb(
                                entries { kind: MOUNT_KIND_RO_BIND source: "$0" target: "/mnt" }
                              )pb",
                              missing));
  ViewResult failed = RunInView(required, kUserNs, [] { return Facts{}; });
  EXPECT_EQ(failed.apply_error, ENOENT);
  EXPECT_EQ(failed.failed_step, absl::StrCat("bind ", missing, " -> /mnt"));
}

TEST_F(FsApplyTest, MissingMountPointOnTheReadOnlyHostRootIsNamed) {
  FsPlan plan =
      PlanOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "/sandboxd-fs-no-such-dir/x" })pb");
  ViewResult result = RunInView(plan, kUserNs, [] { return Facts{}; });
  EXPECT_THAT(result.harness_error, IsEmpty());
  EXPECT_EQ(result.apply_error, EROFS) << strerror(result.apply_error);
  EXPECT_EQ(result.failed_step, "dir /sandboxd-fs-no-such-dir/x");
  EXPECT_EQ(StatErr("/sandboxd-fs-no-such-dir"), "ENOENT");
}

TEST_F(FsApplyTest, WorksAsPlainRootWithoutAUserNamespace) {
  FsPlan plan = PlanOf(R"pb(
                         entries { kind: MOUNT_KIND_PROC target: "/proc" }
                         entries { kind: MOUNT_KIND_DEV target: "/dev" }
                         entries { kind: MOUNT_KIND_TMPFS target: "/tmp" }
                         cwd: "/etc"
                       )pb",
                       /*user_ns=*/false);
  ViewResult result = RunInView(plan, kRootOnly, [] {
    Facts facts;
    facts["etc_write"] = TryWrite("/etc/sandboxd-fs-test", "x");
    facts["self"] = ReadLink("/proc/self");
    facts["tmp_write"] = TryWrite("/tmp/x", "x");
    facts["pts_mount"] = MountLine("/dev/pts");
    char cwd[PATH_MAX];
    facts["cwd"] = getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ErrName(errno);
    return facts;
  });
  EXPECT_APPLIED(result);
  EXPECT_EQ(result.facts["etc_write"], "EROFS");
  EXPECT_EQ(result.facts["self"], "1");
  EXPECT_EQ(result.facts["tmp_write"], "ok");
  EXPECT_THAT(result.facts["pts_mount"], HasSubstr("gid=5"));
  EXPECT_EQ(result.facts["cwd"], "/etc");
  EXPECT_EQ(StatErr("/etc/sandboxd-fs-test"), "ENOENT");
}

// Under a "host" whose mounts are all shared (as with systemd), nothing the child mounts may
// propagate back: the simulated host is a forked process with its own shared namespace.
TEST_F(FsApplyTest, NothingPropagatesToASharedHost) {
  FsPlan plan =
      PlanOf(absl::Substitute(R"pb(
                                entries { kind: MOUNT_KIND_PROC target: "/proc" }
                                entries { kind: MOUNT_KIND_TMPFS target: "/tmp" }
                                entries { kind: MOUNT_KIND_RW_BIND source: "$0" target: "/tmp/rw" }
                                entries { kind: MOUNT_KIND_TMPFS target: "/tmp/rw/inner" }
                              )pb",
                              temp_.path()),
             /*user_ns=*/false);
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  UniqueFd reader(out[0]), writer(out[1]);
  const pid_t host = fork();
  if (host == 0) {
    reader.Reset();
    std::string report;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) != 0) {
      report = "could not make a shared namespace";
    } else {
      std::vector<std::string> before = MountInfoLines();
      ViewResult result = RunInView(plan, kRootOnly, [] { return Facts{}; });
      report = absl::StrCat("apply_error=", result.apply_error, " ", result.failed_step,
                            result.harness_error, "\n");
      for (const std::string& line : LeakedMounts(before, MountInfoLines(), {temp_.path()})) {
        absl::StrAppend(&report, "leaked: ", line, "\n");
      }
    }
    (void)WriteAll(writer.get(), report);
    _exit(0);
  }
  ASSERT_GT(host, 0);
  ChildGuard guard(host);
  writer.Reset();
  bool timed_out = false;
  std::string report = ReadUntil(reader.get(), absl::Now() + absl::Seconds(60), &timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(report, "apply_error=0 \n");
  // The mount point was made in the bound host directory; the tmpfs stayed in the child.
  EXPECT_EQ(ListDir(temp_.path()), "inner");
  struct statfs fs;
  ASSERT_EQ(statfs((temp_ / "inner").c_str(), &fs), 0);
  EXPECT_NE(fs.f_type, kTmpfsMagic);
}

}  // namespace
}  // namespace secureos::sandboxd
