// svcd for real: capd, sandboxd and svcd on a temporary root, services that fail, hang,
// ignore SIGTERM, miss their watchdog, run out of memory, and survive svcd's kill -9.
// Needs root, cgroups and namespaces (tagged local).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/svcd.grpc.pb.h"
#include "tests/process.h"

namespace secureos::svcd {
namespace {

using ::testing::HasSubstr;
using common::v1::Event;
using test::Child;
using test::TempRoot;

std::chrono::system_clock::time_point Deadline(int seconds = 60) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

absl::Time TimeOf(const Event& e) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(e.time()));
}

class SvcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    svcd_cgroups_ = absl::StrCat("secureos-test/svcd-", ::getpid());
    sandbox_cgroups_ = absl::StrCat("secureos-test/svcd-sbx-", ::getpid());
    test::InstallSecctl(root_);
    test::WriteFileOrDie(probe(), test::ReadFileOrEmpty(test::Runfile("capd/testing/cap_probe")), 0755);
    test::WriteFileOrDie(root_ / "etc/secureos/capd.conf",
                         "server { socket_mode: \"0660\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\ndrift_check_interval_seconds: 60\n"
                         "grantable_capabilities: \"cap_net_bind_service,cap_kill\"\n");
    test::WriteFileOrDie(root_ / "etc/secureos/sandboxd.conf",
                         absl::StrCat("server { socket_mode: \"0660\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\nworkload_uid: 65534\nid_map_count: 1\n"
                                      "cgroup_parent: \"", sandbox_cgroups_, "\"\n"));
    test::WriteFileOrDie(root_ / "etc/secureos/svcd.conf",
                         absl::StrCat("server { socket_mode: \"0666\" event_ring_capacity: 65536 shutdown_timeout_ms: 2000 }\n"
                                      "services_dir: \"etc/secureos/services\"\nlog_dir: \"var/log/services\"\n"
                                      "log_max_bytes: 65536\nlog_files_kept: 2\nverify_delay_ms: 100\n"
                                      "cgroup_parent: \"", svcd_cgroups_, "\"\n"));
    ASSERT_TRUE(StartDaemon("capd", &capd_));
    ASSERT_TRUE(StartDaemon("sandboxd", &sandboxd_));
    ASSERT_TRUE(StartSvcd());
  }

  void TearDown() override {
    if (svcd_) {
      v1::ListServicesResponse all;
      grpc::ClientContext ctx;
      ctx.set_deadline(Deadline(10));
      if (stub_->ListServices(&ctx, {}, &all).ok()) {
        for (const auto& s : all.services()) (void)Call(&v1::Svcd::Stub::StopService, s.name());
      }
    }
    test::StopDaemons({&svcd_, &sandboxd_, &capd_});
    test::RemoveCgroupEverywhere(svcd_cgroups_);
    test::RemoveCgroupEverywhere(sandbox_cgroups_);
    if (HasFailure()) std::cerr << test::DaemonLogs(root_, {"svcd", "capd", "sandboxd"});
  }

  bool StartDaemon(const std::string& name, std::optional<Child>* out) {
    const absl::Status s = test::StartDaemonInto(root_, name, out);
    if (!s.ok()) ADD_FAILURE() << s;
    return s.ok();
  }

  bool StartSvcd() {
    if (!StartDaemon("svcd", &svcd_)) return false;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      stub_ = v1::Svcd::NewStub(grpc::CreateChannel("unix:" + (root_ / "run/secureos/svcd.sock"),
                                                    grpc::InsecureChannelCredentials()));
      common::v1::HealthResponse health;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      if (stub_->Health(&ctx, {}, &health).ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string probe() const { return root_ / "bin/cap_probe"; }

  v1::ServiceDefinition Def(const std::string& name, std::vector<std::string> argv, int level = 1) {
    v1::ServiceDefinition d;
    d.set_name(name);
    for (auto& a : argv) d.add_argv(a);
    d.set_user("nobody");
    d.set_level(level);
    return d;
  }

  absl::StatusOr<v1::ServiceStatus> Add(const v1::ServiceDefinition& d) {
    v1::AddServiceRequest req;
    *req.mutable_definition() = d;
    v1::ServiceStatus s;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = stub_->AddService(&ctx, req, &s);
    if (!st.ok()) return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
    return s;
  }

  template <typename Method>
  absl::StatusOr<v1::ServiceStatus> Call(Method method, const std::string& name) {
    v1::ServiceRef ref;
    ref.set_name(name);
    v1::ServiceStatus s;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = ((*stub_).*method)(&ctx, ref, &s);
    if (!st.ok()) return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
    return s;
  }
  absl::StatusOr<v1::ServiceStatus> Start(const std::string& n) { return Call(&v1::Svcd::Stub::StartService, n); }
  absl::StatusOr<v1::ServiceStatus> Stop(const std::string& n) { return Call(&v1::Svcd::Stub::StopService, n); }
  v1::ServiceStatus Status(const std::string& n) {
    absl::StatusOr<v1::ServiceStatus> s = Call(&v1::Svcd::Stub::GetStatus, n);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : v1::ServiceStatus();
  }

  // Polls the status of `name` until `pred` holds.
  template <typename Pred>
  bool WaitFor(const std::string& name, Pred pred, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (pred(Status(name))) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // Every svcd event so far (of `name` when given).
  std::vector<Event> Events(const std::string& name = "") {
    common::v1::SubscribeRequest req;
    req.set_from_sequence(1);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    auto reader = stub_->Subscribe(&ctx, req);
    std::vector<Event> out;
    common::v1::SubscribeResponse r;
    while (reader->Read(&r)) {
      if (r.has_event() && (name.empty() || r.event().service().service() == name)) out.push_back(r.event());
    }
    return out;
  }
  static int Count(const std::vector<Event>& events, common::v1::EventKind kind) {
    int n = 0;
    for (const Event& e : events) n += e.kind() == kind;
    return n;
  }
  int Starts(const std::string& name) {
    std::vector<Event> e = Events(name);
    return Count(e, common::v1::EVENT_KIND_SERVICE_STARTED) + Count(e, common::v1::EVENT_KIND_SERVICE_RESTARTED);
  }

  test::RunResult Secctl(const std::vector<std::string>& args) { return test::RunSecctl(root_, args); }

  TempRoot root_;
  std::string svcd_cgroups_, sandbox_cgroups_;
  std::optional<Child> capd_, sandboxd_, svcd_;
  std::unique_ptr<v1::Svcd::Stub> stub_;
};

// systemd's own test (test-execute's start limit): burst 3 in the interval, a service that
// always fails is started exactly 3 times, then failed, and not started again after twice
// the interval.
TEST_F(SvcdTest, StartLimitStopsAServiceThatAlwaysFails) {
  v1::ServiceDefinition d = Def("crasher", {"/bin/false"});
  d.set_restart(v1::RESTART_POLICY_ALWAYS);
  d.mutable_restart_backoff()->set_initial_ms(0);
  d.mutable_start_limit()->set_burst(3);
  d.mutable_start_limit()->set_interval_ms(2000);
  ASSERT_TRUE(Add(d).ok());
  (void)Start("crasher");
  ASSERT_TRUE(WaitFor("crasher", [](const v1::ServiceStatus& s) { return s.state() == v1::SERVICE_STATE_FAILED; }));
  EXPECT_EQ(Status("crasher").result(), "start-limit-hit");
  EXPECT_EQ(Starts("crasher"), 3);
  absl::SleepFor(absl::Milliseconds(4000));
  EXPECT_EQ(Starts("crasher"), 3);
  EXPECT_EQ(Status("crasher").state(), v1::SERVICE_STATE_FAILED);
  EXPECT_EQ(Count(Events("crasher"), common::v1::EVENT_KIND_SERVICE_START_LIMIT), 1);
  // reset-failed, and it may start again.
  ASSERT_TRUE(Call(&v1::Svcd::Stub::ResetFailed, "crasher").ok());
  EXPECT_EQ(Status("crasher").state(), v1::SERVICE_STATE_INACTIVE);
}

TEST_F(SvcdTest, OnFailureLeavesACleanExitAloneAlwaysRestartsItWithGrowingBackoff) {
  v1::ServiceDefinition once = Def("once", {"/bin/true"});
  once.set_restart(v1::RESTART_POLICY_ON_FAILURE);
  ASSERT_TRUE(Add(once).ok());
  (void)Start("once");
  ASSERT_TRUE(WaitFor("once", [](const v1::ServiceStatus& s) { return s.state() == v1::SERVICE_STATE_INACTIVE; }));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Starts("once"), 1);
  EXPECT_EQ(Status("once").last_exit().code(), 0);

  v1::ServiceDefinition again = Def("again", {"/bin/true"});
  again.set_restart(v1::RESTART_POLICY_ALWAYS);
  again.mutable_restart_backoff()->set_initial_ms(100);
  again.mutable_restart_backoff()->set_multiplier(2);
  again.mutable_restart_backoff()->set_max_ms(1000);
  again.mutable_start_limit()->set_interval_ms(0);  // No start limit.
  ASSERT_TRUE(Add(again).ok());
  (void)Start("again");
  ASSERT_TRUE(WaitFor("again", [this](const v1::ServiceStatus&) { return Starts("again") >= 5; }));
  ASSERT_TRUE(Stop("again").ok());
  // Delay = from each exit to the next restart event; configured 100, 200, 400, 800 ms.
  std::vector<Event> events = Events("again");
  std::vector<absl::Duration> delays;
  std::optional<absl::Time> exited;
  for (const Event& e : events) {
    if (e.kind() == common::v1::EVENT_KIND_SERVICE_EXITED) exited = TimeOf(e);
    if (e.kind() == common::v1::EVENT_KIND_SERVICE_RESTARTED && exited) delays.push_back(TimeOf(e) - *exited);
  }
  ASSERT_GE(delays.size(), 4u);
  const int64_t expected[] = {100, 200, 400, 800};
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(delays[i], absl::Milliseconds(expected[i])) << i;
    EXPECT_LT(delays[i], absl::Milliseconds(expected[i] + 150)) << i;  // Restart within ~10 ms; slack for CI.
  }
}

