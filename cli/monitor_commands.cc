#include "cli/monitor_commands.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "common/fd.h"
#include "common/grpc_status.h"
#include "common/paths.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "monitord/audit/audit_chain.h"
#include "monitord/audit/audit_log.h"
#include "monitord/rules/rule_engine.h"
#include "monitord/rules/rule_set.h"
#include "proto/monitord.grpc.pb.h"

namespace secureos::cli {

const char kMonitorUsage[] =
    "  monitor watch [--min_severity warning]\n"
    "                          alerts as they fire, until interrupted\n"
    "  monitor violations [--principal P] [--rule R] [--min_severity S] [--since 1h] [--until T]\n"
    "                          per-principal counts and the newest alerts\n"
    "  monitor stats           per-source events, lost and reconnects; rule time; audit log\n"
    "  monitor rules reload    re-read the rules file (admin); an invalid one is refused\n"
    "  monitor rules test RULES EVENTS\n"
    "                          run a rules file over recorded events (JSON lines: `secctl --json\n"
    "                          events DAEMON` output, events, or audit log records) and print\n"
    "                          what would fire; exit 1 if nothing would\n"
    "  monitor audit verify [--dir DIR]\n"
    "                          check the audit log's hash chain (default <root>/var/lib/secureos/\n"
    "                          monitord/audit); exit 1 naming every break\n";

namespace {

namespace v1 = ::secureos::monitord::v1;
namespace cv1 = ::secureos::common::v1;
using google::protobuf::util::TimeUtil;

int Fail(std::ostream& err, const std::string& what, const absl::Status& s) {
  return FailCall(err, what, s, "monitord");
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "secctl: " << problem << "\n\n" << kMonitorUsage;
  return kExitUsage;
}

std::unique_ptr<v1::Monitord::Stub> Stub(const Options& o) { return StubOn<v1::Monitord>(o, "monitord"); }

std::string SeverityName(cv1::Severity s) {
  return absl::AsciiStrToLower(absl::StripPrefix(cv1::Severity_Name(s), "SEVERITY_"));
}

void PrintAlert(const v1::Alert& a, const Options& o, std::ostream& out) {
  if (o.json) {
    out << JsonOf(a) << std::endl;
    return;
  }
  out << TimeUtil::ToString(a.event().time()) << "  " << SeverityName(a.severity()) << "  [" << a.rule() << "] "
      << a.output() << std::endl;
}

// One line of an events file as an event: a SubscribeResponse ({"event": ...}), an Event,
// or an audit log record whose type is "event". nullopt for other records (lost, alerts).
absl::StatusOr<std::optional<cv1::Event>> EventOfLine(absl::string_view line) {
  google::protobuf::util::JsonParseOptions opts;
  if (absl::StartsWith(line, "{\"seq\":")) {
    absl::StatusOr<monitord::RecordHeader> record = monitord::ParseRecordHeader(line);
    if (!record.ok()) return record.status();
    if (record->type != "event") return std::optional<cv1::Event>();
    line = record->data;
  }
  cv1::SubscribeResponse record;
  if (google::protobuf::util::JsonStringToMessage(std::string(line), &record, opts).ok()) {
    if (record.has_event()) return std::optional<cv1::Event>(record.event());
    if (record.has_lost()) return std::optional<cv1::Event>();
  }
  cv1::Event e;
  const auto s = google::protobuf::util::JsonStringToMessage(std::string(line), &e, opts);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("not an event: ", std::string(s.message())));
  return std::optional<cv1::Event>(e);
}

int RulesTest(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 2) return Usage(err, "monitor rules test: needs RULES EVENTS");
  absl::StatusOr<std::shared_ptr<const monitord::RuleSet>> rules = monitord::RuleSet::Load(args[0]);
  if (!rules.ok()) {
    err << "secctl: " << rules.status().message() << "\n";
    return ExitCodeFor(rules.status());
  }
  absl::StatusOr<std::string> text = ReadFile(args[1], size_t{1} << 32);
  if (!text.ok()) return Usage(err, std::string(text.status().message()));
  monitord::RuleEngine engine(*rules);
  uint64_t events = 0, fired = 0;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    absl::StatusOr<std::optional<cv1::Event>> e = EventOfLine(line);
    if (!e.ok()) {
      err << "secctl: " << args[1] << ":" << line_no << ": " << e.status().message() << "\n";
      return kExitInvalidArgument;
    }
    if (!e->has_value()) continue;
    ++events;
    for (const v1::Alert& a : engine.Process(**e)) {
      PrintAlert(a, o, out);
      ++fired;
    }
  }
  for (const v1::Alert& a : engine.Flush()) {
    PrintAlert(a, o, out);
    ++fired;
  }
  if (!o.json) out << events << " events, " << fired << " alerts from " << (*rules)->rules().size() << " rules\n";
  return fired > 0 ? kExitOk : kExitFailed;
}

