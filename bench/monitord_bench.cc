// monitord's engine and audit log, side by side with their floors, in one run:
//   rule evaluation on one core: the default rules, and 100 rules (the defaults plus 86 of the
//     same shapes), over a mix of events of every daemon: events/s;
//   audit append rate per fsync mode (every record, batched 20 ms, none): AuditLog (format,
//     SHA-256 chain, group commit) against appending the same bytes to a file with the same
//     sync policy (the physical limit).
// Needs nothing but a writable /tmp. Run: bazel run -c opt //bench:monitord_bench [-- --events N]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "monitord/audit/audit_chain.h"
#include "monitord/audit/audit_log.h"
#include "monitord/default_rules.h"
#include "monitord/rules/rule_engine.h"
#include "monitord/rules/rule_set.h"

ABSL_FLAG(int, events, 1000000, "Events through the rules per case.");
ABSL_FLAG(int, records, 20000, "Audit records per fsync mode (every-record mode: a tenth).");

namespace secureos::monitord {
namespace {

namespace cv1 = ::secureos::common::v1;

std::vector<cv1::Event> EventMix() {
  std::vector<cv1::Event> mix;
  const cv1::EventKind kinds[] = {cv1::EVENT_KIND_ACCESS_DENIED, cv1::EVENT_KIND_SECCOMP_VIOLATION,
                                  cv1::EVENT_KIND_SERVICE_RESTARTED, cv1::EVENT_KIND_CONFIG_RELOADED,
                                  cv1::EVENT_KIND_WORKLOAD_EXITED, cv1::EVENT_KIND_CONTAINER_EXITED,
                                  cv1::EVENT_KIND_SPAWN_STARTED, cv1::EVENT_KIND_COMPLIANCE_FINDING};
  for (int i = 0; i < 64; ++i) {
    cv1::Event e;
    e.set_source("bench");
    e.set_kind(kinds[i % 8]);
    e.set_severity(cv1::SEVERITY_NOTICE);
    e.mutable_principal()->set_id(absl::StrCat("uid:", 1000 + i % 7));
    e.set_message(absl::StrCat("event ", i));
    if (e.kind() == cv1::EVENT_KIND_SECCOMP_VIOLATION) {
      e.mutable_workload()->set_name(absl::StrCat("w", i % 5));
      e.mutable_workload()->set_syscall(i % 3 == 0 ? "ptrace" : "socket");
    }
    if (e.kind() == cv1::EVENT_KIND_SERVICE_RESTARTED) e.mutable_service()->set_service(absl::StrCat("s", i % 4));
    if (e.kind() == cv1::EVENT_KIND_WORKLOAD_EXITED) e.mutable_workload()->set_reason(i % 2 ? "oom" : "exited");
    mix.push_back(e);
  }
  return mix;
}

// The defaults plus rules of the same shapes up to `total`.
std::string HundredRules(int total) {
  std::string text = embedded::kDefaultRules;
  const char* kinds[] = {"ACCESS_DENIED", "SECCOMP_VIOLATION", "SERVICE_RESTARTED", "CONFIG_RELOADED",
                         "WORKLOAD_EXITED", "CONTAINER_EXITED", "SPAWN_STARTED", "COMPLIANCE_FINDING"};
  for (int i = 14; i < total; ++i) {
    absl::StrAppend(&text, "rule { name: \"extra ", i, "\" condition: \"kind == ", kinds[i % 8],
                    " and principal.id startswith \\\"uid:10", i % 10, "\\\" and not message contains \\\"zzz\\\"\"",
                    " severity: SEVERITY_INFO output: \"{principal.id} {message}\"",
                    i % 3 == 0 ? absl::StrCat(" threshold { count: 5 window_ms: 1000 group_by: \"principal.id\" }") : "",
                    " }\n");
  }
  return text;
}

double RulesRate(const std::shared_ptr<const RuleSet>& rules, int n, uint64_t* alerts) {
  RuleEngine engine(rules);
  std::vector<cv1::Event> mix = EventMix();
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    cv1::Event& e = mix[i % mix.size()];
    *e.mutable_time() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(i);
    *alerts += engine.Process(e).size();
  }
  return n / absl::ToDoubleSeconds(absl::Now() - start);
}

constexpr char kData[] =
    "{\"source\":\"capd\",\"sequence\":\"12345\",\"kind\":\"EVENT_KIND_ACCESS_DENIED\",\"principal\":"
    "{\"id\":\"uid:1000\"},\"message\":\"PERMISSION_DENIED: /secureos.capd.v1.Capd/Grant needs admin\"}";

double RawRate(const std::string& path, FsyncPolicy policy, int n, absl::Duration batch) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_TRUNC, 0600);
  const std::string line = FormatRecord(1, absl::Now(), "event", kGenesisHash, kData) + "\n";
  absl::Time last_sync = absl::Now();
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    (void)!::write(fd, line.data(), line.size());
    if (policy == FsyncPolicy::kEveryRecord || (policy == FsyncPolicy::kBatched && absl::Now() - last_sync >= batch)) {
      ::fdatasync(fd);
      last_sync = absl::Now();
    }
  }
  if (policy != FsyncPolicy::kNone) ::fdatasync(fd);
  const double rate = n / absl::ToDoubleSeconds(absl::Now() - start);
  ::close(fd);
  return rate;
}

double AuditRate(const std::string& dir, FsyncPolicy policy, int n, absl::Duration batch) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  AuditLogOptions o;
  o.dir = dir;
  o.fsync = policy;
  o.batch = batch;
  auto log = AuditLog::Open(o);
  if (!log.ok()) return 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) (*log)->Append("event", kData);
  (void)(*log)->Flush();
  return n / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_events);
  auto defaults = RuleSet::FromText(embedded::kDefaultRules, "default.rules");
  auto hundred = RuleSet::FromText(HundredRules(100), "100.rules");
  if (!defaults.ok() || !hundred.ok()) {
    std::fprintf(stderr, "rules: %s %s\n", std::string(defaults.status().message()).c_str(),
                 std::string(hundred.status().message()).c_str());
    return 1;
  }
  uint64_t a1 = 0, a2 = 0;
  const double r1 = RulesRate(*defaults, n, &a1);
  const double r2 = RulesRate(*hundred, n, &a2);
  std::printf("| rules | events/s (one core) | alerts |\n|---|---:|---:|\n");
  std::printf("| default (%zu rules) | %.0f | %lu |\n", (*defaults)->rules().size(), r1, static_cast<unsigned long>(a1));
  std::printf("| %zu rules | %.0f | %lu |\n\n", (*hundred)->rules().size(), r2, static_cast<unsigned long>(a2));
  char tmpl[] = "/tmp/monitord-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  const absl::Duration batch = absl::Milliseconds(20);
  std::printf("| fsync mode | audit log records/s | raw append records/s | ratio |\n|---|---:|---:|---:|\n");
  for (auto [name, policy] : {std::pair{"every record", FsyncPolicy::kEveryRecord},
                              {"batched 20 ms", FsyncPolicy::kBatched}, {"none", FsyncPolicy::kNone}}) {
    const int records = policy == FsyncPolicy::kEveryRecord ? absl::GetFlag(FLAGS_records) / 10 : absl::GetFlag(FLAGS_records);
    const double raw = RawRate(dir + "/raw.log", policy, records, batch);
    const double ours = AuditRate(dir + "/audit", policy, records, batch);
    std::printf("| %s | %.0f | %.0f | %.2fx |\n", name, ours, raw, raw / ours);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace secureos::monitord

int main(int argc, char** argv) { return secureos::monitord::Main(argc, argv); }
