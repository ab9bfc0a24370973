// capd for real: a daemon on a temporary root, grants and spawns through gRPC and secctl,
// the spawned processes inspected through /proc. Needs root (tagged `local`).
#include <grpcpp/grpcpp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/cap_set.h"
#include "capd/proc_status.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/capd.grpc.pb.h"
#include "tests/process.h"

namespace secureos::capd {
namespace {

using ::testing::HasSubstr;
using test::Child;
using test::RunProcess;
using test::RunResult;
using test::SpawnOptions;
using test::TempRoot;

constexpr uint32_t kNobody = 65534;
constexpr uint64_t kNetBindService = uint64_t{1} << CAP_NET_BIND_SERVICE;
constexpr char kGrantable[] = "cap_net_bind_service,cap_kill,cap_chown,cap_sys_admin";

// Every call of this test fails rather than hangs.
std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(20);
}

class CapdIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::InstallSecctl(root_);
    test::WriteFileOrDie(probe(), test::ReadFileOrEmpty(test::Runfile("capd/testing/cap_probe")), 0755);
    WriteConfig("");
    ASSERT_TRUE(StartCapd());
  }

  void WriteConfig(const std::string& extra) {
    test::WriteFileOrDie(root_ / "etc/secureos/capd.conf",
                         "server { socket_mode: \"0666\" event_ring_capacity: 1024 "
                         "shutdown_timeout_ms: 2000 }\ndrift_check_interval_seconds: 1\n"
                         "grantable_capabilities: \"" + std::string(kGrantable) + "\"\n" + extra);
  }

  grpc::Status Reload() {
    common::v1::ReloadResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return stub_->Reload(&ctx, common::v1::ReloadRequest(), &resp);
  }

  void TearDown() override {
    for (pid_t pid : spawned_) ::kill(pid, SIGKILL);
  }

  bool StartCapd() {
    SpawnOptions o;
    o.stderr_path = root_ / "capd.log";
    auto child = Child::Start({test::Runfile("capd/capd"), "--root", root_.path()}, o);
    if (!child.ok()) return false;
    capd_.emplace(std::move(*child));
    // After a kill -9 the old socket file is still there: wait for an answer, not a path,
    // on a fresh channel each time (a failed channel backs off for seconds).
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      stub_ = v1::Capd::NewStub(grpc::CreateChannel(
          "unix:" + (root_ / "run/secureos/capd.sock"), grpc::InsecureChannelCredentials()));
      common::v1::HealthResponse health;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      if (stub_->Health(&ctx, common::v1::HealthRequest(), &health).ok() &&
          health.pid() == capd_->pid()) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string probe() const { return root_ / "bin/cap_probe"; }

  grpc::Status Grant(const std::string& principal, const std::string& caps,
                     std::optional<uint64_t> ttl = std::nullopt) {
    v1::GrantRequest req;
    req.set_principal(principal);
    req.set_capabilities(caps);
    if (ttl) req.set_ttl_seconds(*ttl);
    v1::Grant resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return stub_->GrantCapabilities(&ctx, req, &resp);
  }

  v1::SpawnRequest Request(const std::string& principal, std::vector<std::string> argv,
                           const std::string& caps, uint32_t uid = kNobody) {
    v1::SpawnRequest r;
    r.set_principal(principal);
    for (auto& a : argv) r.add_argv(a);
    r.set_uid(uid);
    r.set_gid(uid);
    r.set_capabilities(caps);
    r.set_output(v1::OUTPUT_MODE_STREAM);
    return r;
  }

  struct Outcome {
    grpc::Status status;
    std::vector<v1::SpawnEvent> events;
    std::string out;
    int code = -1;
  };

  // Runs a spawn to its end.
  Outcome SpawnToEnd(const v1::SpawnRequest& r) {
    Outcome o;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Spawn(&ctx, r);
    v1::SpawnEvent ev;
    while (reader->Read(&ev)) {
      if (ev.has_started()) spawned_.push_back(ev.started().pid());
      if (ev.has_output()) o.out += ev.output().data();
      if (ev.has_exited() && ev.exited().has_code()) o.code = ev.exited().code();
      o.events.push_back(ev);
    }
    o.status = reader->Finish();
    return o;
  }

  // Starts a spawn and returns its Started record, leaving it running.
  v1::Started SpawnRunning(v1::SpawnRequest r) {
    r.set_output(v1::OUTPUT_MODE_NULL);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Spawn(&ctx, r);
    v1::SpawnEvent ev;
    EXPECT_TRUE(reader->Read(&ev));
    EXPECT_TRUE(ev.has_started());
    spawned_.push_back(ev.started().pid());
    ctx.TryCancel();
    reader->Finish();
    return ev.started();
  }

  std::vector<v1::SpawnInfo> List() {
    v1::ListSpawnsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    EXPECT_TRUE(stub_->ListSpawns(&ctx, v1::ListSpawnsRequest(), &resp).ok());
    return {resp.spawns().begin(), resp.spawns().end()};
  }

  TempRoot root_;
  std::optional<Child> capd_;
  std::unique_ptr<v1::Capd::Stub> stub_;
  std::vector<pid_t> spawned_;
};

