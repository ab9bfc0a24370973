// sandboxd for real: a daemon on a temporary root, workloads that try what an attacker
// would, and the limits, violations and learning the issue asks for. Needs root, cgroups
// and namespaces (tagged local).
#include <dirent.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/sandboxd.grpc.pb.h"
#include "sandboxd/level_presets.h"
#include "tests/process.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::Child;
using test::RemoveCgroupEverywhere;
using test::SpawnOptions;
using test::TempRoot;

std::chrono::system_clock::time_point Deadline(int seconds = 30) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

struct Outcome {
  grpc::Status status;
  std::string out, err;
  std::vector<v1::Violation> violations;
  std::optional<v1::Exited> exited;
  std::string id;
  int code() const {
    if (!exited) return -1;
    return exited->has_code() ? exited->code() : 128 + exited->signal();
  }
};

class SandboxdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cgroup_parent_ = absl::StrCat("secureos-test/sbx-", ::getpid());
    test::InstallSecctl(root_);
    test::WriteFileOrDie(probe(), test::ReadFileOrEmpty(test::Runfile("sandboxd/testing/escape_probe_bin")), 0755);
    test::WriteFileOrDie(root_ / "etc/secureos/sandboxd.conf",
                         absl::StrCat("server { socket_mode: \"0666\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\n"
                                      "workload_uid: 65534\nid_map_count: 1\n"
                                      "cgroup_parent: \"", cgroup_parent_, "\"\n"));
    ASSERT_TRUE(StartSandboxd());
  }

  bool StartSandboxd() {
    SpawnOptions o;
    o.stderr_path = root_ / "sandboxd.log";
    auto child = Child::Start({test::Runfile("sandboxd/sandboxd"), "--root", root_.path()}, o);
    if (!child.ok()) return false;
    sandboxd_.emplace(std::move(*child));
    if (WaitReady()) return true;
    ADD_FAILURE() << test::ReadFileOrEmpty(root_ / "sandboxd.log");
    return false;
  }

  v1::WorkloadInfo StatusOf(const std::string& id) {
    v1::WorkloadRef ref;
    ref.set_id(id);
    v1::WorkloadInfo info;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    EXPECT_TRUE(stub_->Status(&ctx, ref, &info).ok());
    return info;
  }

  void TearDown() override {
    if (sandboxd_) {
      sandboxd_->Signal(SIGTERM);
      sandboxd_->Wait(absl::Seconds(10));
    }
    RemoveCgroupEverywhere(cgroup_parent_);
    if (HasFailure()) std::cerr << "sandboxd log:\n" << test::ReadFileOrEmpty(root_ / "sandboxd.log");
  }

  bool WaitReady() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      stub_ = v1::Sandboxd::NewStub(grpc::CreateChannel(
          "unix:" + (root_ / "run/secureos/sandboxd.sock"), grpc::InsecureChannelCredentials()));
      common::v1::HealthResponse health;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      if (stub_->Health(&ctx, common::v1::HealthRequest(), &health).ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string probe() const { return root_ / "bin/escape_probe"; }

  // A profile file for secctl: the default profile, mkdir refused with EROFS.
  std::string WriteProfile() {
    const std::string path = root_ / "mkdir-erofs.textproto";
    test::WriteFileOrDie(path, absl::StrCat("base: \"default\"\nrules { syscalls: \"mkdir\" "
                                            "action: SECCOMP_ACTION_ERRNO errno_value: ", EROFS, " }\n"));
    return path;
  }

  v1::SandboxSpec Spec(std::vector<std::string> argv) {
    v1::SandboxSpec spec;
    ApplyDefaultPreset(&spec);
    for (auto& a : argv) spec.add_argv(a);
    return spec;
  }

  // The probe lives under /tmp, which the default view replaces with a private tmpfs:
  // it is bound in read-only, as a user would bind a tool.
  v1::SandboxSpec Probe(std::vector<std::string> args) {
    args.insert(args.begin(), probe());
    v1::SandboxSpec spec = Spec(args);
    BindProbe(&spec);
    return spec;
  }

  void BindProbe(v1::SandboxSpec* spec) {
    v1::MountEntry* e = spec->mutable_filesystem()->add_entries();
    e->set_kind(v1::MOUNT_KIND_RO_BIND);
    e->set_source(probe());
    e->set_target(probe());
  }

  Outcome Run(const v1::SandboxSpec& spec) {
    v1::RunRequest req;
    *req.mutable_spec() = spec;
    req.set_output(v1::OUTPUT_MODE_STREAM);
    return Run(req);
  }

  Outcome Run(const v1::RunRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Run(&ctx, req);
    Outcome o;
    v1::RunEvent ev;
    while (reader->Read(&ev)) {
      if (ev.has_started()) o.id = ev.started().id();
      if (ev.has_output()) (ev.output().fd() == 1 ? o.out : o.err) += ev.output().data();
      if (ev.has_violation()) o.violations.push_back(ev.violation());
      if (ev.has_exited()) o.exited = ev.exited();
    }
    o.status = reader->Finish();
    return o;
  }

  grpc::Status Create(const v1::CreateRequest& req, v1::WorkloadInfo* info) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return stub_->Create(&ctx, req, info);
  }

  grpc::Status Start(const std::string& id, v1::WorkloadInfo* info) {
    v1::WorkloadRef ref;
    ref.set_id(id);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return stub_->Start(&ctx, ref, info);
  }

  grpc::Status Kill(const std::string& id) {
    v1::KillRequest req;
    req.set_id(id);
    v1::KillResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return stub_->Kill(&ctx, req, &resp);
  }

  // Follows a started workload to its exit.
  Outcome WaitFor(const std::string& id) {
    v1::WorkloadRef ref;
    ref.set_id(id);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Wait(&ctx, ref);
    Outcome o;
    o.id = id;
    v1::RunEvent ev;
    while (reader->Read(&ev)) {
      if (ev.has_output()) (ev.output().fd() == 1 ? o.out : o.err) += ev.output().data();
      if (ev.has_violation()) o.violations.push_back(ev.violation());
      if (ev.has_exited()) o.exited = ev.exited();
    }
    o.status = reader->Finish();
    return o;
  }

  std::optional<Child> sandboxd_;
  TempRoot root_;
  std::string cgroup_parent_;
  std::unique_ptr<v1::Sandboxd::Stub> stub_;
};

