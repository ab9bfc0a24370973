// The container manager against a fake sandboxd: the OCI lifecycle and its errors, ranges,
// compliance modes, durable records and re-adoption. The real daemons are in
// containerd_lite_integration_test.
#include "containerd-lite/container_manager.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/event_ring.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

namespace sbx = ::secureos::sandboxd::v1;
using ::testing::HasSubstr;

// sandboxd as the manager sees it: workloads that are created, started, killed and end
// when the test says so.
class FakeRunner : public WorkloadRunner {
 public:
  struct Workload {
    sbx::WorkloadState state = sbx::WORKLOAD_STATE_CREATED;
    int pid = 0;
    sbx::CreateRequest request;
    std::vector<int> signals;
    OnExit on_exit;
  };

  absl::StatusOr<sbx::WorkloadInfo> Create(const sbx::CreateRequest& request) override {
    absl::MutexLock lock(&mu_);
    if (!create_error_.ok()) return create_error_;
    const std::string id = absl::StrCat("w-", ++next_);
    workloads_[id].request = request;
    return InfoLocked(id);
  }
  absl::StatusOr<sbx::WorkloadInfo> Start(const std::string& id) override {
    absl::MutexLock lock(&mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return absl::NotFoundError("id: no workload " + id);
    it->second.state = sbx::WORKLOAD_STATE_RUNNING;
    it->second.pid = 1000 + next_;
    return InfoLocked(id);
  }
  absl::Status Kill(const std::string& id, int signal) override {
    OnExit done;
    RunOutcome outcome;
    {
      absl::MutexLock lock(&mu_);
      auto it = workloads_.find(id);
      if (it == workloads_.end()) return absl::NotFoundError("id: no workload " + id);
      Workload& w = it->second;
      if (w.state == sbx::WORKLOAD_STATE_EXITED) return absl::FailedPreconditionError("not running");
      w.signals.push_back(signal);
      if (w.state == sbx::WORKLOAD_STATE_CREATED || signal == SIGKILL) {
        w.state = sbx::WORKLOAD_STATE_EXITED;
        outcome = RunOutcome{true, false, 0, signal, "killed", "killed"};
        done = std::move(w.on_exit);
      }
    }
    if (done) done(outcome);  // sandboxd reports the end on a follower thread.
    return absl::OkStatus();
  }
  absl::StatusOr<sbx::WorkloadInfo> Status(const std::string& id) override {
    absl::MutexLock lock(&mu_);
    if (workloads_.count(id) == 0) return absl::NotFoundError("id: no workload " + id);
    return InfoLocked(id);
  }
  void Follow(const std::string& id, OnExit on_exit) override {
    absl::MutexLock lock(&mu_);
    workloads_[id].on_exit = std::move(on_exit);
  }
  // Run and Exec are streamed by the real sandboxd: containerd_lite_integration_test.
  absl::Status Wait(const std::string&, const OnEvent&, const std::function<bool()>&) override {
    return absl::UnimplementedError("not in these tests");
  }
  absl::Status Exec(const sbx::ExecRequest&, const OnEvent&, const std::function<bool()>&) override {
    return absl::UnimplementedError("not in these tests");
  }

  // The workload ends on its own.
  void Exit(const std::string& id, RunOutcome outcome) {
    OnExit done;
    {
      absl::MutexLock lock(&mu_);
      workloads_[id].state = sbx::WORKLOAD_STATE_EXITED;
      done = std::move(workloads_[id].on_exit);
    }
    ASSERT_TRUE(done) << "nobody follows " << id;
    done(outcome);
  }
  // sandboxd restarted and forgot `id`.
  void Forget(const std::string& id) {
    absl::MutexLock lock(&mu_);
    workloads_.erase(id);
  }
  Workload Get(const std::string& id) {
    absl::MutexLock lock(&mu_);
    return workloads_[id];
  }
  bool Followed(const std::string& id) {
    absl::MutexLock lock(&mu_);
    return static_cast<bool>(workloads_[id].on_exit);
  }
  void FailCreates(absl::Status s) {
    absl::MutexLock lock(&mu_);
    create_error_ = std::move(s);
  }
  // The same workloads after a containerd-lite restart (sandboxd kept them).
  std::unique_ptr<FakeRunner> Survivor() {
    absl::MutexLock lock(&mu_);
    auto next = std::make_unique<FakeRunner>();
    next->workloads_ = workloads_;
    for (auto& [id, w] : next->workloads_) w.on_exit = nullptr;
    next->next_ = next_;
    return next;
  }

 private:
  sbx::WorkloadInfo InfoLocked(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Workload& w = workloads_[id];
    sbx::WorkloadInfo info;
    info.set_id(id);
    info.set_state(w.state);
    info.set_pid(w.pid);
    *info.mutable_spec() = w.request.spec();
    info.mutable_usage()->set_memory_working_set_bytes(4096);
    return info;
  }

  absl::Mutex mu_;
  std::map<std::string, Workload> workloads_ ABSL_GUARDED_BY(mu_);
  int next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status create_error_ ABSL_GUARDED_BY(mu_);
};

class ContainerManagerTest : public BundleDirTest {
 protected:
  // The manager checks that a container's host ids can reach the rootfs: a directory under
  // /tmp (mode 0755), not TEST_TMPDIR, which may lie under /root.
  std::string BaseDir() override {
    if (base_.empty()) {
      char tmpl[] = "/tmp/ctr-manager-test-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr || ::chmod(tmpl, 0755) != 0) return "";
      base_ = tmpl;
    }
    return base_;
  }
  void TearDown() override {
    manager_.reset();
    std::error_code ec;
    if (!base_.empty()) std::filesystem::remove_all(base_, ec);
  }