TEST_F(SvcdTest, AServiceThatIgnoresSigtermIsKilledAtTheStopTimeout) {
  v1::ServiceDefinition d = Def("stubborn", {"/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.1; done"});
  d.set_stop_timeout_ms(700);
  ASSERT_TRUE(Add(d).ok());
  ASSERT_TRUE(Start("stubborn").ok());
  absl::SleepFor(absl::Milliseconds(300));  // The trap is set.
  const absl::Time before = absl::Now();
  absl::StatusOr<v1::ServiceStatus> s = Stop("stubborn");
  const absl::Duration took = absl::Now() - before;
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->state(), v1::SERVICE_STATE_INACTIVE);
  EXPECT_EQ(s->last_exit().signal(), SIGKILL);
  EXPECT_EQ(s->last_exit().reason(), "stopped");
  EXPECT_FALSE(s->last_exit().failure());
  EXPECT_GE(took, absl::Milliseconds(700));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_EQ(Count(Events("stubborn"), common::v1::EVENT_KIND_SERVICE_STOPPED), 1);
}

TEST_F(SvcdTest, AMissedWatchdogRestartsAndReadinessGatesDependents) {
  v1::ServiceDefinition dog = Def("dog", {"/bin/sleep", "1000"});
  dog.set_watchdog_ms(300);
  dog.set_restart(v1::RESTART_POLICY_ON_FAILURE);
  dog.mutable_restart_backoff()->set_initial_ms(0);
  ASSERT_TRUE(Add(dog).ok());
  ASSERT_TRUE(Start("dog").ok());
  ASSERT_TRUE(WaitFor("dog", [](const v1::ServiceStatus& s) { return s.restarts() >= 1; }));
  v1::ServiceStatus s = Status("dog");
  EXPECT_EQ(s.last_exit().reason(), "watchdog");
  EXPECT_EQ(s.last_exit().signal(), SIGABRT);
  EXPECT_TRUE(s.last_exit().failure());

  // db sends READY=1 after 0.5 s; app requires it and must not start before.
  v1::ServiceDefinition db = Def("db", {"/bin/sh", "-c", "sleep 0.5; /usr/bin/systemd-notify --ready; exec sleep 1000"});
  db.set_readiness(v1::READINESS_NOTIFY);
  ASSERT_TRUE(Add(db).ok());
  v1::ServiceDefinition app = Def("app", {"/bin/sleep", "1000"});
  app.add_requires("db");
  ASSERT_TRUE(Add(app).ok());
  absl::StatusOr<v1::ServiceStatus> started = Start("app");
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->state(), v1::SERVICE_STATE_RUNNING);
  EXPECT_EQ(Status("db").state(), v1::SERVICE_STATE_RUNNING);
  std::optional<absl::Time> db_ready, app_started;
  for (const Event& e : Events()) {
    if (e.service().service() == "db" && e.kind() == common::v1::EVENT_KIND_SERVICE_READY) db_ready = TimeOf(e);
    if (e.service().service() == "app" && e.kind() == common::v1::EVENT_KIND_SERVICE_STARTED) app_started = TimeOf(e);
  }
  ASSERT_TRUE(db_ready && app_started);
  EXPECT_LE(*db_ready, *app_started);
  // Stopping db stops app first.
  ASSERT_TRUE(Stop("db").ok());
  EXPECT_EQ(Status("app").state(), v1::SERVICE_STATE_INACTIVE);
}