TEST_F(SandboxdTest, TheDefaultWorkloadRunsAsNobodyInItsOwnPidNamespace) {
  Outcome id = Run(Probe({"id"}));
  ASSERT_TRUE(id.status.ok()) << id.status.error_message();
  EXPECT_EQ(id.out, "id: 65534 65534\n");
  EXPECT_EQ(id.code(), 0);
  EXPECT_EQ(id.exited->reason(), v1::EXIT_REASON_EXITED);

  Outcome pids = Run(Probe({"pids"}));
  EXPECT_EQ(pids.out, "pids: 1\n");  // Only itself.
  Outcome kill = Run(Probe({"kill", absl::StrCat(sandboxd_->pid())}));
  EXPECT_EQ(kill.out, "kill: No such process\n");
}

TEST_F(SandboxdTest, PtraceMountUnshareAndSetnsAreRefusedAndExplained) {
  for (const char* what : {"ptrace", "mount", "unshare", "setns"}) {
    Outcome o = Run(Probe({what, "1"}));
    ASSERT_TRUE(o.status.ok()) << o.status.error_message();
    EXPECT_THAT(o.out, Not(HasSubstr(": ok"))) << what;
    bool named = false;
    for (const auto& v : o.violations) named = named || absl::StrContains(v.syscall(), what);
    if (std::string(what) != "setns") {  // setns may already fail at open() of /proc/1/ns.
      EXPECT_TRUE(named) << what << " produced no violation naming it; out: " << o.out;
    }
  }
}

TEST_F(SandboxdTest, NoNetworkInNoneAndOnlyLoopbackInLoopback) {
  Outcome none = Run(Probe({"connect", "1.1.1.1", "80"}));
  EXPECT_THAT(none.out, HasSubstr("Network is unreachable"));
  Outcome no_lo = Run(Probe({"listen_loopback"}));
  EXPECT_THAT(no_lo.out, Not(HasSubstr(": ok")));

  v1::SandboxSpec lo = Probe({"listen_loopback"});
  lo.set_network(v1::NETWORK_MODE_LOOPBACK);
  Outcome loopback = Run(lo);
  EXPECT_EQ(loopback.out, "listen_loopback: ok\n") << loopback.status.error_message();
}

