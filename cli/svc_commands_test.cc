#include "cli/svc_commands.h"

#include <signal.h>

#include <cmath>
#include <sstream>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

template <typename M>
M Parse(const std::string& text) {
  M m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

TEST(HumanBytesTest, BytesThenOneDecimalIn1024Units) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(64ull << 20), "64.0 MiB");
  EXPECT_EQ(HumanBytes((3ull << 30) / 2), "1.5 GiB");
  EXPECT_EQ(HumanBytes(5ull << 40), "5.0 TiB");
  EXPECT_EQ(HumanBytes(~0ull), "16.0 EiB");
}

TEST(HumanBytesTest, NeverShows1024OfAUnit) {
  EXPECT_EQ(HumanBytes((1ull << 20) - 1), "1.0 MiB");
  EXPECT_EQ(HumanBytes((1ull << 20) - 60), "1023.9 KiB");
}

TEST(HumanDurationTest, WholeSecondsWithTheLowerUnitsOnceAHigherIsThere) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(0.9), "0s");
  EXPECT_EQ(HumanDuration(-5), "0s");
  EXPECT_EQ(HumanDuration(59.99), "59s");
  EXPECT_EQ(HumanDuration(65), "1m5s");
  EXPECT_EQ(HumanDuration(2 * 3600 + 7), "2h0m7s");
  EXPECT_EQ(HumanDuration(3 * 86400 + 4 * 3600 + 5 * 60 + 6), "3d4h5m6s");
  EXPECT_EQ(HumanDuration(std::nan("")), "0s");
}

TEST(SignalNameTest, AbbreviationWithSigPrefix) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(1000), "signal 1000");
}

TEST(StateNameTest, LowercaseWithoutPrefix) {
  EXPECT_EQ(StateName(svcd::v1::SERVICE_STATE_RUNNING), "running");
  EXPECT_EQ(StateName(svcd::v1::SERVICE_STATE_FAILED), "failed");
  EXPECT_EQ(StateName(static_cast<svcd::v1::ServiceState>(99)), "unknown(99)");
}

TEST(ExitTextTest, CodeSignalReasonTimeAndDetail) {
  EXPECT_EQ(ExitText(svcd::v1::ExitInfo()), "-");
  EXPECT_EQ(ExitText(Parse<svcd::v1::ExitInfo>("code: 0 reason: 'exited'")), "code 0 (exited)");
  EXPECT_EQ(ExitText(Parse<svcd::v1::ExitInfo>(
                "signal: 9 reason: 'oom' detail: 'killed by the OOM killer' "
                "time { seconds: 1700000000 }")),
            "signal SIGKILL (oom) at 2023-11-14T22:13:20Z: killed by the OOM killer");
  EXPECT_EQ(ExitText(Parse<svcd::v1::ExitInfo>("reason: 'start-failed' detail: 'no such file'")),
            "start-failed: no such file");
  EXPECT_EQ(ExitText(Parse<svcd::v1::ExitInfo>("detail: 'who knows'")), "who knows");
}

TEST(ExitShortTest, ForTables) {
  EXPECT_EQ(ExitShort(svcd::v1::ExitInfo()), "-");
  EXPECT_EQ(ExitShort(Parse<svcd::v1::ExitInfo>("code: 3 reason: 'exited' detail: 'x'")),
            "code 3 (exited)");
  EXPECT_EQ(ExitShort(Parse<svcd::v1::ExitInfo>("signal: 15")), "SIGTERM");
  EXPECT_EQ(ExitShort(Parse<svcd::v1::ExitInfo>("reason: 'stopped'")), "stopped");
}