  void SetUp() override {
    BundleDirTest::SetUp();
    state_dir_ = dir_ + ".state";
    MakeDir(state_dir_);
    config_ = std::make_shared<v1::ContainerdLiteConfig>();
    config_->mutable_compliance()->set_mode(v1::COMPLIANCE_MODE_WARN);
    oci::v1::Spec spec = CrunSpec();
    spec.mutable_process()->set_terminal(false);
    WriteSpec(spec);
    auto runner = std::make_unique<FakeRunner>();
    runner_ = runner.get();
    Open(std::move(runner));
  }

  void Open(std::unique_ptr<FakeRunner> runner) {
    manager_.reset();
    runner_ = runner.get();
    ContainerManager::Options o;
    o.state_dir = state_dir_;
    o.uids = Pool(IdKind::kUid, "uid");
    o.gids = Pool(IdKind::kGid, "gid");
    o.runner = std::move(runner);
    o.events = &events_;
    o.config = [this] { return std::shared_ptr<const v1::ContainerdLiteConfig>(config_); };
    o.watch_interval = absl::ZeroDuration();
    auto m = ContainerManager::Open(std::move(o));
    ASSERT_TRUE(m.ok()) << m.status();
    manager_ = std::move(*m);
  }

  std::unique_ptr<IdRangePool> Pool(IdKind kind, const std::string& name) {
    IdRangePoolOptions o;
    o.kind = kind;
    o.ranges = {SubIdRange{"containers", IdRange{1000000, 65536 * 4}, "test"}};
    auto pool = IdRangePool::Load(absl::StrCat(state_dir_, "/", name, "_ranges.textproto"), o);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return std::move(*pool);
  }

  void WriteSpec(const oci::v1::Spec& spec) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(spec, &json).ok());
    WriteText(dir_ + "/config.json", json);
  }

  absl::StatusOr<v1::ContainerState> Create(const std::string& id) {
    v1::CreateRequest r;
    r.set_id(id);
    r.set_bundle(dir_);
    return manager_->Create(r, Requester{0, "trace-" + id});
  }

  std::vector<common::v1::Event> Events(common::v1::EventKind kind) {
    std::vector<common::v1::Event> out;
    for (const auto& e : events_.Read(1, 10000, absl::ZeroDuration()).events) {
      if (e->kind() == kind) out.push_back(*e);
    }
    return out;
  }

  std::string base_;
  std::string state_dir_;
  std::shared_ptr<v1::ContainerdLiteConfig> config_;
  EventRing events_{"containerd-lite", 10000};
  FakeRunner* runner_ = nullptr;
  std::unique_ptr<ContainerManager> manager_;
};

