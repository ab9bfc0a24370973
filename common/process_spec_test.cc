#include "common/process_spec.h"

#include <fcntl.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos {
namespace {

using ::testing::HasSubstr;

google::protobuf::RepeatedPtrField<std::string> Strings(std::vector<std::string> v) {
  return {v.begin(), v.end()};
}

std::string Errors(const FieldErrors& e) { return std::string(e.ToStatus().message()); }

TEST(ProcessSpecTest, ArgvAndEnvProblemsAreAllNamed) {
  FieldErrors none;
  CheckArgvEnv(Strings({"/bin/true"}), Strings({"A=b"}), &none);
  EXPECT_TRUE(none.ToStatus().ok());

  FieldErrors e;
  CheckArgvEnv(Strings({"true", std::string("a\0b", 3)}), Strings({"NOEQUALS", "=x"}), &e);
  EXPECT_THAT(Errors(e), HasSubstr("argv[0]: must be an absolute path, got \"true\""));
  EXPECT_THAT(Errors(e), HasSubstr("argv[1]: contains a NUL byte"));
  EXPECT_THAT(Errors(e), HasSubstr("env[0]: must be KEY=value"));
  EXPECT_THAT(Errors(e), HasSubstr("env[1]: must be KEY=value"));

  FieldErrors empty;
  CheckArgvEnv(Strings({}), Strings({}), &empty);
  EXPECT_THAT(Errors(empty), HasSubstr("argv: required"));
}

TEST(ProcessSpecTest, RlimitsAreTypedAndInfinityIsExplicit) {
  common::v1::Rlimit r;
  r.set_resource(common::v1::RLIMIT_RESOURCE_NOFILE);
  r.set_soft(64);
  r.set_hard(128);
  FieldErrors e;
  auto lim = CheckRlimit(r, "limits.rlimits[0]", &e);
  ASSERT_TRUE(lim.has_value());
  EXPECT_EQ(lim->first, RLIMIT_NOFILE);
  EXPECT_EQ(lim->second.rlim_cur, 64u);
  EXPECT_EQ(lim->second.rlim_max, 128u);

  r.set_soft(256);
  EXPECT_FALSE(CheckRlimit(r, "limits.rlimits[0]", &e).has_value());
  EXPECT_THAT(Errors(e), HasSubstr("limits.rlimits[0].soft: must not exceed hard"));

  common::v1::Rlimit inf;
  inf.set_resource(common::v1::RLIMIT_RESOURCE_CORE);
  inf.set_infinity(true);
  FieldErrors ok;
  auto unlimited = CheckRlimit(inf, "x", &ok);
  ASSERT_TRUE(unlimited.has_value());
  EXPECT_EQ(unlimited->second.rlim_max, RLIM_INFINITY);

  common::v1::Rlimit max;
  max.set_resource(common::v1::RLIMIT_RESOURCE_AS);
  max.set_hard(RLIM_INFINITY);
  FieldErrors bad;
  EXPECT_FALSE(CheckRlimit(max, "r", &bad).has_value());
  EXPECT_THAT(Errors(bad), HasSubstr("r: use infinity: true"));
  FieldErrors unspecified;
  EXPECT_FALSE(CheckRlimit(common::v1::Rlimit(), "r", &unspecified).has_value());
  EXPECT_THAT(Errors(unspecified), HasSubstr("r.resource: required"));
}

TEST(ProcessSpecTest, StreamedStdioGivesNonBlockingReadEnds) {
  Stdio s;
  ASSERT_TRUE(OpenStreamedStdio(&s).ok());
  ASSERT_TRUE(s.out_read.valid());
  EXPECT_NE(::fcntl(s.out_read.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(s.out.get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(s.out.get(), "hi", 2), 2);
  char buf[4];
  EXPECT_EQ(::read(s.out_read.get(), buf, sizeof(buf)), 2);
  EXPECT_EQ(::read(s.out_read.get(), buf, sizeof(buf)), -1);  // Empty: EAGAIN, not a block.
}

TEST(ProcessSpecTest, CStringArrayIsNullTerminated) {
  std::vector<std::string> v = {"a", "bc"};
  std::vector<char*> p = CStringArray(v);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_STREQ(p[1], "bc");
  EXPECT_EQ(p[2], nullptr);
}

}  // namespace
}  // namespace secureos
