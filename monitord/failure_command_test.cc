// The audit-failure command: validated, started with the error in its environment and
// nothing of monitord's but stderr, and reaped.
#include "monitord/failure_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::monitord {
namespace {

using ::testing::HasSubstr;

TEST(FailureCommandTest, TheProgramMustBeAnAbsolutePath) {
  EXPECT_TRUE(ValidateFailureCommand({}).ok());
  EXPECT_TRUE(ValidateFailureCommand({"/usr/bin/logger", "x"}).ok());
  absl::Status s = ValidateFailureCommand({"logger", "x"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "the program must be an absolute path, got \"logger\"");
}

TEST(FailureCommandTest, RunsWithTheErrorAndAFixedEnvironment) {
  ::setenv("SECRET_OF_MONITORD", "leak", 1);
  const std::string out = ::testing::TempDir() + "/failure-command.out";
  ::unlink(out.c_str());
  const std::string script = "{ echo \"error=$SECUREOS_AUDIT_ERROR\"; echo \"path=$PATH\"; echo \"secret=$SECRET_OF_MONITORD\"; "
                             "ls /proc/self/fd | wc -l; } > " + out + ".tmp && mv " + out + ".tmp " + out;
  absl::StatusOr<pid_t> pid = RunFailureCommand({"/bin/sh", "-c", script}, "write the audit log: No space left on device");
  ASSERT_TRUE(pid.ok()) << pid.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (::access(out.c_str(), F_OK) != 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  absl::StatusOr<std::string> written = ReadFile(out);
  ASSERT_TRUE(written.ok()) << written.status();
  const std::string& text = *written;
  EXPECT_THAT(text, HasSubstr("error=write the audit log: No space left on device\n"));
  EXPECT_THAT(text, HasSubstr("path=/usr/sbin:/usr/bin:/sbin:/bin\n"));
  EXPECT_THAT(text, HasSubstr("secret=\n"));
  // It was reaped by its thread: no zombie stays.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_NE(::kill(*pid, 0), 0);
}

TEST(FailureCommandTest, AProgramThatCannotStartIsAnError) {
  absl::StatusOr<pid_t> pid = RunFailureCommand({"/nonexistent/page-someone"}, "x");
  EXPECT_FALSE(pid.ok());
  EXPECT_THAT(pid.status().message(), HasSubstr("on_failure_exec: start /nonexistent/page-someone"));
}

}  // namespace
}  // namespace secureos::monitord