int AuditVerify(const Options& o, const MonitorOptions& m, std::ostream& out, std::ostream& err) {
  const std::string dir = m.dir.empty() ? UnderRoot(o.root, "var/lib/secureos/monitord/audit") : m.dir;
  const std::vector<std::string> files = monitord::AuditLog::Files(dir);
  if (files.empty()) {
    err << "secctl: monitor audit verify: no audit log in " << dir << "\n";
    return kExitNotFound;
  }
  absl::StatusOr<std::string> head = ReadFile(monitord::AuditLog::HeadPath(dir));
  const monitord::VerifyReport r = monitord::VerifyChain(files, head.ok() ? *head : "");
  if (o.json) {
    google::protobuf::Struct report;
    auto& f = *report.mutable_fields();
    f["ok"].set_bool_value(r.ok());
    f["records"].set_number_value(static_cast<double>(r.records));
    f["files"].set_number_value(static_cast<double>(r.files));
    f["head_file"].set_bool_value(head.ok());
    auto* problems = f["problems"].mutable_list_value();
    for (const std::string& p : r.problems) problems->add_values()->set_string_value(p);
    out << JsonOf(report) << "\n";
    return r.ok() ? kExitOk : kExitFailed;
  }
  for (const std::string& p : r.problems) out << "BROKEN " << p << "\n";
  out << (r.ok() ? "ok: " : "tampered or damaged: ") << r.records << " records in " << r.files << " file"
      << (r.files == 1 ? "" : "s") << (head.ok() ? "" : " (no head file: a truncation would go unseen)") << "\n";
  return r.ok() ? kExitOk : kExitFailed;
}

absl::StatusOr<cv1::Severity> ParseSeverity(const std::string& text) {
  if (text.empty()) return cv1::SEVERITY_UNSPECIFIED;
  cv1::Severity s;
  if (cv1::Severity_Parse(absl::StrCat("SEVERITY_", absl::AsciiStrToUpper(text)), &s)) return s;
  return absl::InvalidArgumentError(
      absl::StrCat("--min_severity: info, notice, warning or critical, got \"", text, "\""));
}

int Watch(const Options& o, const MonitorOptions& m, std::ostream& out, std::ostream& err) {
  absl::StatusOr<cv1::Severity> min = ParseSeverity(m.min_severity);
  if (!min.ok()) return Usage(err, std::string(min.status().message()));
  v1::WatchRequest req;
  req.set_min_severity(*min);
  grpc::ClientContext ctx;
  auto reader = Stub(o)->Watch(&ctx, req);
  v1::Alert a;
  while (reader->Read(&a)) PrintAlert(a, o, out);
  absl::Status s = FromGrpcStatus(reader->Finish());
  return s.ok() ? kExitOk : Fail(err, "monitor watch", s);
}

}  // namespace

absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view flag, const std::string& text, absl::Time now) {
  absl::Duration ago;
  if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration()) return now - ago;
  absl::Time t;
  std::string why;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &why)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": a duration ago (1h, 30m) or an RFC 3339 time (2026-12-04T12:00:00Z), got \"", text, "\""));
}