TEST_F(CapdIntegrationTest, ASpawnHoldsExactlyItsCapabilitiesInAllFiveSets) {
  ASSERT_TRUE(Grant("service:web", "cap_net_bind_service,cap_kill").ok());
  v1::Started s = SpawnRunning(Request("service:web", {probe(), "sleep", "30"}, "cap_net_bind_service"));
  absl::StatusOr<ProcStatus> st = ReadProcStatus(s.pid());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->inheritable.mask(), kNetBindService);
  EXPECT_EQ(st->permitted.mask(), kNetBindService);
  EXPECT_EQ(st->effective.mask(), kNetBindService);
  EXPECT_EQ(st->bounding.mask(), kNetBindService);
  EXPECT_EQ(st->ambient.mask(), kNetBindService);
  EXPECT_TRUE(st->no_new_privs);
  EXPECT_EQ(st->uids, (std::array<uid_t, 4>{kNobody, kNobody, kNobody, kNobody}));
  EXPECT_TRUE(st->groups.empty());
  EXPECT_EQ(st->start_time, s.start_time());

  v1::GetProcessCapabilitiesRequest req;
  req.set_pid(s.pid());
  v1::ProcessCapabilities caps;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ASSERT_TRUE(stub_->GetProcessCapabilities(&ctx, req, &caps).ok());
  EXPECT_EQ(caps.principal(), "service:web");
  EXPECT_EQ(caps.ambient().names(0), "cap_net_bind_service");
  ASSERT_TRUE(caps.has_securebits());
  EXPECT_EQ(caps.securebits().raw(), 0x2fu);

  // And what the process itself sees.
  Outcome bits = SpawnToEnd(Request("service:web", {probe(), "securebits"}, "cap_kill"));
  ASSERT_TRUE(bits.status.ok()) << bits.status.error_message();
  EXPECT_EQ(bits.out, "47\n");  // 0x2f: noroot, no_setuid_fixup (both locked), keep_caps locked.
}

TEST_F(CapdIntegrationTest, NobodyWithTheGrantBindsPort80AndWithoutItCannot) {
  ASSERT_TRUE(Grant("uid:65534", "cap_net_bind_service").ok());
  Outcome with = SpawnToEnd(Request("uid:65534", {probe(), "bind", "80"}, "cap_net_bind_service"));
  ASSERT_TRUE(with.status.ok()) << with.status.error_message();
  EXPECT_EQ(with.code, 0) << with.out;
  Outcome without = SpawnToEnd(Request("uid:65534", {probe(), "bind", "80"}, ""));
  ASSERT_TRUE(without.status.ok()) << without.status.error_message();
  EXPECT_EQ(without.code, 13) << without.out;
}

TEST_F(CapdIntegrationTest, FileCapabilityAndSetuidRootBinariesGainNothing) {
  ASSERT_TRUE(Grant("uid:65534", "cap_kill").ok());
  const std::string fcap = root_ / "bin/fcap_probe";
  test::WriteFileOrDie(fcap, test::ReadFileOrEmpty(probe()), 0755);
  cap_t file_caps = cap_from_text("cap_net_bind_service+ep");
  ASSERT_EQ(cap_set_file(fcap.c_str(), file_caps), 0) << strerror(errno);
  cap_free(file_caps);
  const std::string suid = root_ / "bin/suid_probe";
  test::WriteFileOrDie(suid, test::ReadFileOrEmpty(probe()), 0755);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);

  // Controls: run directly as nobody (no no_new_privs), both binaries do elevate here, so
  // the checks below can fail.
  SpawnOptions as_nobody;
  as_nobody.uid = kNobody;
  as_nobody.gid = kNobody;
  EXPECT_EQ(RunProcess({fcap, "bind", "80"}, as_nobody).exit_code, 0);
  EXPECT_EQ(RunProcess({suid, "ids"}, as_nobody).out, "65534 0 0\n");

  // Under no_new_privs the kernel refuses to exec a binary whose file capabilities it would
  // have to withhold (its "capability-dumb binary" check): nothing runs at all.
  Outcome f = SpawnToEnd(Request("uid:65534", {fcap, "bind", "80"}, "cap_kill"));
  EXPECT_EQ(f.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(f.status.error_message(), HasSubstr("execve " + fcap + ": Operation not permitted"));
  EXPECT_TRUE(f.events.empty());
  Outcome s = SpawnToEnd(Request("uid:65534", {suid, "ids"}, "cap_kill"));
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.out, "65534 65534 65534\n");
}