TEST_F(SandboxdTest, WritesLandOnlyInDeclaredPaths) {
  EXPECT_EQ(Run(Probe({"write", "/etc/escaped"})).out, "write: Read-only file system\n");
  EXPECT_EQ(Run(Probe({"write", "/tmp/fine"})).out, "write: ok\n");
  const std::string shared = root_ / "shared";
  ASSERT_EQ(::mkdir(shared.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  v1::SandboxSpec rw = Probe({"write", shared + "/out"});
  v1::MountEntry* e = rw.mutable_filesystem()->add_entries();
  e->set_kind(v1::MOUNT_KIND_RW_BIND);
  e->set_source(shared);
  e->set_target(shared);
  EXPECT_EQ(Run(rw).out, "write: ok\n");
  EXPECT_EQ(test::ReadFileOrEmpty(shared + "/out"), "escaped\n");
  // The test root is under /tmp: inside, that is the private tmpfs, never the host's.
  EXPECT_EQ(Run(Probe({"write", root_ / "outside"})).out, "write: ok\n");
  EXPECT_EQ(::access((root_ / "outside").c_str(), F_OK), -1);
}

TEST_F(SandboxdTest, OnlyStdioIsOpenAndNoFdLeadsOut) {
  EXPECT_EQ(Run(Probe({"fds"})).out, "fds: 0 1 2\n");
  EXPECT_EQ(Run(Probe({"chdir_fds"})).out, "chdir_fds: none\n");
  Outcome tty = Run(Probe({"tiocsti"}));
  EXPECT_EQ(tty.out, "tiocsti: 0 worked (pty tried)\n");
  int refused = 0;
  for (const auto& v : tty.violations) refused += v.syscall() == "ioctl";
  // TIOCSTI and TIOCLINUX on each of stdio (6), then TIOCSTI, TIOCSTI with junk in the
  // upper bits and TIOCLINUX on its own pty (3); the pty's set-up ioctls are not reported.
  EXPECT_EQ(refused, 9);
}

TEST_F(SandboxdTest, ProcOfPidOneShowsTheSandboxNotTheHost) {
  test::WriteFileOrDie(root_ / "host-only-marker", "x");
  v1::SandboxSpec spec = Probe({"ls", "/proc/1/root" + root_.path()});
  ASSERT_TRUE(ApplyLevelPreset(5, &spec).ok());
  v1::MountEntry* tmp = spec.mutable_filesystem()->add_entries();
  tmp->set_kind(v1::MOUNT_KIND_TMPFS);
  tmp->set_target("/tmp");
  BindProbe(&spec);
  Outcome o = Run(spec);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_THAT(o.out, Not(HasSubstr("host-only-marker")));
  EXPECT_THAT(o.out, HasSubstr("bin"));  // Only what was bound in.
  v1::SandboxSpec cwd = spec;
  cwd.set_argv(1, "readlink");
  cwd.set_argv(2, "/proc/1/cwd");
  EXPECT_EQ(Run(cwd).out, "readlink: /\n");
}

TEST_F(SandboxdTest, A32BitSyscallIsKilled) {
  Outcome o = Run(Probe({"int80"}));
  ASSERT_TRUE(o.exited.has_value()) << o.status.error_message();
  EXPECT_EQ(o.exited->signal(), SIGSYS);
  EXPECT_EQ(o.exited->reason(), v1::EXIT_REASON_SECCOMP);
  EXPECT_THAT(o.out, Not(HasSubstr("returned")));
}

TEST_F(SandboxdTest, AForkBombIsHeldByThePidsLimit) {
  v1::SandboxSpec spec = Probe({"forkbomb"});
  spec.mutable_limits()->set_pids(16);
  Outcome o = Run(spec);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_THAT(o.out, HasSubstr("then Resource temporarily unavailable"));
  int made = -1;
  ASSERT_EQ(std::sscanf(o.out.c_str(), "forkbomb: made %d", &made), 1) << o.out;
  EXPECT_LT(made, 16);
}

TEST_F(SandboxdTest, AMemoryHogIsReportedAsOom) {
  v1::SandboxSpec spec = Probe({"memhog", "256"});
  spec.mutable_limits()->set_memory_bytes(32 << 20);
  Outcome o = Run(spec);
  ASSERT_TRUE(o.exited.has_value()) << o.status.error_message();
  EXPECT_EQ(o.exited->reason(), v1::EXIT_REASON_OOM) << o.exited->DebugString();
  EXPECT_THAT(o.exited->detail(), HasSubstr("OOM killer at its 32 MiB"));
}

TEST_F(SandboxdTest, AnEndlessLoopHitsTheCpuAndTheWallClockLimits) {
  v1::SandboxSpec cpu = Probe({"spin"});
  auto* r = cpu.mutable_limits()->add_rlimits();
  r->set_resource(common::v1::RLIMIT_RESOURCE_CPU);
  r->set_soft(1);
  r->set_hard(2);
  Outcome c = Run(cpu);
  ASSERT_TRUE(c.exited.has_value()) << c.status.error_message();
  EXPECT_EQ(c.exited->reason(), v1::EXIT_REASON_CPU_LIMIT) << c.exited->DebugString();

  // At the hard limit the kernel's SIGKILL: still the CPU limit.
  r->set_soft(1);
  r->set_hard(1);
  Outcome hard = Run(cpu);
  ASSERT_TRUE(hard.exited.has_value()) << hard.status.error_message();
  EXPECT_EQ(hard.exited->reason(), v1::EXIT_REASON_CPU_LIMIT) << hard.exited->DebugString();

  // A SIGKILL from elsewhere, long before the limit, is not the CPU limit.
  r->set_soft(100);
  r->set_hard(100);
  v1::RunRequest req;
  *req.mutable_spec() = cpu;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Run(&ctx, req);
  v1::RunEvent ev;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_started());
  ASSERT_EQ(::kill(ev.started().pid(), SIGKILL), 0);
  std::optional<v1::Exited> killed;
  while (reader->Read(&ev)) {
    if (ev.has_exited()) killed = ev.exited();
  }
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->reason(), v1::EXIT_REASON_EXITED) << killed->DebugString();
  EXPECT_EQ(killed->signal(), SIGKILL);
  EXPECT_THAT(killed->detail(), HasSubstr("was killed by SIGKILL"));

  v1::SandboxSpec wall = Probe({"spin"});
  wall.set_timeout_ms(500);
  const absl::Time start = absl::Now();
  Outcome w = Run(wall);
  ASSERT_TRUE(w.exited.has_value()) << w.status.error_message();
  EXPECT_EQ(w.exited->reason(), v1::EXIT_REASON_TIMEOUT);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(SandboxdTest, ABlockedSyscallGetsTheConfiguredErrnoAndAnEventWithItsName) {
  v1::SandboxSpec spec = Probe({"mkdir", "/tmp/d"});
  v1::SeccompRule* rule = spec.mutable_seccomp()->add_rules();
  rule->add_syscalls("mkdir");
  rule->set_action(v1::SECCOMP_ACTION_ERRNO);
  rule->set_errno_value(EROFS);
  Outcome o = Run(spec);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.out, "mkdir: Read-only file system\n");
  ASSERT_FALSE(o.violations.empty());
  EXPECT_EQ(o.violations[0].syscall(), "mkdir");
  EXPECT_EQ(o.violations[0].workload_id(), o.id);
  EXPECT_THAT(o.violations[0].action(), HasSubstr("EROFS"));

  // And the same through secctl, which prints it.
  test::RunResult cli = test::RunSecctl(root_, {"sandbox", "run", "--ro", probe(), "--profile", WriteProfile(), "--",
                                                probe(), "mkdir", "/tmp/d"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.err, HasSubstr("mkdir("));
  EXPECT_EQ(cli.out, "mkdir: Read-only file system\n");
}

TEST_F(SandboxdTest, LearningWritesAProfileTheWorkloadRunsUnderAndOthersDoNot) {
  const std::string learned = root_ / "learned.textproto";
  test::RunResult learn = test::RunSecctl(root_, {"sandbox", "run", "--ro", probe(), "--learn", learned, "--", probe(), "id"});
  ASSERT_EQ(learn.exit_code, 0) << learn.err;
  ASSERT_THAT(test::ReadFileOrEmpty(learned), HasSubstr("ALLOW"));
  test::RunResult again = test::RunSecctl(root_, {"sandbox", "run", "--ro", probe(), "--profile", learned, "--", probe(), "id"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "id: 65534 65534\n");
  EXPECT_THAT(again.err, Not(HasSubstr("secctl: sandbox:")));
  test::RunResult other = test::RunSecctl(root_, {"sandbox", "run", "--ro", probe(), "--profile", learned, "--", probe(), "listen_loopback"});
  EXPECT_THAT(other.err, HasSubstr("socket("));
}

TEST_F(SandboxdTest, BadSpecsAreRefusedNamingTheField) {
  v1::SandboxSpec spec = Probe({"id"});
  v1::MountEntry* e = spec.mutable_filesystem()->add_entries();
  e->set_kind(v1::MOUNT_KIND_TMPFS);
  e->set_target("/scratch");
  e->set_size("1m,exec");
  spec.set_hostname("bad host");
  spec.add_uid_map()->set_outside(0);
  Outcome o = Run(spec);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(o.status.error_message(), HasSubstr("filesystem.entries[4].size"));
  EXPECT_THAT(o.status.error_message(), HasSubstr("hostname"));
  EXPECT_THAT(o.status.error_message(), HasSubstr("uid_map[0].outside"));
  EXPECT_FALSE(o.exited.has_value());  // Nothing ran.
}

TEST_F(SandboxdTest, ALongLivedWorkloadIsCreatedStartedListedKilledAndWaitedFor) {
  v1::CreateRequest create;
  *create.mutable_spec() = Probe({"spin"});
  create.mutable_spec()->set_name("spinner");
  v1::WorkloadInfo created;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->Create(&ctx, create, &created).ok());
  }
  EXPECT_EQ(created.state(), v1::WORKLOAD_STATE_CREATED);
  EXPECT_EQ(created.spec().network(), v1::NETWORK_MODE_NONE);  // Defaults filled in.
  v1::WorkloadRef ref;
  ref.set_id(created.id());
  v1::WorkloadInfo started;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->Start(&ctx, ref, &started).ok());
  }
  EXPECT_EQ(started.state(), v1::WORKLOAD_STATE_RUNNING);
  EXPECT_GT(started.pid(), 0);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::WorkloadInfo again;
    EXPECT_EQ(stub_->Start(&ctx, ref, &again).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  test::RunResult list = test::RunSecctl(root_, {"sandbox", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(created.id()));
  EXPECT_THAT(list.out, HasSubstr("spinner"));
  EXPECT_THAT(list.out, HasSubstr("running"));
  test::RunResult inspect = test::RunSecctl(root_, {"sandbox", "inspect", created.id()});
  EXPECT_THAT(inspect.out, HasSubstr("\"state\":\"WORKLOAD_STATE_RUNNING\""));

  test::RunResult kill = test::RunSecctl(root_, {"sandbox", "kill", created.id()});
  EXPECT_EQ(kill.exit_code, 0) << kill.err;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Wait(&ctx, ref);
  v1::RunEvent ev;
  std::optional<v1::Exited> exited;
  bool saw_started = false;
  while (reader->Read(&ev)) {
    saw_started = saw_started || ev.has_started();
    if (ev.has_exited()) exited = ev.exited();
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(saw_started);
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->reason(), v1::EXIT_REASON_KILLED);
  EXPECT_EQ(exited->signal(), SIGKILL);
  EXPECT_EQ(::kill(started.pid(), 0), -1);  // Gone (and reaped).
}

// The status lines that say what a process holds.
std::map<std::string, std::string> Holdings(const std::string& status) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    for (const char* key : {"Uid:", "Gid:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
                            "NoNewPrivs:", "Seccomp:", "Seccomp_filters:"}) {
      if (absl::StartsWith(line, key)) out[key] = std::string(line);
    }
  }
  return out;
}

