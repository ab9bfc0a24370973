// containerd-lite for real: capd, sandboxd and containerd-lite on a temporary root, bundles
// made by `crun spec` around a busybox rootfs (Debian's busybox-static), driven through the
// API and through secctl. Needs root, cgroups and namespaces (tagged local).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/containerd_lite.grpc.pb.h"
#include "proto/oci_spec.pb.h"
#include "tests/process.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;
using ::testing::HasSubstr;
using ::testing::Not;
using test::Child;
using test::TempRoot;

constexpr uint32_t kPoolStart = 3000000;
constexpr uint32_t kPoolCount = 65536 * 8;

std::chrono::system_clock::time_point Deadline(int seconds = 30) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

class ContainerdLiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_cgroups_ = absl::StrCat("secureos-test/ctr-sbx-", ::getpid());
    test::InstallSecctl(root_);
    const std::string server = "server { socket_mode: \"0660\" event_ring_capacity: 4096 shutdown_timeout_ms: 2000 }\n";
    test::WriteFileOrDie(root_ / "etc/secureos/capd.conf",
                         server + "drift_check_interval_seconds: 60\n"
                                  "grantable_capabilities: \"cap_net_bind_service,cap_kill,cap_audit_write\"\n"
                                  "container_default_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n");
    test::WriteFileOrDie(root_ / "etc/secureos/sandboxd.conf",
                         absl::StrCat(server, "workload_uid: 65534\nid_map_count: 1\ncgroup_parent: \"",
                                      sandbox_cgroups_, "\"\ncontainer_id_start: ", kPoolStart,
                                      "\ncontainer_id_count: ", kPoolCount, "\n"));
    const std::string pool = absl::StrCat("containers:", kPoolStart, ":", kPoolCount, "\n");
    test::WriteFileOrDie(root_ / "etc/secureos/ctr.subuid", pool);
    test::WriteFileOrDie(root_ / "etc/secureos/ctr.subgid", pool);
    WriteCtrConfig("COMPLIANCE_MODE_WARN");
    ASSERT_TRUE(StartDaemon("capd", &capd_));
    ASSERT_TRUE(StartDaemon("sandboxd", &sandboxd_));
    ASSERT_TRUE(StartCtr());
  }

  void WriteCtrConfig(const std::string& mode) {
    test::WriteFileOrDie(root_ / "etc/secureos/containerd-lite.conf",
                         absl::StrCat("server { socket_mode: \"0660\" event_ring_capacity: 4096 shutdown_timeout_ms: 2000 }\n"
                                      "subuid_file: \"etc/secureos/ctr.subuid\"\nsubgid_file: \"etc/secureos/ctr.subgid\"\n"
                                      "compliance { level: COMPLIANCE_LEVEL_BASELINE mode: ", mode, " }\n"
                                      "threshold_percent: 50\nstate_dir: \"run/ctr\"\n"
                                      "network { bridge: \"", bridge_, "\" subnet: \"", subnet_, "\" }\n"));
  }

  void TearDown() override {
    if (ctr_) {
      for (const v1::ContainerState& c : List()) {
        v1::DeleteRequest d;
        d.set_id(c.id());
        d.set_force(true);
        v1::DeleteResponse r;
        grpc::ClientContext ctx;
        ctx.set_deadline(Deadline());
        (void)stub_->Delete(&ctx, d, &r);
      }
    }
    test::StopDaemons({&ctr_, &sandboxd_, &capd_});
    test::RemoveCgroupEverywhere(sandbox_cgroups_);
    // The bridge is host configuration that bridge mode makes when missing.
    (void)test::RunProcess({"/bin/busybox", "ip", "link", "del", bridge_});
    if (HasFailure()) std::cerr << test::DaemonLogs(root_, {"containerd-lite", "sandboxd", "capd"});
  }

  bool StartDaemon(const std::string& name, std::optional<Child>* out) {
    const absl::Status s = test::StartDaemonInto(root_, name, out);
    if (!s.ok()) ADD_FAILURE() << s;
    return s.ok();
  }

  bool StartCtr() {
    if (!StartDaemon("containerd-lite", &ctr_)) return false;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      stub_ = v1::ContainerdLite::NewStub(grpc::CreateChannel(
          "unix:" + (root_ / "run/secureos/containerd-lite.sock"), grpc::InsecureChannelCredentials()));
      common::v1::HealthResponse health;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      if (stub_->Health(&ctx, {}, &health).ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // A bundle made by `crun spec` around a busybox rootfs, with only `args` changed and
  // whatever `change` does to it.
  std::string Bundle(const std::string& name, const std::vector<std::string>& args,
                     const std::function<void(oci::v1::Spec*)>& change = nullptr) {
    const std::string dir = root_ / ("bundles/" + name);
    const std::string rootfs = dir + "/rootfs";
    test::WriteFileOrDie(rootfs + "/bin/busybox", test::ReadFileOrEmpty("/bin/busybox"), 0755);
    for (const char* applet : {"sh", "echo", "id", "sleep", "dd", "cat", "ls", "ip", "hostname", "true", "grep",
                               "httpd", "nc", "tail"}) {
      (void)::symlink("busybox", (rootfs + "/bin/" + applet).c_str());
    }
    for (const char* d : {"/proc", "/dev", "/sys", "/tmp", "/etc"}) ::mkdir((rootfs + d).c_str(), 0755);
    test::RunResult spec = test::RunProcess({"/usr/bin/crun", "spec", "--bundle", dir});
    EXPECT_EQ(spec.exit_code, 0) << spec.err;
    oci::v1::Spec s;
    const std::string json = test::ReadFileOrEmpty(dir + "/config.json");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
    s.mutable_process()->clear_args();
    for (const auto& a : args) s.mutable_process()->add_args(a);
    if (change) change(&s);
    std::string out;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(s, &out).ok());
    test::WriteFileOrDie(dir + "/config.json", out);
    return dir;
  }

  absl::StatusOr<v1::ContainerState> Create(const std::string& id, const std::string& bundle,
                                            v1::NetworkMode net = v1::NETWORK_MODE_UNSPECIFIED) {
    v1::CreateRequest r;
    r.set_id(id);
    r.set_bundle(bundle);
    r.set_network(net);
    v1::ContainerState s;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = stub_->Create(&ctx, r, &s);
    if (!st.ok()) return FromGrpc(st);
    return s;
  }

  template <typename Method>
  absl::StatusOr<v1::ContainerState> Call(Method method, const std::string& id) {
    v1::ContainerRef ref;
    ref.set_id(id);
    v1::ContainerState s;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = ((*stub_).*method)(&ctx, ref, &s);
    if (!st.ok()) return FromGrpc(st);
    return s;
  }
  absl::StatusOr<v1::ContainerState> Start(const std::string& id) { return Call(&v1::ContainerdLite::Stub::Start, id); }
  absl::StatusOr<v1::ContainerState> State(const std::string& id) { return Call(&v1::ContainerdLite::Stub::State, id); }

  absl::Status Kill(const std::string& id, int sig) {
    v1::KillRequest r;
    r.set_id(id);
    r.set_signal(sig);
    v1::KillResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return FromGrpc(stub_->Kill(&ctx, r, &resp));
  }

  std::vector<v1::ContainerState> List() {
    v1::ListResponse all;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(10));
    if (!stub_->List(&ctx, {}, &all).ok()) return {};
    return {all.containers().begin(), all.containers().end()};
  }

  absl::StatusOr<v1::ContainerStats> StatsOnce(const std::string& id) {
    v1::StatsRequest r;
    r.set_id(id);
    r.set_once(true);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto reader = stub_->Stats(&ctx, r);
    v1::ContainerStats s;
    const bool got = reader->Read(&s);
    grpc::Status st = reader->Finish();
    if (!st.ok()) return FromGrpc(st);
    if (!got) return absl::InternalError("no sample");
    return s;
  }

  // Waits until the container's state satisfies `done`.
  absl::StatusOr<v1::ContainerState> WaitFor(const std::string& id,
                                             const std::function<bool(const v1::ContainerState&)>& done,
                                             absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::StatusOr<v1::ContainerState> s;
    while (absl::Now() < deadline) {
      s = State(id);
      if (s.ok() && done(*s)) return s;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::DeadlineExceededError(absl::StrCat("waiting for ", id, ": last ", s.ok() ? s->DebugString() : s.status().ToString()));
  }

  // Runs the container to its end; stdout, stderr and its final state.
  struct RunResult {
    std::string out, err;
    v1::ContainerState exited;
    absl::Status status;
  };
  RunResult Run(const std::string& id, const std::string& bundle, bool keep = false,
                v1::NetworkMode net = v1::NETWORK_MODE_UNSPECIFIED) {
    v1::RunRequest r;
    r.mutable_create()->set_id(id);
    r.mutable_create()->set_bundle(bundle);
    r.mutable_create()->set_network(net);
    r.set_keep(keep);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(60));
    auto reader = stub_->Run(&ctx, r);
    RunResult out;
    v1::RunEvent e;
    while (reader->Read(&e)) {
      if (e.has_output()) (e.output().fd() == 2 ? out.err : out.out) += e.output().data();
      if (e.has_exited()) out.exited = e.exited();
    }
    out.status = FromGrpc(reader->Finish());
    return out;
  }

  std::vector<common::v1::Event> Events(common::v1::EventKind kind) {
    common::v1::SubscribeRequest req;
    req.set_from_sequence(1);
    grpc::ClientContext ctx;  // The stream follows: read what is there for half a second.
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    auto reader = stub_->Subscribe(&ctx, req);
    common::v1::SubscribeResponse resp;
    std::vector<common::v1::Event> out;
    while (reader->Read(&resp)) {
      if (resp.has_event() && resp.event().kind() == kind) out.push_back(resp.event());
    }
    (void)reader->Finish();
    return out;
  }

  std::string sandbox_cgroups_;
  const std::string bridge_ = absl::StrCat("sost", ::getpid() % 100000);
  const std::string subnet_ = absl::StrCat("10.251.", ::getpid() % 250, ".0/24");
  TempRoot root_;
  std::optional<Child> capd_, sandboxd_, ctr_;
  std::unique_ptr<v1::ContainerdLite::Stub> stub_;
};