TEST_F(CapdIntegrationTest, WithoutAGrantOrWithAnExpiredLeaseNothingRuns) {
  const std::string marker = root_ / "marker";
  Outcome none = SpawnToEnd(Request("service:nobody-granted", {"/usr/bin/touch", marker}, "cap_kill"));
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(none.status.error_message(), HasSubstr("no grant in force for service:nobody-granted"));
  EXPECT_TRUE(none.events.empty());

  ASSERT_TRUE(Grant("service:lease", "cap_kill", 1).ok());
  absl::SleepFor(absl::Milliseconds(1100));
  Outcome expired = SpawnToEnd(Request("service:lease", {"/usr/bin/touch", marker}, "cap_kill"));
  EXPECT_EQ(expired.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(Grant("service:narrow", "cap_kill").ok());
  Outcome beyond = SpawnToEnd(Request("service:narrow", {"/usr/bin/touch", marker}, "cap_kill,cap_sys_admin"));
  EXPECT_EQ(beyond.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(beyond.status.error_message(), HasSubstr("does not cover cap_sys_admin"));
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "something was executed";

  RunResult events = test::RunSecctl(root_, {"--json", "events", "capd"});
  EXPECT_THAT(events.out, HasSubstr("EVENT_KIND_CAPABILITY_DENIED"));
}

// A grant covers capabilities; a process that asks for none needs none (svcd's services
// without capabilities), and still gets no_new_privs, locked securebits and empty sets.
TEST_F(CapdIntegrationTest, ASpawnWithoutCapabilitiesNeedsNoGrant) {
  Outcome o = SpawnToEnd(Request("service:plain", {"/bin/cat", "/proc/self/status"}, ""));
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_THAT(o.out, HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(o.out, HasSubstr("CapBnd:\t0000000000000000"));
  EXPECT_THAT(o.out, HasSubstr("NoNewPrivs:\t1"));
}

TEST_F(CapdIntegrationTest, BadRequestsAreInvalidArgumentNamingTheField) {
  EXPECT_THAT(Grant("service:x", "cap_net_bind_service,cap_fly").error_message(),
              HasSubstr("capabilities: unknown capability \"cap_fly\""));
  EXPECT_EQ(Grant("service:x", "cap_fly").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Grant("service:x", "cap_kill").ok());
  v1::SpawnRequest no_argv = Request("service:x", {}, "");
  Outcome a = SpawnToEnd(no_argv);
  EXPECT_EQ(a.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(a.status.error_message(), HasSubstr("argv: required"));
  v1::SpawnRequest no_uid = Request("service:x", {"/bin/true"}, "");
  no_uid.clear_uid();
  EXPECT_THAT(SpawnToEnd(no_uid).status.error_message(), HasSubstr("uid: required"));
  EXPECT_THAT(SpawnToEnd(Request("service:x", {"true"}, "")).status.error_message(),
              HasSubstr("argv[0]: must be an absolute path"));
  EXPECT_THAT(SpawnToEnd(Request("service:x", {"/bin/true"}, "cap_fly")).status.error_message(),
              HasSubstr("capabilities: unknown capability \"cap_fly\""));
}

TEST_F(CapdIntegrationTest, OnlyRootOrPeersGrantRevokeAndSpawn) {
  EXPECT_EQ(test::RunSecctl(root_, {"cap", "grant", "uid:65534", "cap_kill"}, kNobody).exit_code, 4);
  ASSERT_TRUE(Grant("uid:65534", "cap_kill").ok());
  EXPECT_EQ(test::RunSecctl(root_, {"cap", "revoke", "uid:65534"}, kNobody).exit_code, 4);
  RunResult exec = test::RunSecctl(root_, {"cap", "exec", "--caps", "cap_kill", "--", "/bin/true"}, kNobody);
  EXPECT_EQ(exec.exit_code, 4) << exec.err;
  EXPECT_THAT(exec.err, HasSubstr("needs peer access"));
  // Reading is allowed.
  EXPECT_EQ(test::RunSecctl(root_, {"cap", "grants"}, kNobody).exit_code, 0);
  RunResult root_exec = test::RunSecctl(
      root_, {"cap", "exec", "--user", "nobody", "--caps", "cap_kill", "--", probe(), "ids"});
  EXPECT_EQ(root_exec.exit_code, 0) << root_exec.err;
  EXPECT_EQ(root_exec.out, "65534 65534 65534\n");
}

TEST_F(CapdIntegrationTest, CapdsBoundingSetIsWhatItMayGrantPlusWhatItUses) {
  absl::StatusOr<ProcStatus> self = ReadProcStatus(capd_->pid());
  ASSERT_TRUE(self.ok()) << self.status();
  CapSet expected = CapSet::Parse(kGrantable)->Union(*CapSet::Parse(
      "cap_setpcap,cap_setuid,cap_setgid,cap_kill,cap_chown,cap_fowner,cap_dac_override,"
      "cap_sys_resource,cap_sys_admin"));
  // capd started with this test's bounding set, which may already lack some of them.
  const CapSet inherited = ReadProcStatus(::getpid())->bounding;
  EXPECT_EQ(self->bounding.ToString(),
            CapSet::FromMask(expected.mask() & inherited.mask()).ToString());
  EXPECT_FALSE(self->bounding.Has(CAP_SYS_MODULE));
  grpc::Status s = Grant("service:x", "cap_sys_module");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("cap_sys_module not in capd's grantable_capabilities"));
}

// Counts zombies whose parent is `parent`.
int ZombieChildren(pid_t parent) {
  int n = 0;
  const std::string children =
      test::ReadFileOrEmpty(absl::StrCat("/proc/", parent, "/task/", parent, "/children"));
  for (absl::string_view line : absl::StrSplit(children, ' ', absl::SkipEmpty())) {
    pid_t pid;
    if (absl::SimpleAtoi(line, &pid) && ReadState(pid).value_or('?') == 'Z') ++n;
  }
  return n;
}

TEST_F(CapdIntegrationTest, WhatASpawnLeavesBehindIsReparentedToCapdAndReaped) {
  ASSERT_TRUE(Grant("service:daemonizer", "cap_kill").ok());
  // The shell exits at once; its background child is orphaned and must land on capd.
  Outcome o = SpawnToEnd(Request("service:daemonizer",
                                 {"/bin/sh", "-c", "/bin/sleep 1 & echo $!"}, ""));
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  pid_t orphan;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(o.out), &orphan)) << o.out;
  spawned_.push_back(orphan);
  absl::StatusOr<std::string> status = ReadFile(absl::StrCat("/proc/", orphan, "/status"));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_THAT(*status, HasSubstr(absl::StrCat("PPid:\t", capd_->pid(), "\n")));
  absl::SleepFor(absl::Milliseconds(2500));  // It exits after 1 s; capd's monitor reaps it.
  EXPECT_NE(::access(absl::StrCat("/proc/", orphan).c_str(), F_OK), 0) << "left as a zombie";
  EXPECT_EQ(ZombieChildren(capd_->pid()), 0);
}

// One cgroup hierarchy of the host: where it is mounted, and how /proc/<pid>/cgroup names it.
struct Hierarchy {
  std::string mount;  // "/sys/fs/cgroup/pids"
  std::string key;    // ":pids:" (v1), "0::" (cgroup2)
};

// Where the cgroup v1 hierarchy of `controller` is mounted ("cgroup2" for the cgroup2
// mount); empty when the host has none.
std::string HierarchyMount(const std::string& controller) {
  for (absl::string_view line : absl::StrSplit(test::ReadFileOrEmpty("/proc/self/mountinfo"), '\n')) {
    // "36 25 0:31 / /sys/fs/cgroup/pids rw,relatime shared:15 - cgroup cgroup rw,pids"
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    if (controller == "cgroup2" && dash[1] == "cgroup2") return f[4];
    if (dash[1] != "cgroup") continue;
    for (absl::string_view opt : absl::StrSplit(dash[3], ',')) {
      if (opt == controller) return f[4];
    }
  }
  return "";
}

// Two hierarchies to join: the v1 pids and memory ones where the host has them (hybrid or
// v1 hosts), else the cgroup2 mount alone (a pure cgroup2 host has only one hierarchy).
std::vector<Hierarchy> TestHierarchies() {
  const std::string pids = HierarchyMount("pids");
  const std::string memory = HierarchyMount("memory");
  if (!pids.empty() && !memory.empty()) return {{pids, ":pids:"}, {memory, ":memory:"}};
  const std::string v2 = HierarchyMount("cgroup2");
  if (!v2.empty()) return {{v2, "0::"}};
  return {};
}

// A cgroup of this test, removed at the end even when the test fails: whatever is still in
// it is killed first.
class TestCgroup {
 public:
  TestCgroup(const std::string& hierarchy, const std::string& name)
      : path_(absl::StrCat(hierarchy, "/", name)) {
    made_ = ::mkdir(path_.c_str(), 0755) == 0;
    if (!made_) error_ = strerror(errno);
  }
  ~TestCgroup() {
    if (!made_) return;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (::rmdir(path_.c_str()) != 0 && errno == EBUSY && absl::Now() < deadline) {
      for (absl::string_view pid : absl::StrSplit(test::ReadFileOrEmpty(path_ + "/cgroup.procs"),
                                                  '\n', absl::SkipEmpty())) {
        pid_t p;
        if (absl::SimpleAtoi(pid, &p)) ::kill(p, SIGKILL);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  const std::string& path() const { return path_; }
  bool made() const { return made_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool made_ = false;
  std::string error_;
};

// The rest of the child's set-up: new session, only stdio open, rlimits, cgroups (one per
// hierarchy), output files.
TEST_F(CapdIntegrationTest, ASpawnGetsItsSessionFdsRlimitsCgroupsAndOutputFiles) {
  ASSERT_TRUE(Grant("service:setup", "cap_kill").ok());
  const std::vector<Hierarchy> hierarchies = TestHierarchies();
  ASSERT_FALSE(hierarchies.empty()) << "no cgroup hierarchy found in /proc/self/mountinfo";
  const std::string name = absl::StrCat("secureos-test-", ::getpid());
  std::vector<std::unique_ptr<TestCgroup>> cgroups;
  for (const Hierarchy& h : hierarchies) {
    cgroups.push_back(std::make_unique<TestCgroup>(h.mount, name));
    ASSERT_TRUE(cgroups.back()->made()) << cgroups.back()->path() << ": " << cgroups.back()->error();
  }
  v1::SpawnRequest r = Request(
      "service:setup",
      {"/bin/sh", "-c",
       // The glob's own directory fd is 3; anything capd leaked would be above it.
       "for f in /proc/self/fd/*; do printf '%s ' \"${f##*/}\"; done; echo; "
       "echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$; ulimit -n; cat /proc/self/cgroup; "
       "pwd; echo to-stderr >&2"},
      "");
  r.set_cwd("/tmp");
  for (const auto& c : cgroups) r.add_cgroups(c->path());
  common::v1::Rlimit* nofile = r.add_rlimits();
  nofile->set_resource(common::v1::RLIMIT_RESOURCE_NOFILE);
  nofile->set_hard(64);
  r.set_output(v1::OUTPUT_MODE_FILES);
  r.set_stdout_path(root_ / "out.log");
  r.set_stderr_path(root_ / "err.log");
  Outcome o = SpawnToEnd(r);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.code, 0);
  ASSERT_FALSE(o.events.empty());
  const pid_t pid = o.events[0].started().pid();
  const std::string out = test::ReadFileOrEmpty(root_ / "out.log");
  EXPECT_THAT(out, HasSubstr("0 1 2 3 \n"));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("sid=", pid, " pid=", pid, "\n")));
  EXPECT_THAT(out, HasSubstr("\n64\n"));
  for (const Hierarchy& h : hierarchies) {
    EXPECT_THAT(out, HasSubstr(absl::StrCat(h.key, "/", name, "\n")));
  }
  EXPECT_THAT(out, HasSubstr("\n/tmp\n"));
  EXPECT_EQ(test::ReadFileOrEmpty(root_ / "err.log"), "to-stderr\n");
}

// A directory outside /tmp (which a spawn's private /tmp hides), mode 0755, removed at the
// end with everything in it.
class VarTmpDir {
 public:
  VarTmpDir() {
    char tmpl[] = "/var/tmp/secureos-capd-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    ::chmod(path_.c_str(), 0755);
  }
  ~VarTmpDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The lines of a mountinfo whose mount point is one of `at`, or one of `trees` or below it
// (only these: other tests may mount elsewhere meanwhile).
std::vector<std::string> MountsAt(const std::string& mountinfo, const std::vector<std::string>& at,
                                  const std::vector<std::string>& trees = {}) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() < 5) continue;
    bool match = std::find(at.begin(), at.end(), f[4]) != at.end();
    for (const std::string& t : trees) match = match || f[4] == t || absl::StartsWith(f[4], t + "/");
    if (match) out.emplace_back(line);
  }
  return out;
}

