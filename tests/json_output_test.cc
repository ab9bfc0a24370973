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

namespace secureos {
namespace {

class JsonOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cgroups_ = absl::StrCat("secureos-test/json-", ::getpid());
    test::InstallSecctl(root_);
    const std::string server = "server { socket_mode: \"0660\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\n";
    test::WriteFileOrDie(root_ / "etc/secureos/capd.conf",
                         server + "drift_check_interval_seconds: 60\n"
                                  "grantable_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n"
                                  "container_default_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n");
    test::WriteFileOrDie(root_ / "etc/secureos/sandboxd.conf",
                         absl::StrCat(server, "workload_uid: 65534\nid_map_count: 1\ncgroup_parent: \"", cgroups_,
                                      "/sbx\"\ncontainer_id_start: 1000000\ncontainer_id_count: 131072\n"));
    test::WriteFileOrDie(root_ / "etc/secureos/containerd-lite.conf",
                         server + "subuid_file: \"etc/secureos/pool\"\nsubgid_file: \"etc/secureos/pool\"\n"
                                  "state_dir: \"run/ctr\"\ncompliance { mode: COMPLIANCE_MODE_WARN }\n");
    test::WriteFileOrDie(root_ / "etc/secureos/pool", "test:1000000:131072\n");
    test::WriteFileOrDie(root_ / "etc/secureos/svcd.conf",
                         absl::StrCat(server, "services_dir: \"etc/secureos/services\"\nlog_dir: \"var/log/services\"\n"
                                              "log_max_bytes: 65536\nlog_files_kept: 1\ncgroup_parent: \"", cgroups_,
                                      "/svc\"\n"));
    test::WriteFileOrDie(root_ / "etc/secureos/monitord.conf",
                         server + "sources: \"capd\" sources: \"sandboxd\" sources: \"containerd-lite\" sources: "
                                  "\"svcd\"\nstate_dir: \"var/lib/monitord\"\n");
    for (auto [name, d] : {std::pair{"capd", &capd_}, {"sandboxd", &sandboxd_}, {"containerd-lite", &ctr_},
                           {"svcd", &svcd_}, {"monitord", &monitord_}}) {
      const absl::Status s = test::StartDaemonInto(root_, name, d);
      ASSERT_TRUE(s.ok()) << s;
    }
  }

  void TearDown() override {
    (void)Secctl({"svc", "stop", "j"});
    (void)Secctl({"ctr", "delete", "--force", "c"});
    test::StopDaemons({&monitord_, &svcd_, &ctr_, &sandboxd_, &capd_});
    test::RemoveCgroupEverywhere(cgroups_ + "/sbx");
    test::RemoveCgroupEverywhere(cgroups_ + "/svc");
    test::RemoveCgroupEverywhere(cgroups_);
    if (HasFailure()) std::cerr << test::DaemonLogs(root_, {"capd", "sandboxd", "containerd-lite", "svcd", "monitord"});
  }

  test::RunResult Secctl(std::vector<std::string> args) { return test::RunSecctl(root_, args); }

  // A busybox bundle, made by `crun spec`, that sleeps.
  std::string Bundle() {
    const std::string b = root_ / "bundle";
    test::WriteFileOrDie(b + "/rootfs/bin/busybox", test::ReadFileOrEmpty("/bin/busybox"), 0755);
    for (const char* d : {"proc", "dev", "sys", "tmp"}) test::WriteFileOrDie(absl::StrCat(b, "/rootfs/", d, "/.keep"), "");
    EXPECT_EQ(::symlink("busybox", (b + "/rootfs/bin/sleep").c_str()), 0);
    EXPECT_EQ(test::RunProcess({"/usr/bin/crun", "spec", "--bundle", b}).exit_code, 0);
    std::string json = test::ReadFileOrEmpty(b + "/config.json");
    absl::StrReplaceAll({{"\"terminal\": true", "\"terminal\": false"}, {"\"sh\"\n", "\"sleep\", \"100\"\n"}}, &json);
    test::WriteFileOrDie(b + "/config.json", json);
    return b;
  }

  std::string cgroups_;
  test::TempRoot root_;
  std::optional<test::Child> capd_, sandboxd_, ctr_, svcd_, monitord_;
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
  test::RunResult created = Secctl({"ctr", "create", "c", "--bundle", Bundle()});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  test::WriteFileOrDie(root_ / "j.service", "name: \"j\"\nargv: \"/bin/sleep\"\nargv: \"100\"\nuser: \"nobody\"\nlevel: 2\n");
  ASSERT_EQ(Secctl({"svc", "add", root_ / "j.service"}).exit_code, 0);
  test::RunResult listed = Secctl({"--json", "sandbox", "list"});
  const size_t id_at = listed.out.find("\"id\":\"");
  ASSERT_NE(id_at, std::string::npos) << listed.out;
  const std::string workload = listed.out.substr(id_at + 6, listed.out.find('"', id_at + 6) - id_at - 6);
  test::WriteFileOrDie(root_ / "r.rules",
                       "rule { name: \"r\" condition: \"kind == CONFIG_RELOADED\" severity: SEVERITY_INFO output: \"x\" }\n");
  const std::vector<std::vector<std::string>> commands = {
      {"status"}, {"version"}, {"reload", "capd"}, {"cap", "status"}, {"sandbox", "status"}, {"ctr", "status"},
      {"svc", "status"}, {"monitor", "status"}, {"cap", "get", "1"}, {"cap", "audit"}, {"cap", "grants"},
      {"cap", "ps"}, {"cap", "drift"}, {"sandbox", "list"}, {"sandbox", "inspect", workload},
      {"ctr", "start", "c"}, {"ctr", "state", "c"}, {"ctr", "list"}, {"ctr", "stats", "c", "--once"},
      {"svc", "start", "j"}, {"svc", "status", "j"},
      {"svc", "list"}, {"svc", "explain", "j"}, {"svc", "restart", "j"}, {"svc", "stop", "j"},
      {"svc", "reset-failed", "j"}, {"monitor", "stats"}, {"monitor", "violations"},
      {"monitor", "rules", "test", root_ / "r.rules", root_ / "var/lib/monitord/audit/audit.log"},
      {"monitor", "rules", "reload"}, {"monitor", "audit", "verify", "--dir", root_ / "var/lib/monitord/audit"},
      {"ctr", "kill", "c", "KILL"}, {"cap", "revoke", "uid:65534"}, {"cap", "grant", "uid:65534", "cap_kill"},
  };
  for (const auto& command : commands) {
    std::vector<std::string> args = {"--json"};
    args.insert(args.end(), command.begin(), command.end());
    ExpectJsonLines(command, Secctl(args));
  }
  // ctr check exits 1 for a bundle with findings (crun spec's: uid 0 without a user namespace).
  ExpectJsonLines({"ctr", "check"}, Secctl({"--json", "ctr", "check", "--bundle", root_ / "bundle"}), 1);
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