TEST_F(ContainerdLiteTest, CrunSpecBundleRunsWithOnlyItsArgsChanged) {
  const std::string bundle = Bundle("hello", {"sh", "-c", "echo hello from $(id -u):$(id -g) on $(hostname); echo oops >&2; exit 7"});
  RunResult r = Run("hello", bundle);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out, "hello from 0:0 on crun\n");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(r.exited.status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_EQ(r.exited.exit_code(), 7);
  EXPECT_EQ(r.exited.exit_reason(), "exited");
  EXPECT_TRUE(r.exited.user_namespace_added());
  EXPECT_TRUE(List().empty());  // Run deletes it (no --keep).
  EXPECT_EQ(State("hello").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ContainerdLiteTest, ACreatedContainerHasItsProcessWaitingBeforeExec) {
  const std::string bundle = Bundle("waiting", {"sh", "-c", "echo started"});
  auto created = Create("waiting", bundle);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_GT(created->pid(), 0);
  const std::string proc = absl::StrCat("/proc/", created->pid());
  // Set up (its own user namespace, its uid) but not yet the bundle's program.
  EXPECT_THAT(test::ReadFileOrEmpty(proc + "/status"), HasSubstr(absl::StrCat("Uid:\t", kPoolStart)));
  EXPECT_THAT(test::ReadFileOrEmpty(proc + "/cmdline"), Not(HasSubstr("echo started")));
  char self_ns[64] = {}, its_ns[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/user", self_ns, sizeof(self_ns) - 1), 0);
  ASSERT_GT(::readlink((proc + "/ns/user").c_str(), its_ns, sizeof(its_ns) - 1), 0);
  EXPECT_STRNE(self_ns, its_ns);
  EXPECT_EQ(test::ReadFileOrEmpty(root_ / "run/ctr/waiting.log"), "");
  // Start lets it exec; its output comes now.
  auto running = Start("waiting");
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->pid(), created->pid());
  ASSERT_TRUE(WaitFor("waiting", [](const v1::ContainerState& s) { return s.status() == v1::CONTAINER_STATUS_STOPPED; }).ok());
  EXPECT_EQ(test::ReadFileOrEmpty(root_ / "run/ctr/waiting.log"), "started\n");
  // Killing a created one ends its waiting process.
  auto second = Create("doomed", bundle);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(Kill("doomed", SIGTERM).ok());
  EXPECT_EQ(State("doomed")->status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_NE(::kill(second->pid(), 0), 0) << "the waiting process is gone";
}

TEST_F(ContainerdLiteTest, ContainerRootIsAnUnprivilegedHostUidFromThePool) {
  const std::string bundle = Bundle("sleeper", {"sleep", "1000"});
  ASSERT_TRUE(Create("sleeper", bundle).ok());
  auto running = Start("sleeper");
  ASSERT_TRUE(running.ok()) << running.status();
  const std::string status = test::ReadFileOrEmpty(absl::StrCat("/proc/", running->pid(), "/status"));
  EXPECT_THAT(status, HasSubstr(absl::StrCat("Uid:\t", kPoolStart, "\t", kPoolStart)));
  EXPECT_THAT(status, HasSubstr(absl::StrCat("Gid:\t", kPoolStart, "\t", kPoolStart)));
  EXPECT_EQ(test::ReadFileOrEmpty(absl::StrCat("/proc/", running->pid(), "/uid_map")),
            absl::StrCat("         0    ", kPoolStart, "      65536\n"));
  // A second container gets the next range.
  ASSERT_TRUE(Create("second", bundle).ok());
  EXPECT_EQ(State("second")->uid_mappings(0).host_id(), kPoolStart + 65536);
}

TEST_F(ContainerdLiteTest, OciLifecycleThroughSecctl) {
  const std::string bundle = Bundle("life", {"sleep", "1000"});
  auto secctl = [&](std::vector<std::string> args) { return test::RunSecctl(root_, args); };
  test::RunResult create = secctl({"ctr", "create", "life", "--bundle", bundle});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  EXPECT_THAT(create.err, HasSubstr("PSS-B-004"));  // Warned, not refused.
  test::RunResult state = secctl({"ctr", "state", "life"});
  ASSERT_EQ(state.exit_code, 0) << state.err;
  EXPECT_THAT(state.out, HasSubstr("\"status\": \"created\""));
  EXPECT_THAT(state.out, Not(HasSubstr("\"pid\": 0,")));  // The process exists, waiting to exec.
  EXPECT_THAT(state.out, HasSubstr(absl::StrCat("\"bundle\": \"", bundle, "\"")));
  EXPECT_THAT(state.out, HasSubstr("\"ociVersion\": \"1.0.2\""));
  ASSERT_EQ(secctl({"ctr", "start", "life"}).exit_code, 0);
  test::RunResult twice = secctl({"ctr", "start", "life"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_THAT(twice.err, HasSubstr("cannot start container \"life\": it is running"));
  state = secctl({"ctr", "state", "life"});
  EXPECT_THAT(state.out, HasSubstr("\"status\": \"running\""));
  test::RunResult del = secctl({"ctr", "delete", "life"});
  EXPECT_NE(del.exit_code, 0);
  EXPECT_THAT(del.err, HasSubstr("that is not stopped: running"));
  test::RunResult list = secctl({"ctr", "list"});
  EXPECT_THAT(list.out, HasSubstr("life  running"));
  test::RunResult killed = secctl({"--json", "ctr", "kill", "life", "KILL"});
  ASSERT_EQ(killed.exit_code, 0) << killed.err;
  EXPECT_EQ(killed.out, "{}\n");  // Quiet as runc, but with --json every command answers in JSON.
  ASSERT_TRUE(WaitFor("life", [](const v1::ContainerState& s) { return s.status() == v1::CONTAINER_STATUS_STOPPED; }).ok());
  state = secctl({"ctr", "state", "life"});
  EXPECT_THAT(state.out, HasSubstr("\"status\": \"stopped\""));
  EXPECT_THAT(state.out, HasSubstr("\"pid\": 0"));
  test::RunResult kill_stopped = secctl({"ctr", "kill", "life"});
  EXPECT_NE(kill_stopped.exit_code, 0);
  EXPECT_THAT(kill_stopped.err, HasSubstr("container \"life\" is not running (stopped)"));
  test::RunResult deleted = secctl({"ctr", "delete", "life"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "");
  EXPECT_EQ(secctl({"ctr", "state", "life"}).exit_code, 6);  // Not found.
  // run streams the output and exits with the container's code.
  test::RunResult run = secctl({"ctr", "run", "once", "--bundle", Bundle("once", {"sh", "-c", "echo ran; exit 3"})});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "ran\n");
}

TEST_F(ContainerdLiteTest, CheckListsFindingsAndEnforceRefuses) {
  const std::string bundle = Bundle("pss", {"true"});
  test::RunResult check = test::RunSecctl(root_, {"ctr", "check", "--bundle", bundle, "--pss_level", "restricted"});
  EXPECT_EQ(check.exit_code, 1) << check.err;
  for (const char* rule : {"PSS-B-004", "PSS-R-003", "PSS-R-004", "PSS-R-005", "PSS-R-006"}) {
    EXPECT_THAT(check.out, HasSubstr(rule));
  }
  const std::string clean = Bundle("clean", {"true"}, [](oci::v1::Spec* s) {
    s->mutable_linux()->add_namespaces()->set_type("user");
  });
  check = test::RunSecctl(root_, {"ctr", "check", "--bundle", clean});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_THAT(check.out, HasSubstr("compliant: no findings"));
  // Enforce: the finding refuses the container, and is an event.
  WriteCtrConfig("COMPLIANCE_MODE_ENFORCE");
  ASSERT_EQ(test::RunSecctl(root_, {"reload", "containerd-lite"}).exit_code, 0);
  auto refused = Create("pss", bundle);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("PSS-B-004"));
  EXPECT_FALSE(Events(common::v1::EVENT_KIND_COMPLIANCE_FINDING).empty());
  EXPECT_FALSE(Events(common::v1::EVENT_KIND_CONTAINER_REFUSED).empty());
  EXPECT_TRUE(Create("clean", clean).ok());
}

TEST_F(ContainerdLiteTest, MemoryHogIsOomKilledAndReported) {
  const std::string bundle = Bundle("hog", {"dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1"},
                                    [](oci::v1::Spec* s) {
                                      s->mutable_linux()->mutable_resources()->mutable_memory()->set_limit(32 << 20);
                                    });
  RunResult r = Run("hog", bundle, /*keep=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.exited.exit_reason(), "oom");
  EXPECT_EQ(r.exited.signal(), SIGKILL);
  auto exited = Events(common::v1::EVENT_KIND_CONTAINER_EXITED);
  ASSERT_FALSE(exited.empty());
  EXPECT_EQ(exited.back().container().reason(), "oom");
  EXPECT_THAT(exited.back().message(), HasSubstr("was OOM-killed"));
}

TEST_F(ContainerdLiteTest, StatsTrackAKnownAllocationWithinTenPercent) {
  constexpr int kMiB = 40;
  const std::string bundle = Bundle("fill", {"sh", "-c", absl::StrCat("dd if=/dev/zero of=/dev/shm/fill bs=1M count=", kMiB,
                                                                       " 2>/dev/null; echo filled; sleep 1000")},
                                    [](oci::v1::Spec* s) {
                                      s->mutable_linux()->mutable_resources()->mutable_memory()->set_limit(64 << 20);
                                      s->mutable_linux()->mutable_resources()->mutable_pids()->set_limit(16);
                                    });
  ASSERT_TRUE(Create("fill", bundle).ok());
  ASSERT_TRUE(Start("fill").ok());
  const std::string log = root_ / "run/ctr/fill.log";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!absl::StrContains(test::ReadFileOrEmpty(log), "filled") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_THAT(test::ReadFileOrEmpty(log), HasSubstr("filled"));
  auto s = StatsOnce("fill");
  ASSERT_TRUE(s.ok()) << s.status();
  const double expected = kMiB << 20;
  EXPECT_NEAR(static_cast<double>(s->memory_working_set_bytes()), expected, expected * 0.10) << s->DebugString();
  EXPECT_EQ(s->memory_limit_bytes(), 64u << 20);
  EXPECT_EQ(s->pids_limit(), 16u);
  EXPECT_EQ(s->pids(), 1u);  // sh execs its last command: sleep alone.
  EXPECT_EQ(s->oom_kills(), 0u);
  // 40 of 64 MiB is over the configured 50%: one threshold event.
  const absl::Time until = absl::Now() + absl::Seconds(5);
  std::vector<common::v1::Event> crossed;
  while (crossed.empty() && absl::Now() < until) {
    crossed = Events(common::v1::EVENT_KIND_RESOURCE_THRESHOLD);
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(crossed.size(), 1u);
  EXPECT_EQ(crossed[0].container().resource(), "memory");
  EXPECT_EQ(crossed[0].container().id(), "fill");
  // secctl ctr stats prints the same.
  test::RunResult line = test::RunSecctl(root_, {"ctr", "stats", "fill", "--once"});
  EXPECT_EQ(line.exit_code, 0) << line.err;
  EXPECT_THAT(line.out, HasSubstr("fill  mem 4"));
  EXPECT_THAT(line.out, HasSubstr("/ 64.0 MiB"));
}

TEST_F(ContainerdLiteTest, KillNineRestartLosesNoContainer) {
  const std::string bundle = Bundle("survivor", {"sleep", "1000"});
  ASSERT_TRUE(Create("survivor", bundle).ok());
  auto running = Start("survivor");
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE(Create("waiting", bundle).ok());
  ctr_->Signal(SIGKILL);
  ASSERT_TRUE(ctr_->Wait(absl::Seconds(10)).has_value());
  ctr_.reset();
  EXPECT_EQ(::kill(running->pid(), 0), 0) << "the container died with containerd-lite";
  ::unlink((root_ / "run/secureos/containerd-lite.sock").c_str());
  ASSERT_TRUE(StartCtr());
  auto state = State("survivor");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status(), v1::CONTAINER_STATUS_RUNNING);
  EXPECT_EQ(state->pid(), running->pid());
  EXPECT_EQ(State("waiting")->status(), v1::CONTAINER_STATUS_CREATED);
  auto stats = StatsOnce("survivor");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GT(stats->memory_working_set_bytes(), 0u);
  ASSERT_TRUE(Kill("survivor", SIGKILL).ok());
  auto stopped = WaitFor("survivor", [](const v1::ContainerState& s) { return s.status() == v1::CONTAINER_STATUS_STOPPED; });
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->signal(), SIGKILL);
  // The ranges survived: "waiting" still holds the second one, a new container the third.
  ASSERT_TRUE(Start("waiting").ok());
  ASSERT_TRUE(Create("third", bundle).ok());
  EXPECT_EQ(State("third")->uid_mappings(0).host_id(), kPoolStart + 2 * 65536);
}

TEST_F(ContainerdLiteTest, NoneNetworkHasNoInterfaceUpAndLoopbackHasLo) {
  const std::string bundle = Bundle("net", {"ip", "link", "show"});
  RunResult loopback = Run("lo", bundle);
  ASSERT_TRUE(loopback.status.ok()) << loopback.status;
  EXPECT_THAT(loopback.out, HasSubstr("1: lo: <LOOPBACK,UP,LOWER_UP>")) << loopback.err;
  EXPECT_THAT(loopback.out, Not(HasSubstr("2: "))) << "only lo";
  RunResult none = Run("none", bundle, false, v1::NETWORK_MODE_NONE);
  ASSERT_TRUE(none.status.ok()) << none.status;
  EXPECT_THAT(none.out, HasSubstr("1: lo: <LOOPBACK>")) << none.err;
  EXPECT_THAT(none.out, Not(HasSubstr("2: ")));
}

TEST_F(ContainerdLiteTest, ExecJoinsTheRunningContainer) {
  const std::string bundle = Bundle("host", {"sh", "-c", "echo $$ > /dev/shm/first; exec sleep 1000"},
                                    [](oci::v1::Spec* s) { s->set_hostname("inside"); });
  ASSERT_TRUE(Create("host", bundle).ok());
  auto running = Start("host");
  ASSERT_TRUE(running.ok()) << running.status();
  // In its pid namespace (it sees pid 1, the container's process), its mount namespace
  // (the /dev/shm file the first process wrote), its uts namespace, its ids and cgroup.
  v1::ExecRequest r;
  r.set_id("host");
  for (const char* a : {"sh", "-c", "sleep 0.2; cat /dev/shm/first; hostname; id -u; ls /proc | grep -c '^[0-9]'; [ \"$(cat /proc/1/cgroup)\" = \"$(cat /proc/self/cgroup)\" ] && echo same-cgroup"}) {
    r.add_args(a);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto reader = stub_->Exec(&ctx, r);
  v1::RunEvent e;
  std::string out;
  std::optional<v1::ExecStarted> started;
  std::optional<v1::ExecExited> exited;
  while (reader->Read(&e)) {
    if (e.has_exec_started()) started = e.exec_started();
    if (e.has_output()) out += e.output().data();
    if (e.has_exec_exited()) exited = e.exec_exited();
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->args(0), "/bin/sh");  // Looked up in the container's PATH.
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->exit_code(), 0) << out;
  // pid 1 wrote /dev/shm/first; 4 processes: sleep (pid 1), the exec's sh, its ls and grep.
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << out;
  EXPECT_EQ(lines[0], "1");
  EXPECT_EQ(lines[1], "inside");
  EXPECT_EQ(lines[2], "0");
  EXPECT_EQ(lines[3], "4");
  EXPECT_EQ(lines[4], "same-cgroup");
  const std::string status = test::ReadFileOrEmpty(absl::StrCat("/proc/", started->pid(), "/status"));
  EXPECT_TRUE(status.empty()) << "the exec'd process ended";
  // secctl ctr exec, with its exit code; a stopped container refuses.
  test::RunResult code = test::RunSecctl(root_, {"ctr", "exec", "host", "--", "sh", "-c", "echo via secctl; exit 4"});
  EXPECT_EQ(code.exit_code, 4) << code.err;
  EXPECT_EQ(code.out, "via secctl\n");
  ASSERT_TRUE(Kill("host", SIGKILL).ok());
  ASSERT_TRUE(WaitFor("host", [](const v1::ContainerState& s) { return s.status() == v1::CONTAINER_STATUS_STOPPED; }).ok());
  test::RunResult refused = test::RunSecctl(root_, {"ctr", "exec", "host", "--", "true"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("cannot exec in container \"host\": it is stopped"));
}

TEST_F(ContainerdLiteTest, BridgedContainersReachEachOtherAndOthersReachNothing) {
  const std::string server = Bundle("web", {"httpd", "-f", "-p", "8000", "-h", "/www"});
  test::WriteFileOrDie(server + "/rootfs/www/index.html", "hello over the bridge\n");
  auto created = Create("web", server, v1::NETWORK_MODE_BRIDGE);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->network(), v1::NETWORK_MODE_BRIDGE);
  const std::string prefix = subnet_.substr(0, subnet_.rfind(".0/"));
  EXPECT_EQ(created->address(), prefix + ".2/24");
  ASSERT_TRUE(Start("web").ok());
  // busybox's wget crashes (on the host too); nc speaks the HTTP.
  const std::string get = absl::StrCat("printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ", prefix,
                                       ".2 8000 | tail -n 1");
  const std::string client = Bundle("client", {"sh", "-c", "ip -o -4 addr show eth0 | grep -o 'inet [0-9./]*'; "
                                                           "for i in 1 2 3 4 5 6 7 8 9 10; do out=$(" + get +
                                                           ") && [ -n \"$out\" ] && echo \"$out\" && exit 0; "
                                                           "sleep 0.2; done; exit 1"});
  RunResult bridged = Run("client", client, false, v1::NETWORK_MODE_BRIDGE);
  ASSERT_TRUE(bridged.status.ok()) << bridged.status;
  EXPECT_EQ(bridged.exited.exit_code(), 0) << bridged.out << bridged.err;
  EXPECT_EQ(bridged.out, absl::StrCat("inet ", prefix, ".3/24\nhello over the bridge\n"));
  const std::string lonely = Bundle("lonely", {"sh", "-c", get});
  for (v1::NetworkMode mode : {v1::NETWORK_MODE_NONE, v1::NETWORK_MODE_LOOPBACK}) {
    RunResult isolated = Run("lonely", lonely, false, mode);
    ASSERT_TRUE(isolated.status.ok()) << isolated.status;
    EXPECT_EQ(isolated.out, "") << isolated.err;
    EXPECT_THAT(isolated.err, HasSubstr("nc: ")) << "nc could not connect";
  }
  // The address is the container's until it is deleted; then the next one gets it.
  ASSERT_TRUE(Kill("web", SIGKILL).ok());
  ASSERT_TRUE(WaitFor("web", [](const v1::ContainerState& s) { return s.status() == v1::CONTAINER_STATUS_STOPPED; }).ok());
  EXPECT_EQ(State("web")->address(), prefix + ".2/24");
  v1::DeleteRequest d;
  d.set_id("web");
  v1::DeleteResponse r;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ASSERT_TRUE(stub_->Delete(&ctx, d, &r).ok());
  auto next = Create("next", server, v1::NETWORK_MODE_BRIDGE);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->address(), prefix + ".2/24");
}

TEST_F(ContainerdLiteTest, BundleOfAnotherUserIsRefused) {
  const std::string bundle = Bundle("theirs", {"true"});
  ASSERT_EQ(::chown(bundle.c_str(), 4321, 4321), 0);
  auto c = Create("theirs", bundle);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(c.status().message(), HasSubstr("belongs to uid 4321"));
}

}  // namespace
}  // namespace secureos::ctr