TEST_F(ContainerManagerTest, CreateGivesARangeAUserNamespaceAndAPrincipal) {
  auto c = Create("web");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status(), v1::CONTAINER_STATUS_CREATED);
  EXPECT_EQ(c->oci_version(), "1.0.2");
  EXPECT_EQ(c->bundle(), dir_);
  EXPECT_EQ(c->pid(), 0);
  EXPECT_TRUE(c->user_namespace_added());
  ASSERT_EQ(c->uid_mappings_size(), 1);
  EXPECT_EQ(c->uid_mappings(0).host_id(), 1000000u);
  EXPECT_EQ(c->uid_mappings(0).size(), 65536u);
  EXPECT_EQ(c->log_path(), state_dir_ + "/web.log");
  // crun's bundle: PSS-B-004 (uid 0, no user namespace of its own), warned.
  ASSERT_EQ(c->findings_size(), 1);
  EXPECT_EQ(c->findings(0).rule_id(), "PSS-B-004");
  const sbx::CreateRequest sent = runner_->Get(c->workload_id()).request;
  EXPECT_TRUE(sent.spec().namespaces().user());
  EXPECT_EQ(sent.spec().principal(), "container:web");
  EXPECT_EQ(sent.spec().name(), "web");
  EXPECT_EQ(sent.spec().uid_map(0).outside(), 1000000u);
  EXPECT_EQ(sent.spec().network(), sbx::NETWORK_MODE_LOOPBACK);
  EXPECT_EQ(sent.output(), sbx::OUTPUT_MODE_FILES);
  EXPECT_EQ(sent.trace_id(), "trace-web");
  EXPECT_EQ(Events(common::v1::EVENT_KIND_CONTAINER_CREATED).size(), 1u);
  const auto findings = Events(common::v1::EVENT_KIND_COMPLIANCE_FINDING);
  ASSERT_EQ(findings.size(), 1u);
  // The finding names the container it was found for, so that an alert can.
  EXPECT_EQ(findings[0].container().id(), "web");
  EXPECT_EQ(findings[0].principal().id(), "container:web");
  EXPECT_EQ(findings[0].trace_id(), "trace-web");
  auto second = Create("db");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->uid_mappings(0).host_id(), 1000000u + 65536);
}

