#include "svcd/launch_plan.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "svcd/definition.h"

namespace secureos::svcd {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ServiceSpec Compile(const std::string& text) {
  v1::ServiceDefinition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  absl::StatusOr<ServiceSpec> s = CompileDefinition(d, DefinitionPolicy{});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : ServiceSpec();
}

LaunchContext Context() {
  LaunchContext c;
  c.log_path = "/run/secureos/svcd/logs/web.fifo";
  c.notify_socket = "/run/secureos/svcd/notify/web.sock";
  c.cgroups = {"/sys/fs/cgroup/memory/secureos/svcd/web", "/sys/fs/cgroup/pids/secureos/svcd/web"};
  c.trace_id = "t-1";
  return c;
}

TEST(LaunchPlan, LevelOneIsACapdSpawnWithEverythingSvcdOwns) {
  ServiceSpec s = Compile(R"pb(name: "web" argv: "/bin/sleep" argv: "9" env: "A=b" user: "nobody" level: 1
                               capabilities: "cap_net_bind_service" watchdog_ms: 2000)pb");
  auto r = PlanLaunch(s, Context());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->sandboxed);
  const capd::v1::SpawnRequest& p = r->spawn;
  EXPECT_EQ(p.principal(), "service:web");
  EXPECT_THAT(p.argv(), ElementsAre("/bin/sleep", "9"));
  EXPECT_THAT(p.env(), ElementsAre("A=b", "NOTIFY_SOCKET=/run/secureos/svcd/notify/web.sock", "WATCHDOG_USEC=2000000"));
  EXPECT_EQ(p.uid(), 65534u);
  EXPECT_EQ(p.capabilities(), "cap_net_bind_service");
  EXPECT_EQ(p.cgroups_size(), 2);
  EXPECT_EQ(p.output(), capd::v1::OUTPUT_MODE_FILES);
  EXPECT_EQ(p.stdout_path(), p.stderr_path());
  EXPECT_EQ(p.trace_id(), "t-1");
  EXPECT_FALSE(p.has_mounts());  // Level 1 keeps the host's filesystem.
  EXPECT_EQ(p.rlimits_size(), 0);
}

TEST(LaunchPlan, LevelTwoAddsPrivateTmpReadOnlySystemAndLimits) {
  ServiceSpec s = Compile(R"pb(name: "web" argv: "/bin/true" user: "nobody" level: 2
                               overrides { read_write_paths: "/var/lib/web" })pb");
  auto r = PlanLaunch(s, Context());
  ASSERT_TRUE(r.ok()) << r.status();
  const capd::v1::MountView& m = r->spawn.mounts();
  EXPECT_TRUE(m.private_tmp());
  EXPECT_THAT(m.optional_read_only_paths(), Contains("/usr"));
  EXPECT_THAT(m.optional_read_only_paths(), Contains("/etc"));
  EXPECT_THAT(m.read_write_paths(), ElementsAre("/var/lib/web"));
  EXPECT_EQ(r->spawn.rlimits_size(), 2);  // NOFILE and CORE defaults.
}

TEST(LaunchPlan, LevelsThreeToFiveAreSandboxdWorkloadsThatMeetTheirClaim) {
  for (int level = 3; level <= 5; ++level) {
    ServiceSpec s = Compile(absl::StrCat(R"pb(name: "web" argv: "/bin/true" user: "nobody" level: )pb", level));
    auto r = PlanLaunch(s, Context());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->sandboxed);
    const sandboxd::v1::SandboxSpec& spec = r->create.spec();
    EXPECT_EQ(spec.level(), static_cast<uint32_t>(level));
    EXPECT_EQ(spec.name(), "web");
    EXPECT_EQ(spec.uid(), 65534u);
    EXPECT_THAT(spec.env(), Contains("NOTIFY_SOCKET=/run/notify.sock"));
    EXPECT_EQ(r->create.output(), sandboxd::v1::OUTPUT_MODE_FILES);
    EXPECT_EQ(r->create.stdout_path(), "/run/secureos/svcd/logs/web.fifo");
    // A fresh /run, then the notify socket bound into it.
    const auto& entries = spec.filesystem().entries();
    ASSERT_GE(entries.size(), 2);
    const auto& run = entries[entries.size() - 2];
    const auto& sock = entries[entries.size() - 1];
    EXPECT_EQ(run.kind(), sandboxd::v1::MOUNT_KIND_TMPFS);
    EXPECT_EQ(run.target(), "/run");
    EXPECT_EQ(sock.kind(), sandboxd::v1::MOUNT_KIND_RW_BIND);
    EXPECT_EQ(sock.source(), "/run/secureos/svcd/notify/web.sock");
    EXPECT_EQ(sock.target(), "/run/notify.sock");
    EXPECT_EQ(spec.limits().pids(), 512u);
    EXPECT_TRUE(spec.namespaces().user() == (level >= 4)) << level;
    EXPECT_TRUE(spec.namespaces().net() == (level >= 4)) << level;
    EXPECT_TRUE(VerifyPlanMeetsLevel(s).ok()) << level;
  }
}

TEST(LaunchPlan, OverridesReachTheSandbox) {
  ServiceSpec s = Compile(R"pb(name: "web" argv: "/bin/true" user: "nobody" level: 3
                               overrides { network: NETWORK_LOOPBACK user_namespace: true
                                           read_only_paths: "/srv" read_write_paths: "/var/lib/web" }
                               capabilities: "cap_net_bind_service")pb");
  auto r = PlanLaunch(s, LaunchContext{});
  ASSERT_TRUE(r.ok()) << r.status();
  const sandboxd::v1::SandboxSpec& spec = r->create.spec();
  EXPECT_EQ(spec.network(), sandboxd::v1::NETWORK_MODE_LOOPBACK);
  EXPECT_TRUE(spec.namespaces().net());
  EXPECT_TRUE(spec.namespaces().user());
  EXPECT_EQ(spec.capabilities(), "cap_net_bind_service");
  EXPECT_EQ(ServicePrincipal(s), "sandbox:web");
  bool ro = false, rw = false;
  for (const auto& e : spec.filesystem().entries()) {
    ro = ro || (e.kind() == sandboxd::v1::MOUNT_KIND_RO_BIND && e.target() == "/srv");
    rw = rw || (e.kind() == sandboxd::v1::MOUNT_KIND_RW_BIND && e.target() == "/var/lib/web");
    EXPECT_NE(e.target(), "/run/notify.sock");  // No notify socket in this context.
  }
  EXPECT_TRUE(ro);
  EXPECT_TRUE(rw);
  for (const std::string& e : spec.env()) EXPECT_THAT(e, ::testing::Not(HasSubstr("NOTIFY_SOCKET")));
}

}  // namespace
}  // namespace secureos::svcd