TEST_F(SvcdTest, LevelOneBindsAPrivilegedPortWithExactlyItsCapabilityAndLevelFourIsConfined) {
  ASSERT_EQ(Secctl({"cap", "grant", "service:web1", "cap_net_bind_service"}).exit_code, 0);
  // A privileged port of its own on the host's loopback (tests run side by side; capd's
  // binds 80).
  const std::string port = absl::StrCat(600 + ::getpid() % 400);
  v1::ServiceDefinition l1 = Def("web1", {probe(), "serve", port});
  l1.set_capabilities("cap_net_bind_service");
  ASSERT_TRUE(Add(l1).ok());
  absl::StatusOr<v1::ServiceStatus> s = Start("web1");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->state(), v1::SERVICE_STATE_RUNNING) << s->DebugString();
  const std::string status = test::ReadFileOrEmpty(absl::StrCat("/proc/", s->pid(), "/status"));
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_THAT(status, HasSubstr(absl::StrCat(set, ":\t0000000000000400"))) << status;
  }
  EXPECT_THAT(status, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(status, HasSubstr("Uid:\t65534\t65534\t65534\t65534"));
  ASSERT_TRUE(WaitFor("web1", [](const v1::ServiceStatus& st) { return st.verification().checks_size() > 0; }));
  EXPECT_TRUE(Status("web1").verification().ok()) << Status("web1").verification().DebugString();
  ASSERT_TRUE(WaitFor("web1", [this](const v1::ServiceStatus&) {
    return test::ReadFileOrEmpty(root_ / "var/log/services/web1.log").find("serving") != std::string::npos;
  }));

  ASSERT_EQ(Secctl({"cap", "grant", "sandbox:web4", "cap_net_bind_service"}).exit_code, 0);
  v1::ServiceDefinition l4 = Def("web4", {probe(), "serve", "80"}, 4);
  l4.set_capabilities("cap_net_bind_service");
  l4.mutable_overrides()->add_read_only_paths(root_ / "bin");
  // Level 4's own profile ("strict") has no sockets but sd_notify's; a server names one
  // that adds what it needs (still strict underneath, as level 4 requires).
  test::WriteFileOrDie(root_ / "etc/net.profile",
                       "base: \"strict\"\nrules { action: SECCOMP_ACTION_ALLOW syscalls: [\"socket\", \"bind\", "
                       "\"listen\", \"pause\"] }\n");
  l4.mutable_overrides()->set_seccomp_profile(root_ / "etc/net.profile");
  // The probe is pid 1 of its pid namespace, where SIGTERM without a handler does nothing:
  // the stop ends in SIGKILL at this timeout (as `docker stop` without --init).
  l4.set_stop_timeout_ms(500);
  absl::StatusOr<v1::ServiceStatus> added4 = Add(l4);
  ASSERT_TRUE(added4.ok()) << added4.status();
  absl::StatusOr<v1::ServiceStatus> s4 = Start("web4");
  ASSERT_TRUE(s4.ok()) << s4.status();
  ASSERT_EQ(s4->state(), v1::SERVICE_STATE_RUNNING) << s4->DebugString();
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_EQ(::kill(s4->pid(), 0), 0) << Status("web4").DebugString() << "\nlog: "
                                      << test::ReadFileOrEmpty(root_ / "var/log/services/web4.log");
  for (const char* ns : {"net", "user"}) {
    struct stat mine, host;
    ASSERT_EQ(::stat(absl::StrCat("/proc/", s4->pid(), "/ns/", ns).c_str(), &mine), 0);
    ASSERT_EQ(::stat(absl::StrCat("/proc/self/ns/", ns).c_str(), &host), 0);
    EXPECT_NE(mine.st_ino, host.st_ino) << ns;
  }
  ASSERT_TRUE(WaitFor("web4", [this](const v1::ServiceStatus&) {
    return test::ReadFileOrEmpty(root_ / "var/log/services/web4.log").find("serving") != std::string::npos;
  })) << test::ReadFileOrEmpty(root_ / "var/log/services/web4.log");
  ASSERT_TRUE(WaitFor("web4", [](const v1::ServiceStatus& st) { return st.verification().checks_size() > 0; }));
  EXPECT_TRUE(Status("web4").verification().ok()) << Status("web4").verification().DebugString();
  test::RunResult explain = Secctl({"svc", "explain", "web4"});
  EXPECT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_THAT(explain.out, HasSubstr("loopback"));
}