TEST_F(ContainerManagerTest, OciLifecycleErrors) {
  ASSERT_TRUE(Create("web").ok());
  EXPECT_EQ(Create("web").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Create("web").status().message(), "container \"web\" already exists (created)");
  auto running = manager_->Start("web");
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->status(), v1::CONTAINER_STATUS_RUNNING);
  EXPECT_GT(running->pid(), 0);
  // Start twice.
  EXPECT_EQ(manager_->Start("web").status().message(), "cannot start container \"web\": it is running");
  // Delete a running one.
  absl::Status d = manager_->Delete("web", false);
  EXPECT_EQ(d.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.message(), HasSubstr("that is not stopped: running"));
  // Kill it, then kill a stopped one.
  ASSERT_TRUE(manager_->Kill("web", SIGKILL).ok());
  auto stopped = manager_->State("web");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_EQ(stopped->signal(), SIGKILL);
  EXPECT_EQ(stopped->pid(), 0);
  EXPECT_EQ(manager_->Kill("web", SIGTERM).message(), "container \"web\" is not running (stopped)");
  EXPECT_EQ(manager_->Start("web").status().message(), "cannot start container \"web\": it is stopped");
  ASSERT_TRUE(manager_->Delete("web", false).ok());
  EXPECT_EQ(manager_->State("web").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Delete("web", false).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Kill("nope", 9).message(), "container \"nope\" does not exist");
  EXPECT_EQ(manager_->Kill("web", 99).message(), absl::StrCat("signal: 1 to ", SIGRTMAX, ", got 99"));
  EXPECT_EQ(manager_->State("../x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ContainerManagerTest, DefaultKillIsTermAndTheContainerEndsWhenSandboxdSaysSo) {
  auto c = Create("web");
  ASSERT_TRUE(manager_->Start("web").ok());
  ASSERT_TRUE(manager_->Kill("web", 0).ok());
  EXPECT_EQ(runner_->Get(c->workload_id()).signals, std::vector<int>{SIGTERM});
  EXPECT_EQ(manager_->State("web")->status(), v1::CONTAINER_STATUS_RUNNING);  // Not yet.
  runner_->Exit(c->workload_id(), RunOutcome{true, true, 3, 0, "exited", "exited with code 3"});
  auto s = manager_->State("web");
  EXPECT_EQ(s->status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_EQ(s->exit_code(), 3);
  EXPECT_EQ(s->exit_reason(), "exited");
  ASSERT_EQ(Events(common::v1::EVENT_KIND_CONTAINER_EXITED).size(), 1u);
  EXPECT_EQ(Events(common::v1::EVENT_KIND_CONTAINER_EXITED)[0].container().exit_code(), 3);
}

TEST_F(ContainerManagerTest, OomIsReportedAsSuch) {
  auto c = Create("hog");
  ASSERT_TRUE(manager_->Start("hog").ok());
  runner_->Exit(c->workload_id(), RunOutcome{true, false, 0, SIGKILL, "oom", "killed by the OOM killer"});
  EXPECT_EQ(manager_->State("hog")->exit_reason(), "oom");
  auto exited = Events(common::v1::EVENT_KIND_CONTAINER_EXITED);
  ASSERT_EQ(exited.size(), 1u);
  EXPECT_EQ(exited[0].severity(), common::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(exited[0].container().reason(), "oom");
  EXPECT_THAT(exited[0].message(), HasSubstr("was OOM-killed"));
}

TEST_F(ContainerManagerTest, KillACreatedOneDiscardsIt) {
  auto c = Create("web");
  ASSERT_TRUE(manager_->Kill("web", SIGTERM).ok());
  auto s = manager_->State("web");
  EXPECT_EQ(s->status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_EQ(s->signal(), SIGTERM);
  EXPECT_EQ(runner_->Get(c->workload_id()).state, sbx::WORKLOAD_STATE_EXITED);
}

TEST_F(ContainerManagerTest, DeleteReleasesTheRangeAndForceKillsFirst) {
  auto a = Create("a");
  ASSERT_TRUE(manager_->Start("a").ok());
  ASSERT_TRUE(manager_->Delete("a", /*force=*/true).ok());
  EXPECT_EQ(runner_->Get(a->workload_id()).signals, std::vector<int>{SIGKILL});
  EXPECT_EQ(::access((state_dir_ + "/a.container.textproto").c_str(), F_OK), -1);
  auto b = Create("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->uid_mappings(0).host_id(), 1000000u);  // a's range again.
  ASSERT_TRUE(manager_->Delete("b", false).ok());      // Created: deleted without force.
  EXPECT_EQ(Events(common::v1::EVENT_KIND_CONTAINER_DELETED).size(), 2u);
}

TEST_F(ContainerManagerTest, EnforceRefusesAndKeepsNothing) {
  config_->mutable_compliance()->set_mode(v1::COMPLIANCE_MODE_ENFORCE);
  auto c = Create("web");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("compliance (enforce): PSS-B-004 process.user.uid"));
  EXPECT_EQ(manager_->State("web").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->List().empty());
  auto refused = Events(common::v1::EVENT_KIND_CONTAINER_REFUSED);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].trace_id(), "trace-web");
  // A bundle with its own user namespace passes.
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_terminal(false);
  spec.mutable_linux()->add_namespaces()->set_type("user");
  WriteSpec(spec);
  auto ok = Create("web");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->user_namespace_added());
  EXPECT_EQ(ok->uid_mappings(0).host_id(), 1000000u);  // The refused one held nothing.
}

TEST_F(ContainerManagerTest, SandboxdRefusalReleasesTheRange) {
  runner_->FailCreates(absl::InvalidArgumentError("uid_map[0].outside: host ids must lie in ..."));
  auto c = Create("web");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  runner_->FailCreates(absl::OkStatus());
  auto again = Create("web");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uid_mappings(0).host_id(), 1000000u);
}