TEST_F(SandboxdTest, AnExecJoinsTheWorkloadAndHoldsWhatItHolds) {
  v1::CreateRequest create;
  *create.mutable_spec() = Spec({"/bin/sleep", "1000"});
  ASSERT_TRUE(ApplyLevelPreset(4, create.mutable_spec()).ok());
  v1::WorkloadInfo info;
  ASSERT_TRUE(Create(create, &info).ok());
  ASSERT_TRUE(Start(info.id(), &info).ok());
  const std::string first = absl::StrCat("/proc/", info.pid());
  v1::ExecRequest exec;
  exec.set_id(info.id());
  for (const char* a : {"/bin/sh", "-c",
                        "cat /proc/self/status; for n in mnt pid net uts ipc user cgroup; do "
                        "readlink /proc/self/ns/$n; done; cat /proc/1/cmdline | tr '\\0' ' '"}) {
    exec.add_argv(a);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Exec(&ctx, exec);
  Outcome o;
  v1::RunEvent ev;
  while (reader->Read(&ev)) {
    if (ev.has_started()) o.id = ev.started().id();
    if (ev.has_output()) (ev.output().fd() == 1 ? o.out : o.err) += ev.output().data();
    if (ev.has_exited()) o.exited = ev.exited();
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(o.exited.has_value());
  ASSERT_EQ(o.exited->code(), 0) << o.err;
  EXPECT_NE(o.id, info.id());  // An exec is a workload of its own.
  EXPECT_EQ(Holdings(o.out), Holdings(test::ReadFileOrEmpty(first + "/status")));
  for (const char* ns : {"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"}) {
    char link[64] = {};
    ASSERT_GT(::readlink(absl::StrCat(first, "/ns/", ns).c_str(), link, sizeof(link) - 1), 0);
    EXPECT_THAT(o.out, HasSubstr(std::string(link) + "\n")) << ns;
  }
  EXPECT_THAT(o.out, HasSubstr("/bin/sleep 1000"));  // pid 1 of the namespace it is in.
  // Not into a workload that does not run.
  ASSERT_TRUE(Kill(info.id()).ok());
  (void)WaitFor(info.id());
  grpc::ClientContext ctx2;
  ctx2.set_deadline(Deadline());
  auto again = stub_->Exec(&ctx2, exec);
  while (again->Read(&ev)) {
  }
  grpc::Status refused = again->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("is not running"));
}

TEST_F(SandboxdTest, AOneShotWorkloadDiesWithSandboxd) {
  v1::RunRequest req;
  *req.mutable_spec() = Probe({"spin"});
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Run(&ctx, req);
  v1::RunEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  ASSERT_TRUE(ev.has_started());
  const pid_t pid = ev.started().pid();
  ASSERT_EQ(::kill(pid, 0), 0);
  sandboxd_->Signal(SIGKILL);  // No graceful shutdown: the kernel's parent-death signal.
  sandboxd_->Wait(absl::Seconds(10));
  sandboxd_.reset();
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    // A zombie re-parented to init counts as gone: it no longer runs.
    const std::string state = test::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
    gone = state.empty() || state.find(") Z") != std::string::npos;
    if (!gone) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(gone);
  ctx.TryCancel();
}

TEST_F(SandboxdTest, AWorkloadOutlivesItsCallerOnlyIfCreated) {
  // Run: the caller going away kills the workload.
  v1::RunRequest req;
  *req.mutable_spec() = Probe({"spin"});
  pid_t pid;
  {
    grpc::ClientContext ctx;
    auto reader = stub_->Run(&ctx, req);
    v1::RunEvent ev;
    ASSERT_TRUE(reader->Read(&ev));
    pid = ev.started().pid();
    ctx.TryCancel();
    reader->Finish();
  }
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = ::kill(pid, 0) != 0;
    if (!gone) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST_F(SandboxdTest, CapabilitiesInsideTheUserNamespaceAreCapdsToAuthorize) {
  v1::SandboxSpec spec = Probe({"bind", "80"});
  spec.set_name("web");
  spec.set_network(v1::NETWORK_MODE_LOOPBACK);
  spec.set_capabilities("cap_net_bind_service");
  // No capd: nobody can say yes, so it does not run.
  Outcome unreachable = Run(spec);
  EXPECT_EQ(unreachable.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(unreachable.status.error_message(), HasSubstr("capabilities: capd could not authorize"));

  SpawnOptions o;
  o.stderr_path = root_ / "capd.log";
  auto capd = Child::Start({test::Runfile("capd/capd"), "--root", root_.path()}, o);
  ASSERT_TRUE(capd.ok()) << capd.status();
  ASSERT_TRUE(test::WaitForPath(root_ / "run/secureos/capd.sock", absl::Seconds(20)));
  Outcome refused;
  for (int i = 0; i < 100; ++i) {  // Until capd answers (its socket may exist before it serves).
    refused = Run(spec);
    if (refused.status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("capd refused sandbox:web"));

  test::RunResult grant = test::RunSecctl(root_, {"cap", "grant", "sandbox:web", "cap_net_bind_service"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  Outcome bound = Run(spec);
  ASSERT_TRUE(bound.status.ok()) << bound.status.error_message();
  EXPECT_EQ(bound.out, "bind: ok\n");
  v1::SandboxSpec caps = spec;
  caps.set_argv(1, "caps");
  EXPECT_EQ(Run(caps).out, "caps: 0000000000000400\n");  // cap_net_bind_service only.
  v1::SandboxSpec without = spec;
  without.clear_capabilities();
  EXPECT_EQ(Run(without).out, "bind: Permission denied\n");
}

TEST_F(SandboxdTest, ALongLivedWorkloadOutlivesSandboxdAndIsReadopted) {
  v1::CreateRequest create;
  *create.mutable_spec() = Probe({"spin"});
  v1::WorkloadInfo created;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->Create(&ctx, create, &created).ok());
  }
  v1::WorkloadRef ref;
  ref.set_id(created.id());
  v1::WorkloadInfo started;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->Start(&ctx, ref, &started).ok());
  }
  const pid_t pid = started.pid();
  for (int sig : {SIGTERM, SIGKILL}) {  // A graceful stop, then a crash.
    sandboxd_->Signal(sig);
    sandboxd_->Wait(absl::Seconds(10));
    sandboxd_.reset();
    ASSERT_EQ(::kill(pid, 0), 0) << "the workload died with sandboxd (signal " << sig << ")";
    ASSERT_TRUE(StartSandboxd());
    v1::WorkloadInfo again = StatusOf(created.id());
    EXPECT_EQ(again.state(), v1::WORKLOAD_STATE_RUNNING) << sig;
    EXPECT_EQ(again.pid(), pid);
  }
  test::RunResult list = test::RunSecctl(root_, {"sandbox", "list"});
  EXPECT_THAT(list.out, HasSubstr(created.id()));

  v1::KillRequest kill;
  kill.set_id(created.id());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::KillResponse resp;
    ASSERT_TRUE(stub_->Kill(&ctx, kill, &resp).ok());
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Wait(&ctx, ref);
  v1::RunEvent ev;
  std::optional<v1::Exited> exited;
  while (reader->Read(&ev)) {
    if (ev.has_exited()) exited = ev.exited();
  }
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->reason(), v1::EXIT_REASON_KILLED);
  // No longer sandboxd's child: the status is not known, and it says so.
  EXPECT_FALSE(exited->has_code());
  // Removed right after the exit is reported.
  const std::string cgroup = absl::StrCat("/sys/fs/cgroup/pids/", cgroup_parent_, "/", created.id());
  bool removed = false;
  for (int i = 0; i < 200 && !removed; ++i) {
    removed = ::access(cgroup.c_str(), F_OK) != 0;
    if (!removed) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(removed) << cgroup;
}


// Polls `done` every 10 ms for up to `timeout`.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

off_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST_F(SandboxdTest, OutputModeFilesAppendsToHostFilesOutsideTheWorkloadsView) {
  // Level 5: the view is an empty tmpfs with the system directories; the files live in the
  // test root, which the workload cannot see: sandboxd opened them on the host.
  v1::RunRequest req;
  *req.mutable_spec() = Spec({"/bin/sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(ApplyLevelPreset(5, req.mutable_spec()).ok());
  req.set_output(v1::OUTPUT_MODE_FILES);
  const std::string out = root_ / "out.log", err = root_ / "err.log";
  test::WriteFileOrDie(out, "before\n");
  req.set_stdout_path(out);
  req.set_stderr_path(err);
  Outcome o = Run(req);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.code(), 0) << (o.exited ? o.exited->DebugString() : "");
  EXPECT_EQ(o.out + o.err, "");  // Nothing streamed.
  EXPECT_EQ(test::ReadFileOrEmpty(out), "before\nout\n");  // Appended.
  EXPECT_EQ(test::ReadFileOrEmpty(err), "err\n");
  struct stat st;
  ASSERT_EQ(::stat(err.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // One file for both, in the order written.
  const std::string both = root_ / "both.log";
  req.set_stdout_path(both);
  req.set_stderr_path(both);
  Outcome same = Run(req);
  ASSERT_TRUE(same.status.ok()) << same.status.error_message();
  EXPECT_EQ(test::ReadFileOrEmpty(both), "out\nerr\n");
}

TEST_F(SandboxdTest, OutputModeFilesWritesIntoAFifoWithAReaderAndRefusesOneWithout) {
  const std::string fifo = root_ / "collector.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  v1::RunRequest req;
  *req.mutable_spec() = Spec({"/bin/sh", "-c", "echo out; echo err >&2"});
  req.mutable_spec()->set_name("fifo-writer");
  req.set_output(v1::OUTPUT_MODE_FILES);
  req.set_stdout_path(fifo);
  req.set_stderr_path(fifo);

  // Nobody reads: refused at once, naming the field and the path, and nothing runs.
  const absl::Time start = absl::Now();
  Outcome refused = Run(req);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("stdout_path: open " + fifo));
  EXPECT_TRUE(refused.id.empty());
  EXPECT_FALSE(refused.exited.has_value());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::ListResponse list;
    ASSERT_TRUE(stub_->List(&ctx, v1::ListRequest(), &list).ok());
    for (const auto& w : list.workloads()) EXPECT_NE(w.name(), "fifo-writer");
  }

  // A reader (svcd's log collector): the output arrives.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  auto close_reader = absl::MakeCleanup([reader] { ::close(reader); });
  Outcome o = Run(req);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.code(), 0);
  char buf[64] = {};
  EXPECT_EQ(::read(reader, buf, sizeof(buf) - 1), 8);
  EXPECT_STREQ(buf, "out\nerr\n");
}

TEST_F(SandboxdTest, OutputPathsAndModeMustAgreeAndEachBadFieldIsNamed) {
  v1::CreateRequest files;
  *files.mutable_spec() = Probe({"id"});
  files.set_output(v1::OUTPUT_MODE_FILES);
  v1::WorkloadInfo info;
  grpc::Status missing = Create(files, &info);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.error_message(), HasSubstr("stdout_path: required with output: OUTPUT_MODE_FILES"));
  EXPECT_THAT(missing.error_message(), HasSubstr("stderr_path: required with output: OUTPUT_MODE_FILES"));

  files.set_stdout_path("relative.log");
  files.set_stderr_path(root_ / "err.log");
  grpc::Status relative = Create(files, &info);
  EXPECT_EQ(relative.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(relative.error_message(), HasSubstr("stdout_path: must be an absolute host path"));
  EXPECT_THAT(relative.error_message(), Not(HasSubstr("stderr_path")));
  EXPECT_EQ(::access((root_ / "err.log").c_str(), F_OK), -1);  // Nothing opened.

  for (v1::OutputMode mode : {v1::OUTPUT_MODE_UNSPECIFIED, v1::OUTPUT_MODE_NULL, v1::OUTPUT_MODE_STREAM}) {
    v1::RunRequest run;
    *run.mutable_spec() = Probe({"id"});
    run.set_output(mode);
    run.set_stdout_path(root_ / "out.log");
    run.set_stderr_path(root_ / "err.log");
    Outcome o = Run(run);
    EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << mode;
    EXPECT_THAT(o.status.error_message(), HasSubstr("stdout_path: only with output: OUTPUT_MODE_FILES"));
    EXPECT_THAT(o.status.error_message(), HasSubstr("stderr_path: only with output: OUTPUT_MODE_FILES"));
    EXPECT_FALSE(o.exited.has_value());
  }
}

TEST_F(SandboxdTest, ALongLivedWorkloadKeepsWritingItsOutputFileAcrossASandboxdRestart) {
  v1::CreateRequest create;
  *create.mutable_spec() = Spec({"/bin/sh", "-c", "while :; do echo tick; sleep 0.02; done"});
  create.set_output(v1::OUTPUT_MODE_FILES);
  const std::string log = root_ / "ticks.log";
  create.set_stdout_path(log);
  create.set_stderr_path(log);
  v1::WorkloadInfo created, started;
  ASSERT_TRUE(Create(create, &created).ok());
  ASSERT_TRUE(Start(created.id(), &started).ok());
  ASSERT_TRUE(WaitUntil([&] { return FileSize(log) > 0; })) << "no output";
  sandboxd_->Signal(SIGTERM);
  ASSERT_TRUE(sandboxd_->Wait(absl::Seconds(10)).has_value());
  sandboxd_.reset();
  const off_t while_down = FileSize(log);
  EXPECT_TRUE(WaitUntil([&] { return FileSize(log) > while_down; })) << "stopped writing with sandboxd";
  ASSERT_TRUE(StartSandboxd());
  const off_t readopted = FileSize(log);
  EXPECT_TRUE(WaitUntil([&] { return FileSize(log) > readopted; })) << "stopped writing after the restart";
  ASSERT_TRUE(Kill(created.id()).ok());
  Outcome o = WaitFor(created.id());
  ASSERT_TRUE(o.exited.has_value()) << o.status.error_message();
  EXPECT_EQ(o.exited->reason(), v1::EXIT_REASON_KILLED);
}

TEST_F(SandboxdTest, ARunningWorkloadShowsItsUsageAndCgroupsWhichGoWhenItExits) {
  v1::CreateRequest create;
  *create.mutable_spec() = Probe({"memhold", "20"});
  create.mutable_spec()->set_name("memhold");
  create.mutable_spec()->mutable_limits()->set_memory_bytes(64 << 20);
  create.mutable_spec()->mutable_limits()->set_pids(16);
  create.set_output(v1::OUTPUT_MODE_STREAM);
  v1::WorkloadInfo created, started;
  ASSERT_TRUE(Create(create, &created).ok());
  EXPECT_EQ(created.cgroup_paths_size(), 0);  // Not before Start.
  EXPECT_FALSE(created.has_usage());
  ASSERT_TRUE(Start(created.id(), &started).ok());
  {
    // Until the workload says it touched its 20 MiB.
    v1::WorkloadRef ref;
    ref.set_id(created.id());
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Wait(&ctx, ref);
    std::string out;
    v1::RunEvent ev;
    while (!absl::StrContains(out, "\n") && reader->Read(&ev)) {
      if (ev.has_output()) out += ev.output().data();
    }
    ASSERT_EQ(out, "memhold: touched 20 MiB\n");
    ctx.TryCancel();
    reader->Finish();
  }
  v1::WorkloadInfo running = StatusOf(created.id());
  ASSERT_EQ(running.state(), v1::WORKLOAD_STATE_RUNNING);
  ASSERT_TRUE(running.has_usage()) << running.DebugString();
  const v1::Usage& u = running.usage();
  ASSERT_TRUE(u.has_memory_working_set_bytes()) << u.DebugString();
  const double ws_mib = u.memory_working_set_bytes() / double(1 << 20);
  std::cout << "memhold 20 MiB: working set " << ws_mib << " MiB, peak "
            << u.memory_peak_bytes() / double(1 << 20) << " MiB, " << u.pids_current()
            << " task(s), " << u.cpu_usage_ns() << " ns CPU\n";
  EXPECT_GE(ws_mib, 18.0);
  EXPECT_LE(ws_mib, 40.0);
  EXPECT_GE(u.memory_peak_bytes(), u.memory_working_set_bytes());
  EXPECT_GT(u.cpu_usage_ns(), 0u);
  EXPECT_EQ(u.pids_current(), 1u);
  EXPECT_EQ(u.oom_kills(), 0u);
  ASSERT_GT(running.cgroup_paths_size(), 0);
  bool memory = false;
  for (const std::string& path : running.cgroup_paths()) {
    EXPECT_EQ(::access(path.c_str(), F_OK), 0) << path;
    EXPECT_THAT(path, HasSubstr(cgroup_parent_ + "/" + created.id()));
    memory = memory || test::ReadFileOrEmpty(path + "/memory.limit_in_bytes") == "67108864\n" ||
             test::ReadFileOrEmpty(path + "/memory.max") == "67108864\n";
  }
  EXPECT_TRUE(memory) << "no cgroup path shows the 64 MiB limit";
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::ListResponse list;
    ASSERT_TRUE(stub_->List(&ctx, v1::ListRequest(), &list).ok());
    ASSERT_EQ(list.workloads_size(), 1);
    EXPECT_TRUE(list.workloads(0).usage().has_memory_working_set_bytes());
    EXPECT_EQ(list.workloads(0).cgroup_paths_size(), running.cgroup_paths_size());
  }

  ASSERT_TRUE(Kill(created.id()).ok());
  Outcome o = WaitFor(created.id());
  ASSERT_TRUE(o.exited.has_value()) << o.status.error_message();
  v1::WorkloadInfo exited = StatusOf(created.id());
  EXPECT_EQ(exited.state(), v1::WORKLOAD_STATE_EXITED);
  EXPECT_EQ(exited.cgroup_paths_size(), 0);
  EXPECT_FALSE(exited.has_usage());
  for (const std::string& path : running.cgroup_paths()) {
    EXPECT_TRUE(WaitUntil([&] { return ::access(path.c_str(), F_OK) != 0; }, absl::Seconds(2))) << path;
  }
}

// Whether `pid` is `ancestor` or one of its descendants (while both run).
bool SelfOrDescendant(pid_t pid, pid_t ancestor) {
  for (int depth = 0; pid > 1 && depth < 64; ++depth) {
    if (pid == ancestor) return true;
    const std::string stat = test::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || std::sscanf(stat.c_str() + paren + 1, " %*c %d", &pid) != 1) return false;
  }
  return pid == ancestor;
}

