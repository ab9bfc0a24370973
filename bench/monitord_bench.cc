// monitord's engine and audit log, side by side with their floors, in one run:
//   rule evaluation on one core: the default rules, and 100 rules (the defaults plus 86 of the
//     same shapes), over a mix of events of every daemon: events/s;
//   audit append rate per fsync mode (every record, batched 20 ms, none): AuditLog (format,
//     SHA-256 chain, group commit) against appending the same bytes to a file with the same
//     sync policy (the physical limit);
//   publish-to-alert latency through the real daemons: capd publishes an event (a Reload),
//     monitord follows capd, runs the default rules plus one that matches the event, and
//     serves the alert on Watch; latency is the alert's arrival at the Watch client minus the
//     event's publish time (one host, one realtime clock), p50/p99, one event at a time and
//     with two clients making capd publish as fast as it answers.
// The latency cases need root (daemons on a temporary root with /run on a tmpfs); without
// root they are reported as not run. Run: bazel run -c opt //bench:monitord_bench
// [-- --events N --records N --alerts N]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <atomic>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_support.h"
#include "common/status.h"
#include "grpcpp/grpcpp.h"
#include "proto/capd.grpc.pb.h"
#include "proto/monitord.grpc.pb.h"
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
ABSL_FLAG(int, records, 200000, "Audit records per fsync mode (every-record mode: a hundredth).");
ABSL_FLAG(int, alerts, 1000, "Measured alerts per latency case (after 50 warm-up ones).");
ABSL_FLAG(int, rounds, 5, "Rounds of the rule and audit cases, alternating (after one warm-up round).");

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

constexpr char kReloadRule[] =
    "rule { name: \"bench reload\" condition: \"kind == CONFIG_RELOADED and source == capd\" "
    "severity: SEVERITY_WARNING output: \"{source} reloaded by {principal.id}\" }\n";

// Alerts of the bench rule as they arrive on a Watch stream: their latencies from the
// event's publish time.
class AlertWatch {
 public:
  explicit AlertWatch(monitord::v1::Monitord::Stub* stub) {
    monitord::v1::WatchRequest req;
    req.set_min_severity(cv1::SEVERITY_WARNING);
    reader_ = stub->Watch(&ctx_, req);
    thread_ = std::thread([this] { Read(); });
  }
  ~AlertWatch() {
    ctx_.TryCancel();
    thread_.join();
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return ms_.size();
  }
  // Until more than `n` alerts have come; false after `timeout`.
  bool WaitBeyond(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto beyond = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return ms_.size() > n; };
    return mu_.AwaitWithTimeout(absl::Condition(&beyond), timeout);
  }
  std::vector<double> ms() {
    absl::MutexLock lock(&mu_);
    return ms_;
  }

 private:
  void Read() {
    monitord::v1::Alert a;
    while (reader_->Read(&a)) {
      if (a.rule() != "bench reload") continue;
      const int64_t published = google::protobuf::util::TimeUtil::TimestampToNanoseconds(a.event().time());
      const double ms = (absl::ToUnixNanos(absl::Now()) - published) / 1e6;
      absl::MutexLock lock(&mu_);
      ms_.push_back(ms);
    }
  }

  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<monitord::v1::Alert>> reader_;
  absl::Mutex mu_;
  std::vector<double> ms_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

absl::Status Reload(capd::v1::Capd::Stub* capd) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  cv1::ReloadResponse r;
  grpc::Status s = capd->Reload(&ctx, {}, &r);
  return s.ok() ? absl::OkStatus() : absl::UnavailableError("capd Reload: " + s.error_message());
}

// Until monitord follows capd and the Watch is in place: an alert comes through.
absl::Status WaitFollowing(capd::v1::Capd::Stub* capd, AlertWatch& watch) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (watch.count() == 0) {
    SECUREOS_RETURN_IF_ERROR(Reload(capd));
    if (!watch.WaitBeyond(0, absl::Milliseconds(200)) && absl::Now() > deadline) {
      return absl::DeadlineExceededError("no alert within 20 s: monitord does not follow capd");
    }
  }
  return absl::OkStatus();
}