TEST_F(ContainerManagerTest, ExplicitMappingsAreValidated) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_terminal(false);
  spec.mutable_linux()->add_namespaces()->set_type("user");
  auto* u = spec.mutable_linux()->add_uid_mappings();
  u->set_container_id(0);
  u->set_host_id(0);
  u->set_size(65536);
  auto* g = spec.mutable_linux()->add_gid_mappings();
  g->set_container_id(0);
  g->set_host_id(1100000);
  g->set_size(65536);
  WriteSpec(spec);
  auto c = Create("web");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("config.json: linux.uidMappings[0]"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("forbidden host uids 0 (root)"));
  // Inside the pool: taken as given.
  u->set_host_id(1100000);
  WriteSpec(spec);
  auto ok = Create("web");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->uid_mappings(0).host_id(), 1100000u);
  // Overlapping it is refused, naming the holder.
  auto clash = Create("db");
  EXPECT_THAT(clash.status().message(), HasSubstr("\"web\""));
  // Only one of the two kinds.
  spec.mutable_linux()->clear_gid_mappings();
  WriteSpec(spec);
  EXPECT_EQ(Create("x").status().message(),
            "config.json: linux.gidMappings: required when linux.uidMappings is given");
}

TEST_F(ContainerManagerTest, HostIdsOutsideThePoolNeedTheConfiguredException) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_terminal(false);
  spec.mutable_linux()->add_namespaces()->set_type("user");
  for (auto* m : {spec.mutable_linux()->add_uid_mappings(), spec.mutable_linux()->add_gid_mappings()}) {
    m->set_container_id(0);
    m->set_host_id(2000000);  // Outside the pool (1000000-1262143).
    m->set_size(1000);
  }
  WriteSpec(spec);
  auto refused = Create("host");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("is not inside the uid pool"));
  config_->set_allow_host_ids(true);
  auto allowed = Create("host");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(allowed->uid_mappings(0).host_id(), 2000000u);
  EXPECT_FALSE(allowed->user_namespace_added());
  // The exception never reaches host root or nobody.
  spec.mutable_linux()->mutable_uid_mappings(0)->set_host_id(65000);
  WriteSpec(spec);
  EXPECT_THAT(std::string(Create("nobody").status().message()), HasSubstr("65534 (nobody)"));
}

TEST_F(ContainerManagerTest, BundleMustBelongToTheRequester) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto c = Create("web");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(c.status().message(), HasSubstr("writable by others (mode 0777)"));
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  if (::chown(dir_.c_str(), 4321, 4321) != 0) {
    GTEST_SKIP() << "cannot give the bundle to another uid here (" << strerror(errno)
                 << "); the integration test covers it";
  }
  auto theirs = Create("web");
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(theirs.status().message(), HasSubstr("belongs to uid 4321, not to the requester (uid 0) or root"));
  v1::CreateRequest r;
  r.set_id("web");
  r.set_bundle(dir_);
  EXPECT_TRUE(manager_->Create(r, Requester{4321, "t"}).ok());  // Its owner may.
}

TEST_F(ContainerManagerTest, ARootfsTheContainerCannotReachIsRefused) {
  ASSERT_EQ(::chmod(base_.c_str(), 0700), 0);
  auto c = Create("web");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(absl::StrCat("the container's host ids cannot reach ", dir_, "/rootfs: ", base_,
                                     " has mode 0700 (it needs o+x)")));
  ASSERT_EQ(::chmod(base_.c_str(), 0755), 0);
  EXPECT_TRUE(Create("web").ok());
}

TEST_F(ContainerManagerTest, BadRequests) {
  v1::CreateRequest r;
  r.set_id("web");
  r.set_bundle("relative/dir");
  EXPECT_EQ(manager_->Create(r, {}).status().message(), "bundle: required, an absolute path, got \"relative/dir\"");
  r.set_bundle(dir_ + "/missing");
  EXPECT_EQ(manager_->Create(r, {}).status().code(), absl::StatusCode::kNotFound);
  r.set_id("bad id");
  EXPECT_EQ(manager_->Create(r, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager_->List().empty());
}

TEST_F(ContainerManagerTest, ConcurrentCreatesNeverShareIds) {
  constexpr int kThreads = 4, kEach = 8;  // 32 containers of 65536 ids: more than the pool.
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) (void)Create(absl::StrCat("c", t, "-", i));
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint32_t> starts;
  for (const v1::ContainerState& c : manager_->List()) {
    ASSERT_EQ(c.uid_mappings_size(), 1);
    EXPECT_TRUE(starts.insert(c.uid_mappings(0).host_id()).second) << c.id();
  }
  EXPECT_EQ(starts.size(), 4u);  // The pool holds four ranges; the rest were refused.
}