// Level 2: a private /tmp, read-only system and service directories, a writable directory
// below a read-only one, exactly the granted capabilities, nothing visible on the host.
TEST_F(CapdIntegrationTest, AMountViewHasAPrivateTmpAndIsReadOnlyExceptWhereAsked) {
  ASSERT_TRUE(Grant("service:level2", "cap_net_bind_service").ok());
  VarTmpDir base;
  ASSERT_FALSE(base.path().empty()) << strerror(errno);
  // A shared mount of the host's (as systemd makes every mount): without the child's
  // MS_PRIVATE, its binds below would propagate back to the host's table.
  ASSERT_EQ(::mount("tmpfs", base.path().c_str(), "tmpfs", 0, "mode=0755"), 0) << strerror(errno);
  absl::Cleanup unmount = [&] { ::umount2(base.path().c_str(), MNT_DETACH); };
  ASSERT_EQ(::mount(nullptr, base.path().c_str(), nullptr, MS_SHARED, nullptr), 0) << strerror(errno);
  const std::string ro = base.path() + "/ro";
  const std::string rw = ro + "/rw";
  for (const std::string& d : {ro, rw}) {
    ASSERT_EQ(::mkdir(d.c_str(), 0777), 0) << d << ": " << strerror(errno);
    ASSERT_EQ(::chmod(d.c_str(), 0777), 0);  // So that only a read-only mount refuses nobody.
  }
  absl::Cleanup remove_stray = [] { ::unlink("/usr/secureos-capd-test"); };
  auto host_mounts = [&] {
    return MountsAt(test::ReadFileOrEmpty("/proc/self/mountinfo"), {"/", "/tmp"},
                    {"/usr", base.path()});
  };
  const std::vector<std::string> host_before = host_mounts();

  v1::SpawnRequest r = Request(
      "service:level2",
      {"/bin/sh", "-c",
       absl::StrCat("echo private > /tmp/secureos-private-$$ && echo tmp:ok; "
                    "touch /usr/secureos-capd-test 2>&1; touch ", ro, "/x 2>&1; touch ", rw,
                    "/x && echo rw:ok; echo done; exec /bin/sleep 30")},
      "cap_net_bind_service");
  r.mutable_mounts()->set_private_tmp(true);
  r.mutable_mounts()->add_read_only_paths("/usr");
  r.mutable_mounts()->add_read_only_paths(ro);
  r.mutable_mounts()->add_read_write_paths(rw);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Spawn(&ctx, r);
  v1::SpawnEvent ev;
  absl::Cleanup end_stream = [&] {
    ctx.TryCancel();
    while (reader->Read(&ev)) {
    }
    reader->Finish();
  };
  pid_t pid = -1;
  std::string out;
  while (out.find("done\n") == std::string::npos && reader->Read(&ev)) {
    if (ev.has_started()) {
      pid = ev.started().pid();
      spawned_.push_back(pid);
    }
    if (ev.has_output()) out += ev.output().data();
  }
  ASSERT_GT(pid, 0) << "no started record";
  ASSERT_THAT(out, HasSubstr("done\n"));

  // From inside.
  EXPECT_THAT(out, HasSubstr("tmp:ok\n"));
  EXPECT_THAT(out, HasSubstr("'/usr/secureos-capd-test': Read-only file system"));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("'", ro, "/x': Read-only file system")));
  EXPECT_THAT(out, HasSubstr("rw:ok\n"));
  // From the host: the private /tmp is not the host's, the writable directory is.
  EXPECT_NE(::access(absl::StrCat("/tmp/secureos-private-", pid).c_str(), F_OK), 0);
  EXPECT_EQ(::access((rw + "/x").c_str(), F_OK), 0);
  EXPECT_NE(::access((ro + "/x").c_str(), F_OK), 0);
  EXPECT_NE(::access("/usr/secureos-capd-test", F_OK), 0);

  // Its capabilities are still exactly the grant's.
  absl::StatusOr<ProcStatus> st = ReadProcStatus(pid);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->inheritable.mask(), kNetBindService);
  EXPECT_EQ(st->permitted.mask(), kNetBindService);
  EXPECT_EQ(st->effective.mask(), kNetBindService);
  EXPECT_EQ(st->bounding.mask(), kNetBindService);
  EXPECT_EQ(st->ambient.mask(), kNetBindService);
  EXPECT_TRUE(st->no_new_privs);

  // Its mount table: a tmpfs on /tmp, and no mount shared with (or a slave of) the host's.
  const std::string inside = test::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/mountinfo"));
  ASSERT_FALSE(inside.empty());
  bool tmpfs_on_tmp = false;
  for (const std::string& line : MountsAt(inside, {"/tmp"})) {
    tmpfs_on_tmp = tmpfs_on_tmp || (absl::StrContains(line, " /tmp ") &&
                                    absl::StrContains(line, " - tmpfs "));
  }
  EXPECT_TRUE(tmpfs_on_tmp) << inside;
  EXPECT_THAT(inside, ::testing::Not(HasSubstr(" shared:")));
  EXPECT_THAT(inside, ::testing::Not(HasSubstr(" master:")));
  // The host's mount table did not change, while it runs or after.
  EXPECT_EQ(host_mounts(), host_before);
  ::kill(pid, SIGKILL);
  while (reader->Read(&ev)) {
  }
  EXPECT_EQ(host_mounts(), host_before);
}