TEST_F(SvcdTest, AMemoryLimitExceededIsAnOomExitAndTheRestartPolicyApplies) {
  v1::ServiceDefinition d = Def("hog", {"/bin/sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"}, 2);
  d.mutable_limits()->set_memory_bytes(32 << 20);
  d.set_restart(v1::RESTART_POLICY_ON_FAILURE);
  d.mutable_restart_backoff()->set_initial_ms(200);
  d.mutable_start_limit()->set_burst(2);
  ASSERT_TRUE(Add(d).ok());
  (void)Start("hog");
  ASSERT_TRUE(WaitFor("hog", [](const v1::ServiceStatus& s) { return s.last_exit().reason() == "oom"; }));
  v1::ServiceStatus s = Status("hog");
  EXPECT_TRUE(s.last_exit().failure());
  EXPECT_THAT(s.last_exit().detail(), HasSubstr("OOM"));
  ASSERT_TRUE(WaitFor("hog", [this](const v1::ServiceStatus&) { return Starts("hog") >= 2; }));
}

TEST_F(SvcdTest, ServicesSurviveKill9OfSvcdAndAreReadopted) {
  v1::ServiceDefinition d = Def("steady", {"/bin/sleep", "1000"});
  d.set_restart(v1::RESTART_POLICY_ALWAYS);
  d.mutable_restart_backoff()->set_initial_ms(0);
  ASSERT_TRUE(Add(d).ok());
  absl::StatusOr<v1::ServiceStatus> s = Start("steady");
  ASSERT_TRUE(s.ok()) << s.status();
  const int pid = s->pid();
  ASSERT_GT(pid, 0);
  svcd_->Signal(SIGKILL);
  svcd_->Wait(absl::Seconds(10));
  svcd_.reset();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(::kill(pid, 0), 0) << "the service died with svcd";
  // Meanwhile an enabled service is installed as a file: the new svcd starts it.
  test::WriteFileOrDie(root_ / "etc/secureos/services/boot.service",
                       "name: \"boot\"\nargv: \"/bin/sleep\"\nargv: \"1000\"\nuser: \"nobody\"\nlevel: 2\n"
                       "enabled: true\n");
  ASSERT_TRUE(StartSvcd());
  EXPECT_TRUE(WaitFor("boot", [](const v1::ServiceStatus& st) { return st.state() == v1::SERVICE_STATE_RUNNING; }));
  v1::ServiceStatus after = Status("steady");
  EXPECT_EQ(after.state(), v1::SERVICE_STATE_RUNNING);
  EXPECT_EQ(after.pid(), pid);
  // Restarts resume: the process dies, the new svcd restarts it.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor("steady", [pid](const v1::ServiceStatus& st) {
    return st.state() == v1::SERVICE_STATE_RUNNING && st.pid() != pid && st.pid() > 0;
  }));
  EXPECT_EQ(Status("steady").restarts(), 1u);
}