struct Notification {
  std::string text;
  ucred creds{};
};

// Receives one datagram with its sender's credentials (SO_PASSCRED) within `timeout`;
// passed fds (sd_notify_barrier's pipe) are closed, which is the barrier's answer.
std::optional<Notification> ReceiveNotification(int sock, absl::Duration timeout) {
  pollfd pfd{sock, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return std::nullopt;
  char data[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
  iovec iov{data, sizeof(data)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return std::nullopt;
  Notification note;
  note.text.assign(data, n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS) std::memcpy(&note.creds, CMSG_DATA(c), sizeof(ucred));
    if (c->cmsg_type == SCM_RIGHTS) {
      const size_t fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < fds; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        ::close(fd);
      }
    }
  }
  return note;
}

// What svcd does for a level 3-5 service: a host datagram socket (mode 0666; svcd checks
// the sender itself), a tmpfs on /run, the socket bound onto /run/notify.sock, and
// NOTIFY_SOCKET pointing there. The service sends READY=1 from inside its view, through
// its user and network namespaces and its seccomp profile.
TEST_F(SandboxdTest, AServiceReachesItsNotifySocketFromInsideLevelsThreeToFive) {
  std::vector<std::vector<std::string>> senders = {{probe(), "notify", "/run/notify.sock", "READY=1"}};
  if (::access("/usr/bin/systemd-notify", X_OK) == 0) {
    senders.push_back({"/usr/bin/systemd-notify", "READY=1"});
  } else {
    std::cout << "no /usr/bin/systemd-notify: only the probe sends\n";
  }
  const std::string dir = root_ / "run/secureos/svcd/notify";
  test::WriteFileOrDie(dir + "/.keep", "");
  for (int level : {3, 4, 5}) {
    for (size_t i = 0; i < senders.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("level ", level, ", ", senders[i][0]));
      const std::string path = absl::StrCat(dir, "/l", level, "-", i, ".sock");
      const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ASSERT_GE(sock, 0);
      auto close_sock = absl::MakeCleanup([sock] { ::close(sock); });
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      ASSERT_LT(path.size(), sizeof(addr.sun_path));
      std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
      ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
      const int on = 1;
      ASSERT_EQ(::setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
      ASSERT_EQ(::chmod(path.c_str(), 0666), 0);

      v1::RunRequest req;
      *req.mutable_spec() = Spec(senders[i]);
      ASSERT_TRUE(ApplyLevelPreset(level, req.mutable_spec()).ok());
      v1::SandboxSpec* spec = req.mutable_spec();
      spec->add_env("NOTIFY_SOCKET=/run/notify.sock");
      BindProbe(spec);
      v1::MountEntry* run = spec->mutable_filesystem()->add_entries();
      run->set_kind(v1::MOUNT_KIND_TMPFS);
      run->set_target("/run");
      v1::MountEntry* bind = spec->mutable_filesystem()->add_entries();
      bind->set_kind(v1::MOUNT_KIND_RW_BIND);
      bind->set_source(path);
      bind->set_target("/run/notify.sock");
      req.set_output(v1::OUTPUT_MODE_STREAM);

      grpc::ClientContext ctx;
      ctx.set_deadline(Deadline());
      auto reader = stub_->Run(&ctx, req);
      auto cancel = absl::MakeCleanup([&ctx] { ctx.TryCancel(); });
      v1::RunEvent ev;
      Outcome o;
      if (reader->Read(&ev) && ev.has_started()) o.id = ev.started().id();
      const pid_t pid = ev.has_started() ? ev.started().pid() : -1;
      std::optional<Notification> ready;
      bool from_workload = false;
      if (pid > 0) {
        for (int k = 0; k < 4 && !ready; ++k) {  // READY=1 (then BARRIER=1 from systemd-notify).
          std::optional<Notification> note = ReceiveNotification(sock, absl::Seconds(10));
          if (!note) break;
          if (note->text.find("READY=1") == std::string::npos) continue;
          ready = note;
          // Checked while the sender may still run (the probe is the workload itself).
          from_workload = SelfOrDescendant(note->creds.pid, pid);
        }
      }
      if (ready && senders[i][0] != probe()) {
        // systemd-notify then waits on its barrier (BARRIER=1 with a pipe fd): answered by
        // closing the fd, as the service manager does.
        (void)ReceiveNotification(sock, absl::Seconds(2));
      }
      while (reader->Read(&ev)) {
        if (ev.has_output()) (ev.output().fd() == 1 ? o.out : o.err) += ev.output().data();
        if (ev.has_violation()) o.violations.push_back(ev.violation());
        if (ev.has_exited()) o.exited = ev.exited();
      }
      o.status = reader->Finish();
      std::string violations;
      for (const auto& v : o.violations) {
        absl::StrAppend(&violations, v.syscall(), "(", absl::StrJoin(v.args(), ", "), ") (", v.rule(), "); ");
      }
      ASSERT_TRUE(o.status.ok()) << o.status.error_message();
      ASSERT_TRUE(ready.has_value()) << "no READY=1; out: " << o.out << " err: " << o.err
                                     << " violations: " << violations;
      EXPECT_EQ(ready->text, "READY=1");
      EXPECT_TRUE(from_workload || ready->creds.pid == pid)
          << "sender pid " << ready->creds.pid << ", workload pid " << pid;
      EXPECT_EQ(ready->creds.uid, 65534u);  // sandboxd's workload uid, whatever the namespace.
      EXPECT_EQ(o.code(), 0) << o.out << o.err;
      EXPECT_TRUE(o.violations.empty()) << violations;
      if (senders[i][0] == probe()) {
        EXPECT_EQ(o.out, "notify: ok\n");
      }
    }
  }
}

}  // namespace
}  // namespace secureos::sandboxd
