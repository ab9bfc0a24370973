#include "svcd/definition.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::ServiceDefinition Parse(const std::string& text) {
  v1::ServiceDefinition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  return d;
}

constexpr char kGood[] = R"pb(
  name: "web" argv: "/bin/sleep" argv: "100" user: "nobody" level: 1
  capabilities: "cap_net_bind_service" restart: RESTART_POLICY_ON_FAILURE
  stop_signal: "INT" stop_timeout_ms: 2500 watchdog_ms: 1000 readiness: READINESS_NOTIFY
  restart_backoff { initial_ms: 0 } start_limit { burst: 3 interval_ms: 2000 }
)pb";

absl::Status ErrorsOf(const std::string& text, DefinitionPolicy policy = {}) {
  return CompileDefinition(Parse(text), policy).status();
}

TEST(Definition, AGoodOneResolves) {
  auto s = CompileDefinition(Parse(kGood), DefinitionPolicy{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->uid, 65534u);
  EXPECT_EQ(s->gid, 65534u);  // nobody's primary group (nogroup).
  EXPECT_EQ(s->caps.ToString(), "cap_net_bind_service");
  EXPECT_EQ(s->stop_signal, SIGINT);
  EXPECT_EQ(s->stop_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(s->watchdog, absl::Seconds(1));
  EXPECT_EQ(s->ready_timeout, absl::Seconds(30));
  EXPECT_EQ(s->backoff.DelayFor(3), absl::ZeroDuration());
  EXPECT_EQ(s->start_burst, 3u);
  EXPECT_EQ(s->start_interval, absl::Seconds(2));
}

TEST(Definition, DefaultsFollowSystemd) {
  auto s = CompileDefinition(Parse(R"pb(name: "a" argv: "/bin/true" user: "0" group: "0" level: 1 run_as_root: true)pb"),
                             DefinitionPolicy{true});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->stop_signal, SIGTERM);
  EXPECT_EQ(s->stop_timeout, absl::Seconds(10));
  EXPECT_EQ(s->start_burst, 5u);
  EXPECT_EQ(s->start_interval, absl::Seconds(10));
  EXPECT_EQ(s->backoff.DelayFor(1), absl::Milliseconds(100));
}

TEST(Definition, EachBadFieldIsNamed) {
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {R"pb(name: "a" argv: "/bin/true" user: "no-such-user-xyz" level: 1)pb", "user: no such user: \"no-such-user-xyz\""},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 0)pb", "level: required, 1 to 5, got 0"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 6)pb", "level: required, 1 to 5, got 6"},
      {R"pb(name: "a" user: "nobody" level: 1)pb", "argv: "},
      {R"pb(name: "a" argv: "true" user: "nobody" level: 1)pb", "argv[0]: "},
      {R"pb(name: "A b" argv: "/bin/true" user: "nobody" level: 1)pb", "name: [a-z0-9]"},
      {R"pb(argv: "/bin/true" user: "nobody" level: 1)pb", "name: required"},
      {R"pb(name: "a" argv: "/bin/true" level: 1)pb", "user: required"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" group: "no-such-group-xyz" level: 1)pb", "group: no such group"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 capabilities: "cap_fly")pb", "capabilities: unknown capability"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 stop_signal: "SIGFOO")pb", "stop_signal: not a signal"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 stop_timeout_ms: 0)pb", "stop_timeout_ms: from 1"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 limits { memory_bytes: 10 })pb", "limits.memory_bytes: at least 1048576"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 limits { cpu_millis: 1 })pb", "limits.cpu_millis: from 10"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 limits { pids: 0 })pb", "limits.pids: at least 1"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 limits { rlimits { resource: RLIMIT_RESOURCE_NOFILE soft: 10 hard: 5 } })pb", "limits.rlimits[0]"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 restart_backoff { multiplier: 0.5 })pb", "restart_backoff.multiplier: from 1"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 restart_backoff { initial_ms: 500 max_ms: 100 })pb", "restart_backoff.max_ms: must be at least initial_ms"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 start_limit { burst: 0 })pb", "start_limit.burst: from 1"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 requires: "a")pb", "requires[0]: a service cannot depend on itself"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 after: "B!")pb", "after[0]: not a service name"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 ready_timeout_ms: 5)pb", "ready_timeout_ms: only with readiness READINESS_NOTIFY"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 watchdog_ms: 3)pb", "watchdog_ms: 0 (none) or from 10"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 env: "NOTIFY_SOCKET=/x")pb", "env[0]: NOTIFY_SOCKET and WATCHDOG_USEC are svcd's"},
      {R"pb(name: "a" argv: "/bin/true" user: "nobody" level: 1 working_directory: "tmp")pb", "working_directory: must be an absolute path"},
  };
  for (const Case& c : cases) {
    absl::Status s = ErrorsOf(c.text);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(s.message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(Definition, AllProblemsAtOnce) {
  absl::Status s = ErrorsOf(R"pb(name: "a" user: "no-such-user-xyz" level: 9 stop_signal: "x")pb");
  EXPECT_THAT(s.message(), HasSubstr("argv"));
  EXPECT_THAT(s.message(), HasSubstr("user: no such user"));
  EXPECT_THAT(s.message(), HasSubstr("stop_signal"));
}

TEST(Definition, RootNeedsItSpelledOutTwice) {
  const std::string root = R"pb(name: "a" argv: "/bin/true" user: "root" level: 1)pb";
  EXPECT_THAT(ErrorsOf(root, {true}).message(), HasSubstr("user: root on the host: say so with run_as_root"));
  EXPECT_THAT(ErrorsOf(root + " run_as_root: true", {false}).message(),
              HasSubstr("run_as_root: svcd's configuration does not allow_root"));
  EXPECT_TRUE(ErrorsOf(root + " run_as_root: true", {true}).ok());
  EXPECT_THAT(ErrorsOf(R"pb(name: "a" argv: "/bin/true" user: "root" level: 3 run_as_root: true)pb", {true}).message(),
              HasSubstr("run_as_root: levels 1-2 only"));
}

TEST(Definition, SignalsByNameAndNumber) {
  EXPECT_EQ(ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("term"), SIGTERM);
  EXPECT_EQ(ParseSignal("9"), SIGKILL);
  EXPECT_EQ(ParseSignal("SIGUSR2"), SIGUSR2);
  EXPECT_EQ(ParseSignal("0"), std::nullopt);
  EXPECT_EQ(ParseSignal("65"), std::nullopt);
  EXPECT_EQ(ParseSignal("SIGNOPE"), std::nullopt);
}

class DefinitionFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp");
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(DefinitionFile, ErrorsNameFileAndLine) {
  const std::string path = Write("web.service",
                                 "name: \"web\"\n"
                                 "argv: \"/bin/true\"\n"
                                 "user: \"nobody\"\n"
                                 "level: 7\n");
  absl::Status s = LoadDefinitionFile(path, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(path + ":4: level: required, 1 to 5, got 7"));
}

TEST_F(DefinitionFile, NegativeNumbersAreParseErrorsWithLineAndColumn) {
  const std::string path = Write("neg.service",
                                 "name: \"neg\"\nargv: \"/bin/true\"\nuser: \"nobody\"\nlevel: 1\n"
                                 "limits { memory_bytes: -1 }\n");
  absl::Status s = LoadDefinitionFile(path, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(path + ":5:"));
}

TEST_F(DefinitionFile, NameMustMatchTheFile) {
  const std::string path = Write("api.service", "name: \"web\"\nargv: \"/bin/true\"\nuser: \"nobody\"\nlevel: 1\n");
  EXPECT_THAT(LoadDefinitionFile(path, {}).status().message(),
              HasSubstr(path + ":1: name: must equal the file's name \"api\""));
  const std::string ok = Write("ok.service", "name: \"ok\"\nargv: \"/bin/true\"\nuser: \"nobody\"\nlevel: 2\n");
  EXPECT_TRUE(LoadDefinitionFile(ok, {}).ok());
}

TEST_F(DefinitionFile, SeccompProfileIsReadAtCompileTime) {
  const std::string profile = Write("strict.profile", "base: \"strict\"\n");
  const std::string def = std::string(R"pb(name: "s" argv: "/bin/true" user: "nobody" level: 4 overrides { seccomp_profile: ")pb") + profile + "\" }";
  auto s = CompileDefinition(Parse(def), {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->seccomp.has_value());
  EXPECT_EQ(s->seccomp->base(), "strict");
  // The default profile does not meet level 4: sandboxd would refuse it, so svcd does now.
  const std::string weak = Write("weak.profile", "base: \"default\"\n");
  const std::string weak_def = std::string(R"pb(name: "s" argv: "/bin/true" user: "nobody" level: 4 overrides { seccomp_profile: ")pb") + weak + "\" }";
  EXPECT_THAT(ErrorsOf(weak_def).message(), HasSubstr("overrides.seccomp_profile: sandboxd would refuse it"));
  EXPECT_THAT(ErrorsOf(R"pb(name: "s" argv: "/bin/true" user: "nobody" level: 3 overrides { seccomp_profile: "/nonexistent/p" })pb").message(),
              HasSubstr("overrides.seccomp_profile: "));
}

}  // namespace
}  // namespace secureos::svcd