// Capabilities without a grant are refused at start; a process that drops what its level
// promises is reported by verification.
TEST_F(SvcdTest, AnUngrantedCapabilityIsRefusedAndAMismatchIsAnEvent) {
  v1::ServiceDefinition ungranted = Def("ungranted", {"/bin/sleep", "1000"});
  ungranted.set_capabilities("cap_kill");
  ASSERT_TRUE(Add(ungranted).ok());
  (void)Start("ungranted");
  v1::ServiceStatus refused = Status("ungranted");
  EXPECT_EQ(refused.state(), v1::SERVICE_STATE_FAILED);
  EXPECT_THAT(refused.result(), HasSubstr("no grant in force for service:ungranted"));
  EXPECT_EQ(Count(Events("ungranted"), common::v1::EVENT_KIND_SERVICE_START_FAILED), 1);

  ASSERT_EQ(Secctl({"cap", "grant", "service:dropper", "cap_kill"}).exit_code, 0);
  v1::ServiceDefinition dropper = Def("dropper", {probe(), "drop", "1000"});
  dropper.set_capabilities("cap_kill");
  ASSERT_TRUE(Add(dropper).ok());
  ASSERT_TRUE(Start("dropper").ok());
  ASSERT_TRUE(WaitFor("dropper", [](const v1::ServiceStatus& st) { return st.verification().checks_size() > 0; }));
  v1::Verification v = Status("dropper").verification();
  EXPECT_FALSE(v.ok());
  bool effective_reported = false;
  for (const v1::Check& c : v.checks()) {
    if (c.name() == "capabilities.effective") {
      effective_reported = !c.ok() && c.expected() == "cap_kill";
    }
  }
  EXPECT_TRUE(effective_reported) << v.DebugString();
  std::vector<Event> mismatch;
  for (const Event& e : Events("dropper")) {
    if (e.kind() == common::v1::EVENT_KIND_SERVICE_VERIFICATION_MISMATCH) mismatch.push_back(e);
  }
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_THAT(mismatch[0].service().detail(), HasSubstr("capabilities.effective: expected cap_kill"));
}