// A read-only "/" (ProtectSystem=strict) covers every mount, but not the private /tmp.
TEST_F(CapdIntegrationTest, AReadOnlyRootLeavesThePrivateTmpWritable) {
  ASSERT_TRUE(Grant("service:strict", "cap_kill").ok());
  VarTmpDir base;  // Writable for nobody on the host: only the read-only view refuses.
  ASSERT_FALSE(base.path().empty()) << strerror(errno);
  ASSERT_EQ(::chmod(base.path().c_str(), 0777), 0);
  v1::SpawnRequest r = Request(
      "service:strict",
      {"/bin/sh", "-c",
       absl::StrCat("touch /tmp/x && echo tmp:ok; touch ", base.path(), "/x 2>&1; true")},
      "");
  r.mutable_mounts()->set_private_tmp(true);
  r.mutable_mounts()->add_read_only_paths("/");
  Outcome o = SpawnToEnd(r);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_THAT(o.out, HasSubstr("tmp:ok\n"));
  EXPECT_THAT(o.out, HasSubstr(absl::StrCat("'", base.path(), "/x': Read-only file system")));
  EXPECT_NE(::access((base.path() + "/x").c_str(), F_OK), 0);
}

TEST_F(CapdIntegrationTest, BadCgroupsAndMountPathsAreInvalidArgumentNamingEachField) {
  ASSERT_TRUE(Grant("service:bad", "cap_kill").ok());
  const std::string marker = root_ / "marker";
  v1::SpawnRequest r = Request("service:bad", {"/usr/bin/touch", marker}, "");
  r.add_cgroups("sys/fs/cgroup/pids/x");
  for (int i = 1; i <= 8; ++i) r.add_cgroups(absl::StrCat("/sys/fs/cgroup/pids/x", i));
  v1::MountView* m = r.mutable_mounts();
  m->add_read_only_paths("usr");
  m->add_read_only_paths("/usr/../etc");
  m->add_read_only_paths("/usr/");
  m->add_read_only_paths("/nonexistent-secureos-capd-test");
  m->add_read_write_paths("/");
  Outcome o = SpawnToEnd(r);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string& msg = o.status.error_message();
  EXPECT_THAT(msg, HasSubstr("cgroups: at most 8 (one per hierarchy), got 9"));
  EXPECT_THAT(msg, HasSubstr("cgroups[0]: must be an absolute path"));
  EXPECT_THAT(msg, HasSubstr("mounts.read_only_paths[0]: must be an absolute path"));
  EXPECT_THAT(msg, HasSubstr("mounts.read_only_paths[1]: must be normalized (no \".\" or \"..\" components)"));
  EXPECT_THAT(msg, HasSubstr("mounts.read_only_paths[2]: must be normalized"));
  EXPECT_THAT(msg, HasSubstr("mounts.read_only_paths[3]: /nonexistent-secureos-capd-test does not exist"));
  EXPECT_THAT(msg, HasSubstr("mounts.read_write_paths[0]: \"/\" is refused"));
  EXPECT_TRUE(o.events.empty());
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "something was executed";

  // A cgroup that does not exist is named too (found when capd opens its cgroup.procs).
  v1::SpawnRequest missing = Request("service:bad", {"/usr/bin/touch", marker}, "");
  missing.add_cgroups("/sys/fs/cgroup/nonexistent-secureos-capd-test");
  Outcome m2 = SpawnToEnd(missing);
  EXPECT_EQ(m2.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(m2.status.error_message(),
              HasSubstr("cgroups[0]: open /sys/fs/cgroup/nonexistent-secureos-capd-test/cgroup.procs"));
  EXPECT_TRUE(m2.events.empty());
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "something was executed";
}

// svcd's log collector keeps the read end of a FIFO; capd's spawn writes into it.
TEST_F(CapdIntegrationTest, OutputGoesToAFifoWithAReaderAndAFifoWithoutOneFailsAtOnce) {
  ASSERT_TRUE(Grant("service:logger", "cap_kill").ok());
  const std::string fifo = root_ / "log.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << strerror(errno);
  UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(reader.valid()) << strerror(errno);
  v1::SpawnRequest r = Request(
      "service:logger",
      {"/bin/sh", "-c", "echo to-fifo; grep ^flags /proc/self/fdinfo/1; echo to-stderr >&2"}, "");
  r.set_output(v1::OUTPUT_MODE_FILES);
  r.set_stdout_path(fifo);
  r.set_stderr_path(fifo);
  Outcome o = SpawnToEnd(r);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.code, 0);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(reader.get(), buf, sizeof(buf))) > 0;) got.append(buf, n);
  EXPECT_THAT(got, HasSubstr("to-fifo\n"));
  EXPECT_THAT(got, HasSubstr("to-stderr\n"));
  // The process's end blocks as usual: capd cleared the O_NONBLOCK it opened it with.
  const size_t at = got.find("flags:\t");
  ASSERT_NE(at, std::string::npos) << got;
  const long flags = std::strtol(got.c_str() + at + 7, nullptr, 8);
  EXPECT_EQ(flags & O_NONBLOCK, 0) << got;
  EXPECT_EQ(flags & O_APPEND, O_APPEND) << got;

  // Without a reader: refused at once, nothing runs.
  const std::string lonely = root_ / "lonely.fifo";
  ASSERT_EQ(::mkfifo(lonely.c_str(), 0600), 0) << strerror(errno);
  const std::string marker = root_ / "marker";
  v1::SpawnRequest n = Request("service:logger", {"/usr/bin/touch", marker}, "");
  n.set_output(v1::OUTPUT_MODE_FILES);
  n.set_stdout_path(lonely);
  n.set_stderr_path(root_ / "err.log");
  const absl::Time start = absl::Now();
  Outcome refused = SpawnToEnd(n);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.status.error_message(),
              HasSubstr(absl::StrCat("stdout_path: ", lonely, ": no reader (ENXIO)")));
  EXPECT_TRUE(refused.events.empty());
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "something was executed";
}

