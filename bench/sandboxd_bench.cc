// sandboxd start-to-exit of /bin/true under a full sandbox, side by side with its peers in
// one run, interleaved:
//   sandboxd Run, default preset         request to the exited record (OUTPUT_MODE_NULL)
//     ... right after another Run         the same, without the cgroup attach's RCU wait
//   sandboxd Run, ROOT_TMPFS view         the same, with bwrap's filesystem view
//   secctl sandbox run -- /bin/true       the shipped static CLI: wall time of the process
//   bwrap --unshare-all ... --seccomp FD  Debian's bubblewrap, a libseccomp allowlist
//   firejail --noprofile --seccomp ...    Debian's firejail: its own namespaces, private
//                                         /tmp, /dev and home, no network, its default
//                                         seccomp blocklist, every capability dropped
//   unshare --user --map-root-user ...    util-linux, namespaces only
//   posix_spawn + waitpid of /bin/true    the floor
// Needs root, cgroups and namespaces. Starts its own sandboxd on a temporary root (with a
// tmpfs on <root>/run, as deployed) and a cgroup parent of its own; stops it, and removes
// the root and that cgroup parent from every hierarchy, also when a case fails.
// Every run starts after a pause (kSettle), as an isolated start would. Prints median, p10, p90 and
// the ratio to bwrap as a markdown table.
// Run: bazel run -c opt //bench:sandboxd_bench [-- --rounds N]
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grpcpp/grpcpp.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "common/fd.h"
#include "common/grpc_status.h"
#include "common/status.h"
#include "proto/sandboxd.grpc.pb.h"
#include "sandboxd/level_presets.h"

ABSL_FLAG(int, rounds, 200, "Measured iterations of each case (after 20 warm-up ones).");

extern char** environ;

