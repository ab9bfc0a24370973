// Scenarios that cross daemons, on all five at once (tests/suite), driven through secctl as
// an operator would, and judged by what monitord records in its audit log:
//   - a service at each level 1 to 5, each verified against its level on the running process;
//   - a container whose compliance finding becomes a monitord alert naming it;
//   - a sandbox workload using granted capabilities and then refused a syscall: capd's
//     authorization and sandboxd's violation carry the workload's one trace id, and the
//     sequence rule ties them in one alert;
//   - a service restarting in a loop, detected as a restart storm.
// Needs root, namespaces and cgroups (tagged local).
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/common.pb.h"
#include "proto/monitord.pb.h"
#include "proto/svcd.pb.h"
#include "tests/suite_test.h"

namespace secureos {
namespace {

using ::testing::HasSubstr;

using test::ParseJson;

class ScenariosTest : public test::SuiteTest {
 protected:
  void BeforeStop() override {
    for (const std::string& s : services_) (void)Secctl({"svc", "stop", s});
  }

  // Adds and starts a service from its definition text.
  void StartService(const std::string& name, const std::string& definition) {
    const std::string file = suite_->root() / (name + ".service");
    test::WriteFileOrDie(file, definition);
    test::RunResult added = Secctl({"svc", "add", file});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    services_.push_back(name);
    test::RunResult started = Secctl({"svc", "start", name});
    ASSERT_EQ(started.exit_code, 0) << started.err;
  }

  // Waits up to 20 s for an audited alert of `rule` that `match` accepts.
  std::optional<monitord::v1::Alert> WaitForAlert(const std::string& rule,
                                                  const std::function<bool(const monitord::v1::Alert&)>& match) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      for (const monitord::v1::Alert& a : test::AuditedAlerts(*suite_)) {
        if (a.rule() == rule && match(a)) return a;
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    return std::nullopt;
  }

  std::vector<std::string> services_;
};

TEST_F(ScenariosTest, AServiceAtEachLevelIsVerifiedOnItsRunningProcess) {
  for (int level = 1; level <= 5; ++level) {
    SCOPED_TRACE(absl::StrCat("level ", level));
    const std::string name = absl::StrCat("level", level);
    // pid 1 of a pid namespace (levels 3-5) ignores SIGTERM: a short stop timeout.
    ASSERT_NO_FATAL_FAILURE(StartService(
        name, absl::StrCat("name: \"", name, "\"\nargv: \"/bin/sleep\"\nargv: \"1000\"\nuser: \"nobody\"\nlevel: ",
                           level, "\nstop_timeout_ms: 300\n")));
    svcd::v1::ServiceStatus status;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      test::RunResult r = Secctl({"--json", "svc", "status", name});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ASSERT_TRUE(ParseJson(r.out, &status)) << r.out;
      if (status.verification().checks_size() > 0) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    EXPECT_EQ(status.state(), svcd::v1::SERVICE_STATE_RUNNING) << status.DebugString();
    ASSERT_GT(status.verification().checks_size(), 0) << "never verified: " << status.DebugString();
    EXPECT_TRUE(status.verification().ok()) << status.verification().DebugString();
    EXPECT_EQ(status.verification().pid(), status.pid());
    ASSERT_EQ(Secctl({"svc", "stop", name}).exit_code, 0);
  }
  for (const monitord::v1::Alert& a : test::AuditedAlerts(*suite_)) EXPECT_NE(a.rule(), "verification mismatch") << a.output();
}

TEST_F(ScenariosTest, AContainersComplianceFindingBecomesAnAlertNamingIt) {
  const std::string bundle = suite_->BusyboxBundle("bundle", 100);
  test::RunResult created = Secctl({"ctr", "create", "audited", "--bundle", bundle});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::optional<monitord::v1::Alert> alert = WaitForAlert("compliance finding", [](const monitord::v1::Alert& a) {
    return a.event().container().id() == "audited";
  });
  if (!alert.has_value()) {
    for (const common::v1::Event& e : test::Events(*suite_, "containerd-lite")) std::cerr << e.ShortDebugString() << "\n";
  }
  ASSERT_TRUE(alert.has_value()) << "no compliance alert for container audited";
  EXPECT_EQ(alert->event().kind(), common::v1::EVENT_KIND_COMPLIANCE_FINDING);
  EXPECT_FALSE(alert->event().container().rule_id().empty()) << alert->DebugString();
  EXPECT_EQ(Secctl({"ctr", "delete", "--force", "audited"}).exit_code, 0);
}

TEST_F(ScenariosTest, AViolationAfterUsingAGrantIsOneAlertOverOneTraceId) {
  ASSERT_EQ(Secctl({"cap", "grant", "sandbox:web", "cap_net_raw"}).exit_code, 0);
  // mount(2) is refused by every level's filter; the workload goes on and exits 0.
  test::RunResult run = Secctl({"sandbox", "run", "--level", "4", "--name", "web", "--caps", "cap_net_raw", "--",
                                "/bin/sh", "-c", "mount -t tmpfs none /tmp 2>/dev/null; exit 0"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  std::string trace;
  for (const common::v1::Event& e : test::Events(*suite_, "capd")) {
    if (e.kind() == common::v1::EVENT_KIND_CAPABILITY_AUTHORIZED && e.principal().id() == "sandbox:web") {
      trace = e.trace_id();
    }
  }
  ASSERT_FALSE(trace.empty()) << "capd published no authorization for sandbox:web";
  bool violation = false;
  for (const common::v1::Event& e : test::Events(*suite_, "sandboxd")) {
    violation = violation || (e.kind() == common::v1::EVENT_KIND_SECCOMP_VIOLATION && e.trace_id() == trace &&
                              e.workload().syscall() == "mount");
  }
  EXPECT_TRUE(violation) << "sandboxd's violation does not carry capd's trace id " << trace;

  std::optional<monitord::v1::Alert> alert = WaitForAlert(
      "grant then violation", [&](const monitord::v1::Alert& a) { return a.event().trace_id() == trace; });
  ASSERT_TRUE(alert.has_value()) << "no \"grant then violation\" alert for trace " << trace;
  EXPECT_EQ(alert->first().kind(), common::v1::EVENT_KIND_CAPABILITY_AUTHORIZED);
  EXPECT_EQ(alert->first().trace_id(), trace);
  EXPECT_EQ(alert->event().kind(), common::v1::EVENT_KIND_SECCOMP_VIOLATION);
  EXPECT_THAT(alert->output(), HasSubstr("used granted capabilities, then was refused"));
}

TEST_F(ScenariosTest, AServiceRestartingInALoopIsARestartStorm) {
  ASSERT_NO_FATAL_FAILURE(StartService(
      "flappy", "name: \"flappy\"\nargv: \"/bin/false\"\nuser: \"nobody\"\nlevel: 2\n"
                "restart: RESTART_POLICY_ALWAYS\nrestart_backoff { initial_ms: 20 max_ms: 50 }\n"
                "start_limit { burst: 100 interval_ms: 1000 }\n"));
  std::optional<monitord::v1::Alert> alert = WaitForAlert("restart storm", [](const monitord::v1::Alert& a) {
    return a.event().service().service() == "flappy";
  });
  ASSERT_TRUE(alert.has_value()) << "no restart storm alert for flappy";
  EXPECT_GE(alert->count(), 5u);
  EXPECT_EQ(alert->event().kind(), common::v1::EVENT_KIND_SERVICE_RESTARTED);
}

}  // namespace
}  // namespace secureos