// One event at a time: a Reload, then its alert.
absl::StatusOr<std::vector<double>> OneAtATime(capd::v1::Capd::Stub* capd, monitord::v1::Monitord::Stub* monitord,
                                               int rounds) {
  AlertWatch watch(monitord);
  SECUREOS_RETURN_IF_ERROR(WaitFollowing(capd, watch));
  constexpr int kWarmUp = 50;
  const size_t first = watch.count();
  for (int i = 0; i < kWarmUp + rounds; ++i) {
    const size_t before = watch.count();
    SECUREOS_RETURN_IF_ERROR(Reload(capd));
    if (!watch.WaitBeyond(before, absl::Seconds(5))) return absl::DeadlineExceededError("an alert did not come in 5 s");
  }
  std::vector<double> all = watch.ms();
  return std::vector<double>(all.begin() + static_cast<ptrdiff_t>(first + kWarmUp), all.end());
}

// Two clients reloading capd as fast as it answers: every event's latency to its alert.
absl::StatusOr<std::vector<double>> Flat(capd::v1::Capd::Stub* capd, monitord::v1::Monitord::Stub* monitord,
                                         int events, double* per_second) {
  AlertWatch watch(monitord);
  SECUREOS_RETURN_IF_ERROR(WaitFollowing(capd, watch));
  const size_t first = watch.count();
  std::atomic<int> left{events};
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      while (left.fetch_sub(1) > 0) failed = failed || !Reload(capd).ok();
    });
  }
  for (std::thread& t : clients) t.join();
  if (failed) return absl::UnavailableError("capd Reload failed under load");
  if (!watch.WaitBeyond(first + events - 1, absl::Seconds(20))) {
    return absl::DeadlineExceededError(absl::StrCat("only ", watch.count() - first, " of ", events, " alerts came"));
  }
  *per_second = events / absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all = watch.ms();
  return std::vector<double>(all.begin() + static_cast<ptrdiff_t>(first), all.end());
}

// Records `r` for tools/bench; false (and says why) when it cannot.
bool Recorded(const bench::Result& r) {
  const absl::Status s = bench::Record(r);
  if (!s.ok()) std::fprintf(stderr, "record %s: %s\n", r.name.c_str(), std::string(s.message()).c_str());
  return s.ok();
}