namespace secureos::sandboxd {
namespace {

constexpr int kWarmUp = 20;
// Quiet time before every measured run. Moving a task into a cgroup v1 hierarchy takes
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (~7.5 ms here)
// unless another attach happened within the last one: without the pause, whichever
// sandboxd case follows another one in a round would skip that wait and look faster.
constexpr absl::Duration kSettle = absl::Milliseconds(50);
constexpr char kBwrap[] = "/usr/bin/bwrap";
constexpr char kUnshare[] = "/usr/bin/unshare";
constexpr char kFirejail[] = "/usr/bin/firejail";
constexpr char kTrue[] = "/bin/true";
// The descriptor number bwrap reads its seccomp program from (--seccomp 3).
constexpr int kBwrapSeccompFd = 3;

volatile sig_atomic_t g_interrupted = 0;

void OnInterrupt(int) { g_interrupted = 1; }

// A program to spawn. `pass_fd`, when set, becomes the child's kBwrapSeccompFd; it must
// not be kBwrapSeccompFd itself (dup2 onto itself would keep O_CLOEXEC).
struct Command {
  std::vector<std::string> argv;
  int pass_fd = -1;
};

// stdin and stdout are /dev/null; stderr is appended to `stderr_path`, or inherited (so
// that a failing peer says why on the terminal; none writes anything when it succeeds).
absl::StatusOr<pid_t> Spawn(const Command& cmd, const std::string& stderr_path = "") {
  std::vector<char*> args;
  for (const std::string& a : cmd.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (cmd.pass_fd >= 0) posix_spawn_file_actions_adddup2(&actions, cmd.pass_fd, kBwrapSeccompFd);
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return ErrnoToStatus(err, absl::StrCat("posix_spawn ", cmd.argv[0]));
  return pid;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

absl::Status WaitForSuccess(pid_t pid, const std::string& what) {
  int status = 0;
  if (RetryOnEintr([&] { return ::waitpid(pid, &status, 0); }) != pid) {
    return ErrnoToStatus(errno, absl::StrCat("waitpid ", what));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(what, ": ", DescribeWaitStatus(status)));
  }
  return absl::OkStatus();
}

// Wall time from spawn to the reaped exit, which must be 0.
absl::StatusOr<double> TimeCommandMs(const Command& cmd) {
  const absl::Time start = absl::Now();
  SECUREOS_ASSIGN_OR_RETURN(const pid_t pid, Spawn(cmd));
  SECUREOS_RETURN_IF_ERROR(WaitForSuccess(pid, cmd.argv[0]));
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

// A sandboxd on a temporary root. The destructor undoes everything Start did, however far
// it got: the daemon stopped (SIGTERM, then SIGKILL after 10 s), /run unmounted, the root
// removed, the cgroup parent removed from every hierarchy.
class SandboxdUnderTest {
 public:
  static absl::StatusOr<std::unique_ptr<SandboxdUnderTest>> Start(const std::string& binary);
  ~SandboxdUnderTest();
  SandboxdUnderTest(const SandboxdUnderTest&) = delete;
  SandboxdUnderTest& operator=(const SandboxdUnderTest&) = delete;

  const std::string& root() const { return root_; }
  v1::Sandboxd::Stub* stub() const { return stub_.get(); }
  std::string Log() const;

 private:
  SandboxdUnderTest() = default;
  absl::Status Prepare();
  absl::Status WaitReady();
  void Stop();

  std::string root_;
  std::string cgroup_parent_;
  bool run_mounted_ = false;
  pid_t pid_ = -1;
  std::unique_ptr<v1::Sandboxd::Stub> stub_;
};

absl::StatusOr<std::unique_ptr<SandboxdUnderTest>> SandboxdUnderTest::Start(
    const std::string& binary) {
  std::unique_ptr<SandboxdUnderTest> s(new SandboxdUnderTest());
  SECUREOS_RETURN_IF_ERROR(s->Prepare());
  SECUREOS_ASSIGN_OR_RETURN(s->pid_,
                            Spawn({{binary, "--root", s->root_}}, s->root_ + "/sandboxd.log"));
  SECUREOS_RETURN_IF_ERROR(s->WaitReady());
  return s;
}

absl::Status SandboxdUnderTest::Prepare() {
  char tmpl[] = "/tmp/secureos-sandboxd-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoToStatus(errno, "mkdtemp");
  root_ = tmpl;
  cgroup_parent_ = absl::StrCat("secureos-bench/sbx-", ::getpid());
  std::error_code ec;
  std::filesystem::create_directories(root_ + "/etc/secureos", ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir under ", root_, ": ", ec.message()));
  const std::string run = root_ + "/run";
  if (::mkdir(run.c_str(), 0755) != 0) return ErrnoToStatus(errno, "mkdir " + run);
  if (::mount("tmpfs", run.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return ErrnoToStatus(errno, "mount tmpfs on " + run);
  }
  run_mounted_ = true;
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd conf, OpenFile(root_ + "/etc/secureos/sandboxd.conf",
                                                    O_WRONLY | O_CREAT | O_TRUNC, 0644));
  return WriteAll(conf.get(), absl::StrCat(
      "server { socket_mode: \"0600\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\n"
      "workload_uid: 65534\nid_map_count: 1\ncgroup_favor_dynmods: true\ncgroup_parent: \"", cgroup_parent_, "\"\n"));
}

absl::Status SandboxdUnderTest::WaitReady() {
  stub_ = v1::Sandboxd::NewStub(grpc::CreateChannel(
      "unix:" + root_ + "/run/secureos/sandboxd.sock", grpc::InsecureChannelCredentials()));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError("sandboxd exited at start: " + DescribeWaitStatus(status));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    common::v1::HealthResponse health;
    if (stub_->Health(&ctx, common::v1::HealthRequest(), &health).ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("sandboxd did not answer Health within 20 s");
}

std::string SandboxdUnderTest::Log() const {
  absl::StatusOr<std::string> log = ReadFile(root_ + "/sandboxd.log");
  return log.ok() ? *log : std::string(log.status().message());
}

void SandboxdUnderTest::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "sandboxd ignored SIGTERM for 10 s: killing it\n");
      ::kill(pid_, SIGKILL);
      RetryOnEintr([&] { return ::waitpid(pid_, nullptr, 0); });
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
}

SandboxdUnderTest::~SandboxdUnderTest() {
  stub_.reset();
  Stop();
  if (run_mounted_ && ::umount2((root_ + "/run").c_str(), MNT_DETACH) != 0) {
    std::fprintf(stderr, "could not unmount %s/run: %s\n", root_.c_str(), std::strerror(errno));
  }
  if (!root_.empty()) {
    bench::RemoveTree(root_);
    if (::access(root_.c_str(), F_OK) == 0) {
      std::fprintf(stderr, "could not remove %s\n", root_.c_str());
    }
  }
  if (!cgroup_parent_.empty()) {
    for (const std::string& dir : bench::RemoveCgroupParent(cgroup_parent_)) {
      std::fprintf(stderr, "could not remove cgroup %s\n", dir.c_str());
    }
  }
}

// Request to the exited record of one Run; the workload must exit 0.
absl::StatusOr<double> TimeRunMs(v1::Sandboxd::Stub* stub, const v1::RunRequest& request) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const absl::Time start = absl::Now();
  std::unique_ptr<grpc::ClientReader<v1::RunEvent>> reader = stub->Run(&ctx, request);
  std::optional<double> ms;
  v1::RunEvent event;
  v1::Exited exited;
  while (reader->Read(&event)) {
    if (!event.has_exited()) continue;
    ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    exited = event.exited();
  }
  SECUREOS_RETURN_IF_ERROR(Annotate(FromGrpcStatus(reader->Finish()), "sandboxd Run"));
  if (!ms.has_value()) return absl::InternalError("sandboxd Run: no exited record");
  if (!exited.has_code() || exited.code() != 0) {
    return absl::InternalError("sandboxd Run: the workload " + exited.detail());
  }
  return *ms;
}

v1::MountEntry* AddEntry(v1::SandboxSpec* spec, v1::MountKind kind, const char* target,
                         const char* source = "") {
  v1::MountEntry* e = spec->mutable_filesystem()->add_entries();
  e->set_kind(kind);
  e->set_target(target);
  e->set_source(source);
  return e;
}

// What `secctl sandbox run -- /bin/true` sends, with output to /dev/null.
v1::RunRequest DefaultRun() {
  v1::RunRequest request;
  ApplyDefaultPreset(request.mutable_spec());
  request.mutable_spec()->add_argv(kTrue);
  request.set_output(v1::OUTPUT_MODE_NULL);
  return request;
}

// The default preset with bwrap's view: an empty tmpfs root, /usr read-only, Debian 12's
// merged-/usr links, /proc, /dev (and no /tmp).
v1::RunRequest TmpfsRootRun() {
  v1::RunRequest request = DefaultRun();
  v1::SandboxSpec* spec = request.mutable_spec();
  spec->mutable_filesystem()->set_root(v1::Filesystem::ROOT_TMPFS);
  spec->mutable_filesystem()->clear_entries();
  AddEntry(spec, v1::MOUNT_KIND_RO_BIND, "/usr", "/usr");
  AddEntry(spec, v1::MOUNT_KIND_SYMLINK, "/bin", "usr/bin");
  AddEntry(spec, v1::MOUNT_KIND_SYMLINK, "/lib", "usr/lib");
  AddEntry(spec, v1::MOUNT_KIND_SYMLINK, "/lib64", "usr/lib64");
  AddEntry(spec, v1::MOUNT_KIND_SYMLINK, "/sbin", "usr/sbin");
  AddEntry(spec, v1::MOUNT_KIND_PROC, "/proc");
  AddEntry(spec, v1::MOUNT_KIND_DEV, "/dev");
  return request;
}

// What /bin/true and the dynamic loader call (strace -f), plus what bwrap's pid 1 calls
// once it holds the filter too (wait4, write to its event fd).
constexpr const char* kBwrapAllowed[] = {
    "execve", "brk", "mmap", "mprotect", "munmap", "access", "openat", "newfstatat", "fstat",
    "read", "pread64", "close", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
    "prlimit64", "getrandom", "wait4", "write", "rt_sigreturn", "exit", "exit_group"};

struct SeccompReleaser {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

// A filter like ours in kind: unlisted syscalls fail with EPERM, another architecture kills.
// Exported as the raw sock_filter array bwrap reads, into a memfd numbered above
// kBwrapSeccompFd; the caller rewinds it before each run (bwrap shares its offset).
absl::StatusOr<UniqueFd> BwrapSeccompProgram() {
  std::unique_ptr<void, SeccompReleaser> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  int err = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  for (const char* name : kBwrapAllowed) {
    if (err != 0) break;
    const int nr = seccomp_syscall_resolve_name(name);
    err = nr == __NR_SCMP_ERROR ? -ENOENT : seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
  }
  if (err != 0) return ErrnoToStatus(-err, "libseccomp: building the bwrap filter");
  UniqueFd memfd(::memfd_create("bwrap-seccomp", MFD_CLOEXEC));
  if (!memfd.valid()) return ErrnoToStatus(errno, "memfd_create");
  UniqueFd high(::fcntl(memfd.get(), F_DUPFD_CLOEXEC, kBwrapSeccompFd + 1));
  if (!high.valid()) return ErrnoToStatus(errno, "fcntl F_DUPFD_CLOEXEC");
  err = seccomp_export_bpf(ctx.get(), high.get());
  if (err != 0) return ErrnoToStatus(-err, "seccomp_export_bpf");
  return high;
}

struct Case {
  std::string label;  // For ratios.
  std::string name;
  bench::Role role = bench::Role::kOurs;
  std::function<absl::StatusOr<double>()> once;  // Empty: not run; `missing` says why.
  std::string missing;
  std::vector<double> ms;
};

Case MakeCase(std::string label, std::string name, bench::Role role,
              std::function<absl::StatusOr<double>()> once = nullptr) {
  return Case{std::move(label), std::move(name), role, std::move(once), "", {}};
}

Case BwrapCase(int seccomp_fd) {
  Case c = MakeCase("bwrap", "bwrap --unshare-all, tmpfs root, --seccomp allowlist", bench::Role::kPeer);
  if (::access(kBwrap, X_OK) != 0) {
    c.missing = "not installed (apt-get install bubblewrap, or tools/deps)";
    return c;
  }
  Command cmd{{kBwrap, "--unshare-all", "--die-with-parent", "--tmpfs", "/", "--ro-bind",
               "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
               "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin", "--proc",
               "/proc", "--dev", "/dev", "--seccomp", absl::StrCat(kBwrapSeccompFd), kTrue},
              seccomp_fd};
  c.once = [cmd]() -> absl::StatusOr<double> {
    if (::lseek(cmd.pass_fd, 0, SEEK_SET) != 0) {
      return ErrnoToStatus(errno, "rewind the bwrap filter");
    }
    return TimeCommandMs(cmd);
  };
  return c;
}

Case FirejailCase() {
  Case c = MakeCase("firejail",
                    "firejail --noprofile, private /tmp /dev home, no network, IPC ns, seccomp, caps dropped",
                    bench::Role::kPeer);
  if (::access(kFirejail, X_OK) != 0) {
    c.missing = "not installed (apt-get install firejail, or tools/bench)";
    return c;
  }
  const Command cmd{{kFirejail, "--quiet", "--noprofile", "--net=none", "--ipc-namespace", "--private",
                     "--private-dev", "--private-tmp", "--seccomp", "--caps.drop=all", "--nonewprivs", kTrue}};
  c.once = [cmd] { return TimeCommandMs(cmd); };
  return c;
}

std::vector<Case> Cases(const SandboxdUnderTest& sandboxd, int bwrap_seccomp_fd) {
  v1::Sandboxd::Stub* stub = sandboxd.stub();
  const Command secctl{
      {bench::Runfile("cli/secctl"), "--root", sandboxd.root(), "sandbox", "run", "--", kTrue}};
  const Command unshare{{kUnshare, "--user", "--map-root-user", "--mount", "--pid", "--fork",
                         "--net", "--uts", "--ipc", kTrue}};
  const Command floor{{kTrue}};
  using bench::Role;
  std::vector<Case> cases;
  cases.push_back(MakeCase("sandboxd Run",
                           "sandboxd Run, default preset (host / ro, private /tmp, all namespaces, seccomp default)",
                           Role::kOurs, [stub, r = DefaultRun()] { return TimeRunMs(stub, r); }));
  cases.push_back(MakeCase("sandboxd Run, warm",
                           "sandboxd Run, default preset, right after another Run (no RCU grace period)", Role::kOurs,
                           [stub, r = DefaultRun()]() -> absl::StatusOr<double> {
                             SECUREOS_RETURN_IF_ERROR(TimeRunMs(stub, r).status());
                             return TimeRunMs(stub, r);
                           }));
  cases.push_back(MakeCase("sandboxd Run, tmpfs root", "sandboxd Run, ROOT_TMPFS view as bwrap's (default preset otherwise)",
                           Role::kOurs, [stub, r = TmpfsRootRun()] { return TimeRunMs(stub, r); }));
  cases.push_back(MakeCase("secctl", "secctl sandbox run -- /bin/true (static, own connection, default preset)",
                           Role::kOurs, [secctl] { return TimeCommandMs(secctl); }));
  cases.push_back(BwrapCase(bwrap_seccomp_fd));
  cases.push_back(FirejailCase());
  cases.push_back(MakeCase("unshare", "unshare --user --map-root-user --mount --pid --fork --net --uts --ipc",
                           Role::kPeer, [unshare] { return TimeCommandMs(unshare); }));
  cases.push_back(MakeCase("fork+exec", "fork+exec+wait /bin/true (floor)", Role::kFloor,
                           [floor] { return TimeCommandMs(floor); }));
  return cases;
}

// Interleaved rounds: every case once per round after kSettle, warm-up rounds not kept.
absl::Status Measure(std::vector<Case>& cases, int rounds) {
  for (int i = 0; i < kWarmUp + rounds; ++i) {
    for (Case& c : cases) {
      if (g_interrupted) return absl::CancelledError("interrupted");
      if (!c.once) continue;
      absl::SleepFor(kSettle);
      absl::StatusOr<double> ms = c.once();
      if (!ms.ok()) return Annotate(ms.status(), c.name);
      if (i >= kWarmUp) c.ms.push_back(*ms);
    }
  }
  return absl::OkStatus();
}

void PrintTable(const std::vector<Case>& cases) {
  double base = 0;
  for (const Case& c : cases) {
    if (c.label == "bwrap" && !c.ms.empty()) base = bench::Pct(c.ms, 0.5);
  }
  std::printf("| case | median ms | p10 ms | p90 ms | median / bwrap |\n|---|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    if (c.ms.empty()) {
      std::printf("| %s | - | - | - | %s |\n", c.name.c_str(), c.missing.c_str());
      continue;
    }
    const double median = bench::Pct(c.ms, 0.5);
    std::printf("| %s | %.2f | %.2f | %.2f | %s |\n", c.name.c_str(), median, bench::Pct(c.ms, 0.1),
                bench::Pct(c.ms, 0.9), base > 0 ? absl::StrFormat("%.2fx", median / base).c_str() : "n/a");
  }
}

absl::Status RecordAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    if (c.ms.empty()) continue;
    SECUREOS_RETURN_IF_ERROR(bench::Record({"sandbox start-to-exit of /bin/true", c.label, c.name, "ms", c.role, c.ms}));
  }
  return absl::OkStatus();
}

void PrintFooter(int rounds, off_t bwrap_program_bytes) {
  utsname u{};
  ::uname(&u);
  std::printf(
      "\n%d rounds, interleaved, after %d warm-up rounds, each run after a %.0f ms pause; "
      "%ld CPUs online, kernel %s.\n"
      "sandboxd rows: one gRPC channel, request to the exited record, stdout/stderr to "
      "/dev/null. Each workload's cgroups are v1 here: the first attach after a quiet spell "
      "waits for an RCU grace period; the \"right after another Run\" row times a second Run "
      "at once, which does not. bwrap and unshare make no cgroup. bwrap's "
      "filter: libseccomp, default EPERM, %zu syscalls allowed, %lld BPF instructions.\n"
      "Reference, from the issue (measured from their sources on this class of machine; not "
      "run here): bwrap ~7 ms, minijail0 ~5 ms, nsjail ~9 ms.\n",
      rounds, kWarmUp, absl::ToDoubleMilliseconds(kSettle), ::sysconf(_SC_NPROCESSORS_ONLN),
      u.release, std::size(kBwrapAllowed),
      static_cast<long long>(bwrap_program_bytes / sizeof(sock_filter)));
}

int Main(int rounds) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "sandboxd_bench needs root (sandboxd, cgroups, mounts)\n");
    return 1;
  }
  absl::StatusOr<UniqueFd> program = BwrapSeccompProgram();
  if (!program.ok()) {
    std::fprintf(stderr, "%s\n", std::string(program.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<SandboxdUnderTest>> sandboxd =
      SandboxdUnderTest::Start(bench::Runfile("sandboxd/sandboxd"));
  if (!sandboxd.ok()) {
    std::fprintf(stderr, "%s\n", std::string(sandboxd.status().message()).c_str());
    return 1;  // The destructor already cleaned up what Start made.
  }
  std::vector<Case> cases = Cases(**sandboxd, program->get());
  const absl::Status measured = Measure(cases, rounds);
  if (!measured.ok()) {
    std::fprintf(stderr, "%s\n", std::string(measured.message()).c_str());
    if (!absl::IsCancelled(measured)) {
      std::fprintf(stderr, "sandboxd log:\n%s\n", (*sandboxd)->Log().c_str());
    }
  }
  sandboxd->reset();
  if (!measured.ok()) return 1;
  PrintTable(cases);
  PrintFooter(rounds, ::lseek(program->get(), 0, SEEK_END));
  if (absl::Status recorded = RecordAll(cases); !recorded.ok()) {
    std::fprintf(stderr, "%s\n", std::string(recorded.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace secureos::sandboxd

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (rounds < 1) {
    std::fprintf(stderr, "--rounds: at least 1, got %d\n", rounds);
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = secureos::sandboxd::OnInterrupt;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  return secureos::sandboxd::Main(rounds);
}