TEST_F(SvcdTest, BadDefinitionsAreRefusedNamingTheField) {
  struct Case {
    std::string what;
    std::function<void(v1::ServiceDefinition*)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown user", [](v1::ServiceDefinition* d) { d->set_user("no-such-user-xyz"); }, "user:"},
      {"level 0", [](v1::ServiceDefinition* d) { d->set_level(0); }, "level:"},
      {"level 6", [](v1::ServiceDefinition* d) { d->set_level(6); }, "level:"},
      {"empty argv", [](v1::ServiceDefinition* d) { d->clear_argv(); }, "argv:"},
      {"tiny memory", [](v1::ServiceDefinition* d) { d->mutable_limits()->set_memory_bytes(5); }, "limits.memory_bytes:"},
  };
  for (const Case& c : cases) {
    v1::ServiceDefinition d = Def("bad", {"/bin/true"});
    c.edit(&d);
    absl::StatusOr<v1::ServiceStatus> s = Add(d);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(s.status().message(), HasSubstr(c.message)) << c.what;
  }
  v1::ServiceDefinition a = Def("a", {"/bin/true"});
  a.add_requires("b");
  ASSERT_TRUE(Add(a).ok());
  v1::ServiceDefinition b = Def("b", {"/bin/true"});
  b.add_requires("a");
  absl::StatusOr<v1::ServiceStatus> cycle = Add(b);
  EXPECT_EQ(cycle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cycle.status().message(), HasSubstr("cycle"));

  // A bad file (a negative limit) names the file and line; the good definition stays.
  const std::string file = root_ / "etc/secureos/services/a.service";
  test::WriteFileOrDie(file, "name: \"a\"\nargv: \"/bin/true\"\nuser: \"nobody\"\nlevel: 1\nlimits { pids: -5 }\n");
  ASSERT_EQ(Secctl({"reload", "svcd"}).exit_code, 0);
  v1::ServiceStatus kept = Status("a");
  EXPECT_THAT(kept.definition_error(), HasSubstr("a.service:5"));
  EXPECT_EQ(kept.definition().requires_size(), 1);
}