TEST_F(ContainerManagerTest, RestartReadoptsAndForgetsNothing) {
  auto running = Create("running");
  ASSERT_TRUE(manager_->Start("running").ok());
  auto created = Create("created");
  auto lost = Create("lost");
  auto stopped = Create("stopped");
  ASSERT_TRUE(manager_->Start("stopped").ok());
  ASSERT_TRUE(manager_->Kill("stopped", SIGKILL).ok());
  std::unique_ptr<FakeRunner> survivor = runner_->Survivor();
  survivor->Forget(lost->workload_id());  // sandboxd restarted: created workloads are gone.
  Open(std::move(survivor));
  std::vector<v1::ContainerState> all = manager_->List();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(manager_->State("running")->status(), v1::CONTAINER_STATUS_RUNNING);
  EXPECT_TRUE(runner_->Followed(running->workload_id()));
  EXPECT_EQ(manager_->State("created")->status(), v1::CONTAINER_STATUS_CREATED);
  EXPECT_EQ(manager_->State("lost")->status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_EQ(manager_->State("lost")->exit_reason(), "lost");
  EXPECT_EQ(manager_->State("stopped")->signal(), SIGKILL);
  // Ranges survive: a new container gets a fifth range... the pool has four, all held.
  EXPECT_EQ(Create("new").status().code(), absl::StatusCode::kResourceExhausted);
  // Kill still works after the restart, and the exit is seen.
  ASSERT_TRUE(manager_->Kill("running", SIGKILL).ok());
  EXPECT_EQ(manager_->State("running")->status(), v1::CONTAINER_STATUS_STOPPED);
  ASSERT_TRUE(manager_->Delete("lost", false).ok());
  EXPECT_TRUE(Create("new").ok());
}

TEST_F(ContainerManagerTest, RangesWithoutARecordAreReleasedAtOpen) {
  auto c = Create("web");
  ASSERT_TRUE(c.ok());
  // A crash after the pool's save but before the record's: the record is missing.
  ASSERT_EQ(::unlink((state_dir_ + "/web.container.textproto").c_str()), 0);
  Open(runner_->Survivor());
  EXPECT_TRUE(manager_->List().empty());
  auto again = Create("db");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uid_mappings(0).host_id(), 1000000u);
}

TEST_F(ContainerManagerTest, SampleNeedsARunningContainer) {
  ASSERT_TRUE(Create("web").ok());
  EXPECT_EQ(manager_->Sample("web", nullptr).status().message(), "container \"web\" is not running (created)");
  ASSERT_TRUE(manager_->Start("web").ok());
  auto s = manager_->Sample("web", nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->memory_working_set_bytes(), 4096u);
}

TEST_F(ContainerManagerTest, CheckListsFindingsAtTheAskedLevel) {
  v1::CheckRequest r;
  r.set_bundle(dir_);
  auto baseline = manager_->Check(r);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  EXPECT_FALSE(baseline->compliant());
  ASSERT_EQ(baseline->findings_size(), 1);
  r.set_level(v1::COMPLIANCE_LEVEL_RESTRICTED);
  auto restricted = manager_->Check(r);
  std::set<std::string> ids;  // PSS-R-005 comes once per capability set at fault.
  for (const auto& f : restricted->findings()) ids.insert(f.rule_id());
  EXPECT_THAT(ids, ::testing::ElementsAre("PSS-B-004", "PSS-R-003", "PSS-R-004", "PSS-R-005", "PSS-R-006"));
  EXPECT_TRUE(manager_->List().empty());  // A dry run.
}

}  // namespace
}  // namespace secureos::ctr