// A cgroup the child cannot join fails the spawn naming the step and the cgroup: a fresh
// v1 cpuset cgroup has no CPUs and no memory nodes, and the kernel refuses tasks (ENOSPC).
TEST_F(CapdIntegrationTest, ACgroupTheChildCannotJoinFailsTheSpawnNamingIt) {
  const std::string cpuset = HierarchyMount("cpuset");
  if (cpuset.empty()) GTEST_SKIP() << "no cgroup v1 cpuset hierarchy on this host";
  ASSERT_TRUE(Grant("service:cpuset", "cap_kill").ok());
  const std::string name = absl::StrCat("secureos-test-", ::getpid());
  TestCgroup pids(HierarchyMount("pids"), name);
  TestCgroup empty(cpuset, name);
  ASSERT_TRUE(empty.made()) << empty.path() << ": " << empty.error();
  const std::string marker = root_ / "marker";
  v1::SpawnRequest r = Request("service:cpuset", {"/usr/bin/touch", marker}, "");
  if (pids.made()) r.add_cgroups(pids.path());
  r.add_cgroups(empty.path());
  Outcome o = SpawnToEnd(r);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(o.status.error_message(),
              HasSubstr(absl::StrCat("spawn failed: join cgroup ", empty.path(), ": No space left on device")));
  EXPECT_TRUE(o.events.empty());
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "something was executed";
}