// Every level's promises hold for a running process: svcd's own verification passes at
// each level (levels 1, 2 and 4 are also checked from /proc by the tests above).
TEST_F(SvcdTest, EachLevelVerifies) {
  for (int level : {1, 2, 3, 5}) {
    SCOPED_TRACE(absl::StrCat("level ", level));
    const std::string name = absl::StrCat("lvl", level);
    v1::ServiceDefinition d = Def(name, {"/bin/sleep", "1000"}, level);
    d.set_stop_timeout_ms(300);  // pid 1 of a pid namespace at 3-5: SIGTERM does nothing to sleep.
    absl::StatusOr<v1::ServiceStatus> added = Add(d);
    ASSERT_TRUE(added.ok()) << added.status();
    absl::StatusOr<v1::ServiceStatus> s = Start(name);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_EQ(s->state(), v1::SERVICE_STATE_RUNNING) << s->DebugString();
    ASSERT_TRUE(WaitFor(name, [](const v1::ServiceStatus& st) { return st.verification().checks_size() > 0; }));
    const v1::Verification v = Status(name).verification();
    EXPECT_TRUE(v.ok()) << v.DebugString();
    if (level >= 3) {
      bool seccomp = false;
      for (const v1::Check& c : v.checks()) seccomp = seccomp || (c.name() == "seccomp" && c.ok());
      EXPECT_TRUE(seccomp);
      EXPECT_THAT(s->backend_id(), HasSubstr("sandboxd:"));
    } else {
      EXPECT_THAT(s->backend_id(), HasSubstr("capd:"));
    }
    ASSERT_TRUE(Stop(name).ok());
  }
}

TEST_F(SvcdTest, UpdateAppliesAtTheNextStartAndRemoveNeedsAStop) {
  ASSERT_TRUE(Add(Def("svc", {"/bin/sleep", "1000"})).ok());
  ASSERT_TRUE(Start("svc").ok());
  const int first = Status("svc").pid();
  v1::UpdateServiceRequest update;
  *update.mutable_definition() = Def("svc", {"/bin/sleep", "2000"});
  v1::ServiceStatus updated;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->UpdateService(&ctx, update, &updated).ok());
  }
  EXPECT_EQ(updated.pid(), first);  // Still the old run.
  EXPECT_THAT(test::ReadFileOrEmpty(root_ / "etc/secureos/services/svc.service"), HasSubstr("2000"));
  absl::StatusOr<v1::ServiceStatus> restarted = Call(&v1::Svcd::Stub::RestartService, "svc");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_NE(restarted->pid(), first);
  EXPECT_THAT(test::ReadFileOrEmpty(absl::StrCat("/proc/", restarted->pid(), "/cmdline")), HasSubstr("2000"));

  v1::RemoveServiceRequest remove;
  remove.set_name("svc");
  v1::RemoveServiceResponse removed;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status s = stub_->RemoveService(&ctx, remove, &removed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("stop it first"));
  }
  ASSERT_TRUE(Stop("svc").ok());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ASSERT_TRUE(stub_->RemoveService(&ctx, remove, &removed).ok());
  }
  EXPECT_EQ(::access((root_ / "etc/secureos/services/svc.service").c_str(), F_OK), -1);
  EXPECT_EQ(Call(&v1::Svcd::Stub::GetStatus, "svc").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SvcdTest, LogsAreCapturedAndShownBySecctl) {
  v1::ServiceDefinition d = Def("talker", {"/bin/sh", "-c", "echo hello from talker; echo to stderr >&2; exec sleep 1000"});
  ASSERT_TRUE(Add(d).ok());
  ASSERT_TRUE(Start("talker").ok());
  ASSERT_TRUE(WaitFor("talker", [this](const v1::ServiceStatus&) {
    return test::ReadFileOrEmpty(root_ / "var/log/services/talker.log").find("to stderr") != std::string::npos;
  }));
  test::RunResult logs = Secctl({"svc", "logs", "talker"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("hello from talker\n"));
  EXPECT_THAT(logs.out, HasSubstr("to stderr\n"));
  v1::ServiceStatus st = Status("talker");
  EXPECT_TRUE(st.has_memory_bytes());
  EXPECT_GT(st.memory_bytes(), 0u);
  EXPECT_TRUE(st.has_cpu_seconds());
  EXPECT_GT(st.uptime_seconds(), 0);
  test::RunResult status = Secctl({"svc", "status", "talker"});
  EXPECT_THAT(status.out, HasSubstr("running"));
}

}  // namespace
}  // namespace secureos::svcd
