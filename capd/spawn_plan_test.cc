#include "capd/spawn_plan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
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

TEST(SpawnPlanTest, CgroupsAreAbsoluteNormalizedDistinctAndAtMostEight) {
  v1::SpawnRequest r = Valid();
  r.add_cgroups("relative");
  r.add_cgroups("/sys/fs/cgroup/pids/a/");
  r.add_cgroups("/sys/fs/cgroup/pids/../memory");
  r.add_cgroups("/sys/fs/cgroup/pids/b");
  r.add_cgroups("/sys/fs/cgroup/pids/b");
  for (int i = 0; i < 4; ++i) r.add_cgroups(absl::StrCat("/sys/fs/cgroup/x", i));
  const std::string m(BuildSpawnPlan(r).status().message());
  EXPECT_THAT(m, HasSubstr("cgroups: at most 8 (one per hierarchy), got 9"));
  EXPECT_THAT(m, HasSubstr("cgroups[0]: must be an absolute path, got \"relative\""));
  EXPECT_THAT(m, HasSubstr("cgroups[1]: must be normalized"));
  EXPECT_THAT(m, HasSubstr("cgroups[2]: must be normalized"));
  EXPECT_THAT(m, HasSubstr("cgroups[4]: repeats cgroups[3]"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("cgroups[3]:")));
}

// A fresh directory under the test's temporary directory.
std::string TestDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

TEST(SpawnPlanTest, MountPathsAreNormalizedExistingDirectories) {
  const std::string dir = TestDir("mounts");
  const std::string file = dir + "/file";
  ::close(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  const std::string link = dir + "/link";
  ::symlink(dir.c_str(), link.c_str());
  v1::SpawnRequest r = Valid();
  v1::MountView* v = r.mutable_mounts();
  v->add_read_only_paths("usr");             // [0]
  v->add_read_only_paths("/usr/./lib");      // [1]
  v->add_read_only_paths("//usr");           // [2]
  v->add_read_only_paths(dir + "/missing");  // [3]
  v->add_read_only_paths(file);              // [4]
  v->add_read_only_paths(link);              // [5]
  v->add_read_only_paths("/usr");            // [6]
  v->add_read_only_paths("/usr");            // [7]
  v->add_optional_read_only_paths(file);
  v->add_read_write_paths("/");
  v->add_read_write_paths(std::string("/usr\0/x", 7));
  const std::string m(BuildSpawnPlan(r).status().message());
  EXPECT_THAT(m, HasSubstr("mounts.read_only_paths[0]: must be an absolute path"));
  EXPECT_THAT(m, HasSubstr("mounts.read_only_paths[1]: must be normalized (no \".\" or \"..\""));
  EXPECT_THAT(m, HasSubstr("mounts.read_only_paths[2]: must be normalized (no \"//\""));
  EXPECT_THAT(m, HasSubstr(absl::StrCat("mounts.read_only_paths[3]: ", dir, "/missing does not exist")));
  EXPECT_THAT(m, HasSubstr(absl::StrCat("mounts.read_only_paths[4]: ", file, " is not a directory")));
  EXPECT_THAT(m, HasSubstr(absl::StrCat("mounts.read_only_paths[5]: ", link, " is a symbolic link")));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("mounts.read_only_paths[6]:")));
  EXPECT_THAT(m, HasSubstr("mounts.read_only_paths[7]: repeats mounts.read_only_paths[6]"));
  EXPECT_THAT(m, HasSubstr("mounts.optional_read_only_paths[0]: " + file + " is not a directory"));
  EXPECT_THAT(m, HasSubstr("mounts.read_write_paths[0]: \"/\" is refused"));
  EXPECT_THAT(m, HasSubstr("mounts.read_write_paths[1]: contains a NUL byte"));

  v1::SpawnRequest many = Valid();
  for (int i = 0; i <= kMaxMountPaths; ++i) many.mutable_mounts()->add_read_write_paths("/usr");
  EXPECT_THAT(std::string(BuildSpawnPlan(many).status().message()),
              HasSubstr("mounts.read_write_paths: at most 64 paths, got 65"));
}

TEST(SpawnPlanTest, AMountViewBecomesThePlansPathsWithMissingOptionalOnesSkipped) {
  const std::string dir = TestDir("view");
  const std::string rw = dir + "/rw";
  ::mkdir(rw.c_str(), 0755);
  v1::SpawnRequest r = Valid();
  EXPECT_FALSE(BuildSpawnPlan(r)->private_mounts());
  r.mutable_mounts()->set_private_tmp(true);
  r.mutable_mounts()->add_read_only_paths(dir);
  r.mutable_mounts()->add_optional_read_only_paths("/nonexistent-secureos-capd-test");
  r.mutable_mounts()->add_optional_read_only_paths("/usr");
  r.mutable_mounts()->add_read_write_paths(rw);
  auto plan = BuildSpawnPlan(r);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->private_mounts());
  EXPECT_TRUE(plan->private_tmp);
  EXPECT_EQ(plan->read_only_paths, (std::vector<std::string>{dir, "/usr"}));
  EXPECT_EQ(plan->read_write_paths, (std::vector<std::string>{rw}));
}

TEST(SpawnPlanTest, ReadOnlyPathsUnderReadWriteOnesAndPathsUnderAPrivateTmpAreRefused) {
  const std::string dir = TestDir("nested");
  const std::string below = dir + "/below";
  ::mkdir(below.c_str(), 0755);
  v1::SpawnRequest r = Valid();
  r.mutable_mounts()->add_read_only_paths(below);
  r.mutable_mounts()->add_read_write_paths(dir);
  EXPECT_THAT(std::string(BuildSpawnPlan(r).status().message()),
              HasSubstr(absl::StrCat("mounts.read_only_paths[0]: is at or under "
                                     "mounts.read_write_paths[0] ", dir, ", which would make it writable")));

  v1::SpawnRequest tmp = Valid();
  tmp.mutable_mounts()->set_private_tmp(true);
  tmp.mutable_mounts()->add_read_only_paths("/tmp");
  tmp.mutable_mounts()->add_read_write_paths("/tmp");
  const std::string m(BuildSpawnPlan(tmp).status().message());
  EXPECT_THAT(m, HasSubstr("mounts.read_only_paths[0]: is at or under /tmp, which private_tmp replaces"));
  EXPECT_THAT(m, HasSubstr("mounts.read_write_paths[0]: is at or under /tmp, which private_tmp replaces"));
}

TEST(SpawnPlanTest, OutputToAFifoNeedsAReaderAndBlocksOnceOpen) {
  const std::string fifo = TestDir("fifo") + "/out.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  v1::SpawnRequest r = Valid();
  r.set_output(v1::OUTPUT_MODE_FILES);
  r.set_stdout_path(fifo);
  r.set_stderr_path(fifo);
  auto refused = BuildSpawnPlan(r);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr(absl::StrCat("stdout_path: ", fifo, ": no reader (ENXIO)")));

  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  auto plan = BuildSpawnPlan(r);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(::fcntl(plan->stdout_fd.get(), F_GETFL) & (O_NONBLOCK | O_APPEND), O_APPEND);
  EXPECT_EQ(::fcntl(plan->stderr_fd.get(), F_GETFL) & (O_NONBLOCK | O_APPEND), O_APPEND);
  ::close(reader);
}

}  // namespace
}  // namespace secureos::capd