namespace {

int Violations(const Options& o, const MonitorOptions& m, std::ostream& out, std::ostream& err) {
  absl::StatusOr<cv1::Severity> min = ParseSeverity(m.min_severity);
  if (!min.ok()) return Usage(err, std::string(min.status().message()));
  v1::ViolationsRequest req;
  req.set_principal(m.principal);
  req.set_rule(m.rule);
  req.set_min_severity(*min);
  // Each set only when given: an unset `until` means now.
  for (const auto& [flag, text, field] :
       {std::tuple{"--since", &m.since, &v1::ViolationsRequest::mutable_since},
        std::tuple{"--until", &m.until, &v1::ViolationsRequest::mutable_until}}) {
    if (text->empty()) continue;
    absl::StatusOr<absl::Time> t = ParseTimeArg(flag, *text, absl::Now());
    if (!t.ok()) return Usage(err, std::string(t.status().message()));
    *(req.*field)() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*t));
  }
  v1::ViolationsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->Violations(&ctx, req, &resp));
  if (!s.ok()) return Fail(err, "monitor violations", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"PRINCIPAL", "ALERTS", "WORST", "LAST", "RULES"});
  for (const v1::PrincipalViolations& p : resp.principals()) {
    std::vector<std::string> rules;
    for (const auto& [rule, n] : p.by_rule()) rules.push_back(absl::StrCat(rule, " ", n));
    t.AddRow({p.principal().empty() ? "-" : p.principal(), absl::StrCat(p.alerts()), SeverityName(p.worst()),
              TimeUtil::ToString(p.last()), absl::StrJoin(rules, ", ")});
  }
  t.Print(out);
  for (const v1::Alert& a : resp.history()) PrintAlert(a, o, out);
  return kExitOk;
}

int Stats(const Options& o, std::ostream& out, std::ostream& err) {
  v1::StatsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->Stats(&ctx, v1::StatsRequest(), &resp));
  if (!s.ok()) return Fail(err, "monitor stats", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"SOURCE", "CONNECTED", "IN", "RECORDED", "ALERTS", "LOST RECORDS", "LOST EVENTS", "RECONNECTS", "AT"});
  for (const v1::SourceStats& src : resp.sources()) {
    t.AddRow({src.source(), src.connected() ? "yes" : "no", absl::StrCat(src.events()), absl::StrCat(src.recorded()),
              absl::StrCat(src.alerts()), absl::StrCat(src.lost_records()), absl::StrCat(src.lost_events()),
              absl::StrCat(src.reconnects()), absl::StrCat(src.sequence())});
  }
  t.Print(out);
  out << resp.rules() << " rules; " << resp.events_evaluated() << " events evaluated, " << resp.rule_eval_ns_mean()
      << " ns each; " << resp.alerts() << " alerts; " << resp.queued() << " queued\naudit: " << resp.audit_records()
      << " records, " << resp.audit_lost() << " lost; commit (write + sync) last " << resp.audit_commit_ns() / 1000
      << " us, mean " << resp.audit_commit_ns_mean() / 1000 << " us, max " << resp.audit_commit_ns_max() / 1000 << " us"
      << (resp.audit_failing() ? ", FAILING" : "") << "\n";
  return kExitOk;
}

int RulesReload(const Options& o, std::ostream& out, std::ostream& err) {
  v1::ReloadRulesResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->ReloadRules(&ctx, v1::ReloadRulesRequest(), &resp));
  if (!s.ok()) return Fail(err, "monitor rules reload", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  out << resp.rules() << " rules in force from " << resp.file() << "\n";
  return kExitOk;
}

}  // namespace

bool RunMonitorCommand(const Options& o, const MonitorOptions& m, const std::string& command,
                       const std::vector<std::string>& args, std::ostream& out, std::ostream& err, int* exit_code) {
  const std::string sub = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.empty() ? args.end() : args.begin() + 1, args.end());
  if (command == "watch") *exit_code = Watch(o, m, out, err);
  else if (command == "violations") *exit_code = Violations(o, m, out, err);
  else if (command == "stats") *exit_code = Stats(o, out, err);
  else if (command == "rules" && sub == "test") *exit_code = RulesTest(o, rest, out, err);
  else if (command == "rules" && sub == "reload") *exit_code = RulesReload(o, out, err);
  else if (command == "rules") *exit_code = Usage(err, "monitor rules: test RULES EVENTS, or reload");
  else if (command == "audit" && sub == "verify") *exit_code = AuditVerify(o, m, out, err);
  else if (command == "audit") *exit_code = Usage(err, "monitor audit: verify");
  else return false;
  return true;
}

}  // namespace secureos::cli