void AlertLatency(int rounds) {
  std::printf("| publish to alert (capd -> monitord -> Watch) | p50 ms | p99 ms | alerts |\n|---|---:|---:|---:|\n");
  if (::geteuid() != 0) {
    std::printf("| not run: needs root (daemons on a temporary root) | | | |\n");
    return;
  }
  const std::string server = "server { socket_mode: \"0600\" event_ring_capacity: 4096 shutdown_timeout_ms: 2000 }\n";
  const std::string cgroup_parent = absl::StrCat("secureos-bench/mon-", ::getpid());
  absl::StatusOr<std::unique_ptr<bench::Suite>> suite = bench::Suite::Start(
      {"capd", "monitord"},
      {{"capd.conf", server + "drift_check_interval_seconds: 3600\ngrantable_capabilities: \"cap_kill\"\n"},
       {"monitord.conf", server + "sources: \"capd\"\nstate_dir: \"var/lib/monitord\"\n"
                                  "rules_file: \"etc/secureos/bench.rules\"\n"},
       {"bench.rules", std::string(embedded::kDefaultRules) + kReloadRule}},
      cgroup_parent);
  if (!suite.ok()) {
    std::printf("| not run: %s | | | |\n", std::string(suite.status().message()).c_str());
    return;
  }
  auto capd = capd::v1::Capd::NewStub(
      grpc::CreateChannel("unix:" + (*suite)->Socket("capd"), grpc::InsecureChannelCredentials()));
  auto monitord = monitord::v1::Monitord::NewStub(
      grpc::CreateChannel("unix:" + (*suite)->Socket("monitord"), grpc::InsecureChannelCredentials()));
  absl::StatusOr<std::vector<double>> one = OneAtATime(capd.get(), monitord.get(), rounds);
  const std::string group = "monitord publish to alert (capd -> monitord -> Watch)";
  if (one.ok()) {
    std::printf("| one event at a time | %.3f | %.3f | %zu |\n", bench::Pct(*one, 0.5), bench::Pct(*one, 0.99), one->size());
    (void)Recorded({group, "one at a time", "one event at a time", "ms", bench::Role::kOurs, *one});
  } else {
    std::printf("| one event at a time: failed: %s | | | |\n", std::string(one.status().message()).c_str());
  }
  double rate = 0;
  absl::StatusOr<std::vector<double>> flat = Flat(capd.get(), monitord.get(), 10 * rounds, &rate);
  if (flat.ok()) {
    std::printf("| two clients at full speed (%.0f events/s) | %.3f | %.3f | %zu |\n", rate, bench::Pct(*flat, 0.5),
                bench::Pct(*flat, 0.99), flat->size());
    (void)Recorded({group, "full speed", absl::StrCat("two clients at full speed (", static_cast<int64_t>(rate), " events/s)"),
                    "ms", bench::Role::kOurs, *flat});
  } else {
    std::printf("| two clients at full speed: failed: %s | | | |\n", std::string(flat.status().message()).c_str());
  }
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
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (rounds < 1) {
    std::fprintf(stderr, "--rounds: at least 1, got %d\n", rounds);
    return 1;
  }
  uint64_t a1 = 0, a2 = 0;
  std::vector<double> r1, r2;
  for (int i = 0; i <= rounds; ++i) {  // Round 0 warms up.
    const double d = RulesRate(*defaults, n, &a1);
    const double h = RulesRate(*hundred, n, &a2);
    if (i == 0) continue;
    r1.push_back(d);
    r2.push_back(h);
  }
  std::printf("| rules | median events/s (one core) | p10 | p90 | alerts |\n|---|---:|---:|---:|---:|\n");
  std::printf("| default (%zu rules) | %.0f | %.0f | %.0f | %lu |\n", (*defaults)->rules().size(), bench::Pct(r1, 0.5),
              bench::Pct(r1, 0.1), bench::Pct(r1, 0.9), static_cast<unsigned long>(a1));
  std::printf("| %zu rules | %.0f | %.0f | %.0f | %lu |\n\n", (*hundred)->rules().size(), bench::Pct(r2, 0.5),
              bench::Pct(r2, 0.1), bench::Pct(r2, 0.9), static_cast<unsigned long>(a2));
  const std::string rules_group = "monitord rule evaluation, one core";
  bool recorded =
      Recorded({rules_group, "default rules", absl::StrCat("default rules (", (*defaults)->rules().size(), ")"),
                "events/s", bench::Role::kOurs, r1}) &&
      Recorded({rules_group, "100 rules", absl::StrCat((*hundred)->rules().size(), " rules"), "events/s",
                bench::Role::kOurs, r2});
  char tmpl[] = "/tmp/monitord-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  const absl::Duration batch = absl::Milliseconds(20);
  std::printf("| fsync mode | audit log records/s (median) | raw append records/s (median) | raw / audit |\n"
              "|---|---:|---:|---:|\n");
  for (auto [name, policy] : {std::pair{"every record", FsyncPolicy::kEveryRecord},
                              {"batched 20 ms", FsyncPolicy::kBatched}, {"none", FsyncPolicy::kNone}}) {
    const int records = policy == FsyncPolicy::kEveryRecord ? absl::GetFlag(FLAGS_records) / 100 : absl::GetFlag(FLAGS_records);
    std::vector<double> raw, ours;
    for (int i = 0; i <= rounds; ++i) {
      const double r = RawRate(dir + "/raw.log", policy, records, batch);
      const double o = AuditRate(dir + "/audit", policy, records, batch);
      if (i == 0) continue;
      raw.push_back(r);
      ours.push_back(o);
    }
    std::printf("| %s | %.0f | %.0f | %.2fx |\n", name, bench::Pct(ours, 0.5), bench::Pct(raw, 0.5),
                bench::Pct(raw, 0.5) / bench::Pct(ours, 0.5));
    const std::string group = absl::StrCat("audit append, fsync ", name);
    recorded = recorded &&
               Recorded({group, "audit log", "AuditLog: format, SHA-256 chain, group commit", "records/s",
                         bench::Role::kOurs, ours}) &&
               Recorded({group, "raw append", "the same bytes appended, same sync policy (floor)", "records/s",
                         bench::Role::kFloor, raw});
  }
  std::filesystem::remove_all(dir);
  std::printf("\n");
  if (!recorded) return 1;
  AlertLatency(absl::GetFlag(FLAGS_alerts));
  return 0;
}

}  // namespace
}  // namespace secureos::monitord

int main(int argc, char** argv) { return secureos::monitord::Main(argc, argv); }