TEST(ParseTailBytesTest, NumbersAndSuffixes) {
  EXPECT_EQ(*ParseTailBytes(""), 0u);
  EXPECT_EQ(*ParseTailBytes("0"), 0u);
  EXPECT_EQ(*ParseTailBytes("65536"), 65536u);
  EXPECT_EQ(*ParseTailBytes("64K"), 65536u);
  EXPECT_EQ(*ParseTailBytes("2m"), 2u << 20);
  EXPECT_EQ(*ParseTailBytes("1G"), 1u << 30);
  for (const char* bad : {"x", "K", "-1", "+5", "1.5K", "12T", "99999999999999999999",
                          "17179869184G"}) {
    absl::StatusOr<uint64_t> r = ParseTailBytes(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--tail"), std::string::npos) << bad;
  }
}

TEST(PrintServiceStatusTest, RunningService) {
  auto st = Parse<svcd::v1::ServiceStatus>(R"pb(
    name: "web"
    state: SERVICE_STATE_RUNNING
    pid: 4242
    since { seconds: 1700000000 }
    uptime_seconds: 3725.5
    restarts: 2
    last_exit { code: 1 reason: "exited" detail: "exited with code 1" }
    memory_bytes: 13107200
    cpu_seconds: 1.234
    level: 3
    enabled: true
    backend_id: "sandboxd:w-7"
    verification {
      ok: false
      pid: 4242
      checks { name: "no_new_privs" expected: "1" actual: "1" ok: true }
      checks { name: "namespace.net" expected: "private" actual: "host" ok: false }
    }
    definition { name: "web" description: "Web frontend" }
  )pb");
  std::ostringstream out;
  PrintServiceStatus(st, out);
  EXPECT_EQ(out.str(),
            "web - Web frontend\n"
            "       state: running since 2023-11-14T22:13:20Z\n"
            "       level: 3\n"
            "     enabled: yes\n"
            "         pid: 4242\n"
            "      uptime: 1h2m5s\n"
            "    restarts: 2\n"
            "   last exit: code 1 (exited): exited with code 1\n"
            "      memory: 12.5 MiB\n"
            "         cpu: 1.23s\n"
            "     backend: sandboxd:w-7\n"
            "verification: FAILED (pid 4242)\n"
            "              namespace.net: expected private, got host\n");
}

TEST(PrintServiceStatusTest, FailedServiceShowsResultAndDefinitionError) {
  auto st = Parse<svcd::v1::ServiceStatus>(R"pb(
    name: "db"
    state: SERVICE_STATE_FAILED
    level: 1
    result: "start-limit-hit"
    last_exit { signal: 6 reason: "watchdog" }
    definition_error: "db.service:3:1: unknown field"
  )pb");
  std::ostringstream out;
  PrintServiceStatus(st, out);
  EXPECT_EQ(out.str(),
            "db\n"
            "       state: failed\n"
            "       level: 1\n"
            "     enabled: no\n"
            "         pid: -\n"
            "      uptime: -\n"
            "    restarts: 0\n"
            "   last exit: signal SIGABRT (watchdog)\n"
            "      memory: -\n"
            "         cpu: -\n"
            "     backend: -\n"
            "      result: start-limit-hit\n"
            "  definition: the file on disk is invalid, the last good definition is in force: "
            "db.service:3:1: unknown field\n"
            "verification: -\n");
}

TEST(PrintExplainTest, SettingsLaunchRequestAndChecks) {
  auto ex = Parse<svcd::v1::ExplainResponse>(R"pb(
    name: "web"
    level: 4
    level_summary: "sandboxed, user namespace, loopback network"
    settings { key: "user" value: "www" source: "definition" }
    settings { key: "seccomp" value: "strict" source: "level 4" }
    launcher: "sandboxd"
    launch_request: "argv: \"/usr/bin/web\"\nnetwork: NETWORK_MODE_LOOPBACK\n"
    verification {
      ok: true
      checks { name: "seccomp" expected: "filter" actual: "filter" ok: true }
    }
  )pb");
  std::ostringstream out;
  PrintExplain(ex, out);
  EXPECT_EQ(out.str(),
            "web: level 4: sandboxed, user namespace, loopback network\n"
            "\n"
            "SETTING  VALUE   SOURCE\n"
            "user     www     (definition)\n"
            "seccomp  strict  (level 4)\n"
            "\n"
            "launcher: sandboxd\n"
            "launch request:\n"
            "    argv: \"/usr/bin/web\"\n"
            "    network: NETWORK_MODE_LOOPBACK\n"
            "verification: ok\n"
            "  RESULT  CHECK    EXPECTED  ACTUAL\n"
            "  ok      seccomp  filter    filter\n");
}

TEST(PrintExplainTest, NotRunning) {
  auto ex = Parse<svcd::v1::ExplainResponse>("name: 'x' level: 5");
  std::ostringstream out;
  PrintExplain(ex, out);
  EXPECT_EQ(out.str(),
            "x: level 5\n\n(no settings)\n\nlauncher: -\nlaunch request: -\n"
            "verification: - (not running)\n");
}

}  // namespace
}  // namespace secureos::cli