TEST_F(CapdIntegrationTest, DriftAndRevocationAreReported) {
  ASSERT_TRUE(Grant("service:drifter", "cap_net_bind_service").ok());
  v1::Started d = SpawnRunning(Request("service:drifter", {probe(), "drop", "30"}, "cap_net_bind_service"));
  absl::SleepFor(absl::Milliseconds(300));
  v1::CheckDriftResponse drift;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ASSERT_TRUE(stub_->CheckDrift(&ctx, v1::CheckDriftRequest(), &drift).ok());
  ASSERT_EQ(drift.drifted_size(), 1);
  EXPECT_EQ(drift.drifted(0).pid(), d.pid());
  EXPECT_THAT(drift.drifted(0).drift(), HasSubstr("effective: lacks declared cap_net_bind_service"));

  ASSERT_TRUE(Grant("service:holder", "cap_kill").ok());
  v1::Started h = SpawnRunning(Request("service:holder", {probe(), "sleep", "30"}, "cap_kill"));
  RunResult revoke = test::RunSecctl(root_, {"cap", "revoke", "service:holder"});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_THAT(revoke.out, HasSubstr("still running with its capabilities"));
  RunResult ps = test::RunSecctl(root_, {"--json", "cap", "ps"});
  EXPECT_THAT(ps.out, HasSubstr("its grant was revoked"));
  EXPECT_EQ(::kill(h.pid(), 0), 0);  // REPORT: still running.
}

