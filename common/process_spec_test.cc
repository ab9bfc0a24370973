#include "common/process_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
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

TEST(ProcessSpecTest, FileStdioAppendsAndNeverBlocksOnAFifoWithoutReader) {
  const std::string dir = ::testing::TempDir();
  const std::string log = dir + "/stdio.log";
  {
    Stdio s;
    ASSERT_TRUE(OpenFileStdio(log, log, &s).ok());
    EXPECT_EQ(::fcntl(s.out.get(), F_GETFL) & (O_APPEND | O_NONBLOCK), O_APPEND);
    EXPECT_NE(::fcntl(s.err.get(), F_GETFD) & FD_CLOEXEC, 0);
    ASSERT_EQ(::write(s.out.get(), "a", 1), 1);
    ASSERT_EQ(::write(s.err.get(), "b", 1), 1);
  }
  {
    Stdio s;
    ASSERT_TRUE(OpenFileStdio(log, dir + "/stdio.err", &s).ok());
    ASSERT_EQ(::write(s.out.get(), "c", 1), 1);  // Appended, never truncated.
  }
  char buf[8] = {};
  UniqueFd read_log(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(::read(read_log.get(), buf, sizeof(buf)), 3);
  EXPECT_STREQ(buf, "abc");

  const std::string fifo = dir + "/stdio.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Stdio no_reader;
  absl::Status s = OpenFileStdio(fifo, log, &no_reader);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("stdout_path: open " + fifo));
  UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  Stdio with_reader;
  ASSERT_TRUE(OpenFileStdio(log, fifo, &with_reader).ok());
  EXPECT_EQ(::fcntl(with_reader.err.get(), F_GETFL) & O_NONBLOCK, 0);  // Blocking for the child.

  ASSERT_EQ(::symlink(log.c_str(), (dir + "/stdio.link").c_str()), 0);
  Stdio link;
  EXPECT_THAT(OpenFileStdio(log, dir + "/stdio.link", &link).message(),
              HasSubstr("stderr_path: open " + dir + "/stdio.link: is a symbolic link"));
  Stdio directory;
  EXPECT_THAT(OpenFileStdio(dir, log, &directory).message(), HasSubstr("stdout_path: open " + dir));
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
