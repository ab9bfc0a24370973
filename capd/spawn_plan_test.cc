#include "capd/spawn_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::capd {
namespace {

using ::testing::HasSubstr;

v1::SpawnRequest Valid() {
  v1::SpawnRequest r;
  r.set_principal("service:web");
  r.add_argv("/bin/true");
  r.set_uid(65534);
  r.set_gid(65534);
  r.set_capabilities("cap_net_bind_service");
  return r;
}

TEST(SpawnPlanTest, AValidRequestBecomesAPlanWithLockedSecurebits) {
  auto plan = BuildSpawnPlan(Valid());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->caps.ToString(), "cap_net_bind_service");
  EXPECT_EQ(plan->securebits, 0x2fu);  // noroot+locked, no_setuid_fixup+locked, keep_caps locked.
  EXPECT_EQ(plan->cwd, "/");
  EXPECT_TRUE(plan->stdout_fd.valid());
  EXPECT_EQ(plan->argv_ptrs.back(), nullptr);
  EXPECT_STREQ(plan->argv_ptrs[0], "/bin/true");
}

TEST(SpawnPlanTest, EveryProblemIsNamedAtOnce) {
  v1::SpawnRequest r;
  r.set_principal("bob");
  r.set_capabilities("cap_net_bind_service,cap_fly");
  r.add_env("NOEQUALS");
  r.set_cwd("relative");
  auto plan = BuildSpawnPlan(r);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(plan.status().message());
  EXPECT_THAT(m, HasSubstr("principal: principal: \"bob\" must be uid:N"));
  EXPECT_THAT(m, HasSubstr("argv: required"));
  EXPECT_THAT(m, HasSubstr("uid: required"));
  EXPECT_THAT(m, HasSubstr("gid: required"));
  EXPECT_THAT(m, HasSubstr("capabilities: unknown capability \"cap_fly\""));
  EXPECT_THAT(m, HasSubstr("env[0]: must be KEY=value"));
  EXPECT_THAT(m, HasSubstr("cwd: must be an absolute path"));
}

TEST(SpawnPlanTest, RelativeProgramAndBadRlimitsAndOutput) {
  v1::SpawnRequest r = Valid();
  r.set_argv(0, "true");
  auto* lim = r.add_rlimits();
  lim->set_resource(common::v1::RLIMIT_RESOURCE_NOFILE);
  lim->set_soft(100);
  lim->set_hard(10);
  r.add_rlimits()->set_hard(5);  // No resource.
  r.set_output(v1::OUTPUT_MODE_FILES);
  auto plan = BuildSpawnPlan(r);
  const std::string m(plan.status().message());
  EXPECT_THAT(m, HasSubstr("argv[0]: must be an absolute path, got \"true\""));
  EXPECT_THAT(m, HasSubstr("rlimits[0].soft: must not exceed hard"));
  EXPECT_THAT(m, HasSubstr("rlimits[1].resource: required"));
  EXPECT_THAT(m, HasSubstr("stdout_path: required"));
}

TEST(SpawnPlanTest, AbsentUidIsNotRoot) {
  v1::SpawnRequest r = Valid();
  r.clear_uid();
  EXPECT_THAT(std::string(BuildSpawnPlan(r).status().message()), HasSubstr("uid: required"));
  r.set_uid(0);  // Explicit root is a valid request (policy decides).
  EXPECT_TRUE(BuildSpawnPlan(r).ok());
}

}  // namespace
}  // namespace secureos::capd