TEST_F(CapdIntegrationTest, SpawnsOutliveKillNineAndAreReadoptedAfterRestart) {
  ASSERT_TRUE(Grant("service:long", "cap_kill").ok());
  v1::Started longer = SpawnRunning(Request("service:long", {probe(), "sleep", "60"}, "cap_kill"));
  v1::Started shorter = SpawnRunning(Request("service:long", {probe(), "sleep", "1"}, "cap_kill"));
  ASSERT_TRUE(capd_->Signal(SIGKILL));
  ASSERT_TRUE(capd_->Wait(absl::Seconds(10)).has_value());
  absl::SleepFor(absl::Milliseconds(1500));  // `shorter` exits while capd is down.
  EXPECT_EQ(::kill(longer.pid(), 0), 0) << "a spawn died with capd";
  ASSERT_TRUE(StartCapd()) << test::ReadFileOrEmpty(root_ / "capd.log");

  std::vector<v1::SpawnInfo> spawns = List();
  ASSERT_EQ(spawns.size(), 2u);
  for (const auto& s : spawns) {
    if (s.id() == longer.id()) {
      EXPECT_EQ(s.state(), v1::SPAWN_STATE_RUNNING);
      EXPECT_EQ(s.pid(), longer.pid());
    } else {
      EXPECT_EQ(s.id(), shorter.id());
      EXPECT_EQ(s.state(), v1::SPAWN_STATE_EXITED);
      EXPECT_THAT(s.exited().note(), HasSubstr("exited while capd was down"));
    }
  }
  // Watch sees it, and sees it end when signalled through capd.
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchRequest w;
  w.set_id(longer.id());
  auto reader = stub_->Watch(&watch_ctx, w);
  v1::SpawnEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.started().pid(), longer.pid());
  v1::SignalRequest sig;
  sig.set_id(longer.id());
  sig.set_signal(SIGTERM);
  v1::SignalResponse sig_resp;
  grpc::ClientContext sig_ctx;
  sig_ctx.set_deadline(Deadline());
  ASSERT_TRUE(stub_->Signal(&sig_ctx, sig, &sig_resp).ok());
  bool exited = false;
  while (reader->Read(&ev)) exited = exited || ev.has_exited();
  EXPECT_TRUE(exited);
  EXPECT_TRUE(reader->Finish().ok());
}

}  // namespace
}  // namespace secureos::capd

namespace secureos::capd {
namespace {

TEST_F(CapdIntegrationTest, OnlyTheNewestExitedSpawnsAreRemembered) {
  WriteConfig("exited_spawns_kept: 2\n");
  ASSERT_TRUE(Reload().ok());
  ASSERT_TRUE(Grant("service:batch", "cap_kill").ok());
  std::vector<std::string> ids;
  auto run = [&] {
    Outcome o = SpawnToEnd(Request("service:batch", {"/bin/true"}, "cap_kill"));
    ASSERT_TRUE(o.status.ok()) << o.status.error_message();
    ids.push_back(o.events.front().started().id());
  };
  auto listed = [&] {
    std::vector<std::string> out;
    for (const auto& s : List()) out.push_back(s.id());
    std::sort(out.begin(), out.end());
    return out;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  for (int i = 0; i < 3; ++i) run();
  EXPECT_EQ(listed(), sorted({ids[1], ids[2]}));

  WriteConfig("exited_spawns_kept: 3\n");
  ASSERT_TRUE(Reload().ok());
  for (int i = 0; i < 2; ++i) run();
  EXPECT_EQ(listed(), sorted({ids[2], ids[3], ids[4]}));

  WriteConfig("exited_spawns_kept: 2000000\n");
  grpc::Status refused = Reload();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("exited_spawns_kept: at most 1000000"));
}

}  // namespace
}  // namespace secureos::capd
