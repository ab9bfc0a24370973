// `secctl --json` on every command that answers (not the ones that stream a program's own
// output: cap exec, sandbox run, ctr run, ctr exec, svc logs), against all five daemons on a
// temporary root with one of everything (a grant, a workload, a container, a service): each
// exits 0 and prints JSON only, one value per line. Needs root, namespaces and cgroups
// (tagged local).
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/process.h"
#include "tests/suite_test.h"

namespace secureos {
namespace {

class JsonOutputTest : public test::SuiteTest {
 protected:
  void BeforeStop() override {
    (void)Secctl({"svc", "stop", "j"});
    (void)Secctl({"ctr", "delete", "--force", "c"});
  }

  const test::TempRoot& root() const { return suite_->root(); }
};

// Each line of `out` is a JSON value; none is empty.
void ExpectJsonLines(const std::vector<std::string>& command, const test::RunResult& r, int exit_code = 0) {
  const std::string what = absl::StrJoin(command, " ");
  EXPECT_EQ(r.exit_code, exit_code) << what << ": " << r.err;
  ASSERT_FALSE(r.out.empty()) << what << " printed nothing";
  for (absl::string_view line : absl::StrSplit(absl::StripTrailingAsciiWhitespace(r.out), '\n')) {
    google::protobuf::Value v;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &v).ok())
        << what << " printed a line that is not JSON: " << line;
  }
}

TEST_F(JsonOutputTest, EveryCommandThatAnswersAnswersInJson) {
  // One of everything.
  ASSERT_EQ(Secctl({"cap", "grant", "uid:65534", "cap_kill"}).exit_code, 0);
  ASSERT_EQ(Secctl({"sandbox", "run", "--name", "once", "--", "/bin/true"}).exit_code, 0);
  test::RunResult created = Secctl({"ctr", "create", "c", "--bundle", suite_->BusyboxBundle("bundle", 100)});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  test::WriteFileOrDie(root() / "j.service", "name: \"j\"\nargv: \"/bin/sleep\"\nargv: \"100\"\nuser: \"nobody\"\nlevel: 2\n");
  ASSERT_EQ(Secctl({"svc", "add", root() / "j.service"}).exit_code, 0);
  test::RunResult listed = Secctl({"--json", "sandbox", "list"});
  const size_t id_at = listed.out.find("\"id\":\"");
  ASSERT_NE(id_at, std::string::npos) << listed.out;
  const std::string workload = listed.out.substr(id_at + 6, listed.out.find('"', id_at + 6) - id_at - 6);
  test::WriteFileOrDie(root() / "r.rules",
                       "rule { name: \"r\" condition: \"kind == CONFIG_RELOADED\" severity: SEVERITY_INFO output: \"x\" }\n");
  const std::vector<std::vector<std::string>> commands = {
      {"status"}, {"version"}, {"reload", "capd"}, {"cap", "status"}, {"sandbox", "status"}, {"ctr", "status"},
      {"svc", "status"}, {"monitor", "status"}, {"cap", "get", "1"}, {"cap", "audit"}, {"cap", "grants"},
      {"cap", "ps"}, {"cap", "drift"}, {"sandbox", "list"}, {"sandbox", "inspect", workload},
      {"ctr", "start", "c"}, {"ctr", "state", "c"}, {"ctr", "list"}, {"ctr", "stats", "c", "--once"},
      {"svc", "start", "j"}, {"svc", "status", "j"},
      {"svc", "list"}, {"svc", "explain", "j"}, {"svc", "restart", "j"}, {"svc", "stop", "j"},
      {"svc", "reset-failed", "j"}, {"monitor", "stats"}, {"monitor", "violations"},
      {"monitor", "rules", "test", root() / "r.rules", root() / "var/lib/monitord/audit/audit.log"},
      {"monitor", "rules", "reload"}, {"monitor", "audit", "verify", "--dir", root() / "var/lib/monitord/audit"},
      {"ctr", "kill", "c", "KILL"}, {"cap", "revoke", "uid:65534"}, {"cap", "grant", "uid:65534", "cap_kill"},
  };
  for (const auto& command : commands) {
    std::vector<std::string> args = {"--json"};
    args.insert(args.end(), command.begin(), command.end());
    ExpectJsonLines(command, Secctl(args));
  }
  // ctr check exits 1 for a bundle with findings (crun spec's: uid 0 without a user namespace).
  ExpectJsonLines({"ctr", "check"}, Secctl({"--json", "ctr", "check", "--bundle", root() / "bundle"}), 1);
  // Those that end something, last.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Secctl({"ctr", "state", "c"}).out.find("stopped") == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"ctr", "delete", "c"}, {"svc", "remove", "j"}}) {
    std::vector<std::string> args = {"--json"};
    args.insert(args.end(), command.begin(), command.end());
    ExpectJsonLines(command, Secctl(args));
  }
}

}  // namespace
}  // namespace secureos
