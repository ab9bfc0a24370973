#include "cli/svc_commands.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "common/config_loader.h"
#include "common/fd.h"
#include "common/grpc_status.h"
#include "google/protobuf/util/time_util.h"
#include "proto/svcd.grpc.pb.h"

namespace secureos::cli {

const char kSvcUsage[] =
    "  svc add FILE            add the service FILE defines (a ServiceDefinition in protobuf\n"
    "                          text format, JSON when FILE ends in .json) and start it when\n"
    "                          enabled (admin); prints its status\n"
    "  svc update FILE         replace a service's definition; a running service keeps the\n"
    "                          old one until restarted (admin)\n"
    "  svc remove NAME         remove a stopped service and its definition file (admin)\n"
    "  svc start|stop|restart NAME\n"
    "                          start NAME (and what it requires), stop it (and what requires\n"
    "                          it) or both, and wait for the result (admin)\n"
    "  svc reset-failed NAME   leave the failed state and forget the start-limit history (admin)\n"
    "  svc status [NAME]       without NAME: svcd's own health line, as for every daemon;\n"
    "                          with NAME: state, pid, uptime, last exit, memory, cpu and\n"
    "                          verification of that service\n"
    "  svc list                every service: state, level, pid, uptime, restarts, memory\n"
    "  svc explain NAME        what NAME's level gives it, setting by setting and where each\n"
    "                          comes from, and the request svcd sends capd or sandboxd\n"
    "  svc logs NAME [--follow|-f] [--tail BYTES]\n"
    "                          NAME's log as written (stdout and stderr), from BYTES before\n"
    "                          its end (64K: 1024-based K, M, G; default svcd's, 8192);\n"
    "                          --follow keeps streaming until svcd ends it or Ctrl-C (admin)\n"
    "  add, start, stop and restart wait up to --timeout, 2m unless given; logs --follow\n"
    "  has no deadline. FILE unreadable: exit 2; FILE not a valid definition: exit 5 with\n"
    "  FILE:LINE:COLUMN.\n";

// ---- Pure formatting -------------------------------------------------------------------

std::string StateName(svcd::v1::ServiceState state) {
  if (!svcd::v1::ServiceState_IsValid(state)) return absl::StrCat("unknown(", state, ")");
  return absl::AsciiStrToLower(
      absl::StripPrefix(svcd::v1::ServiceState_Name(state), "SERVICE_STATE_"));
}

namespace {

std::string How(const svcd::v1::ExitInfo& e) {
  switch (e.how_case()) {
    case svcd::v1::ExitInfo::kCode:
      return absl::StrCat("code ", e.code());
    case svcd::v1::ExitInfo::kSignal:
      return SignalName(e.signal());
    default:
      return "";
  }
}

// "code 1 (exited)", "SIGKILL (oom)", "stopped", "".
std::string HowAndReason(const svcd::v1::ExitInfo& e, bool signal_word) {
  std::string how = How(e);
  if (signal_word && e.how_case() == svcd::v1::ExitInfo::kSignal) how = "signal " + how;
  if (how.empty()) return e.reason();
  if (e.reason().empty()) return how;
  return absl::StrCat(how, " (", e.reason(), ")");
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

}  // namespace

std::string ExitText(const svcd::v1::ExitInfo& e) {
  std::string text = HowAndReason(e, /*signal_word=*/true);
  if (e.has_time()) absl::StrAppend(&text, text.empty() ? "" : " ", "at ", TimeText(e.time()));
  if (!e.detail().empty()) absl::StrAppend(&text, text.empty() ? "" : ": ", e.detail());
  return text.empty() ? "-" : text;
}

std::string ExitShort(const svcd::v1::ExitInfo& e) {
  std::string text = HowAndReason(e, /*signal_word=*/false);
  return text.empty() ? "-" : text;
}

absl::StatusOr<uint64_t> ParseTailBytes(const std::string& text) {
  if (text.empty()) return 0;
  std::string digits = text;
  uint64_t unit = 1;
  if (!absl::ascii_isdigit(digits.back())) {
    switch (absl::ascii_tolower(digits.back())) {
      case 'k': unit = 1ull << 10; break;
      case 'm': unit = 1ull << 20; break;
      case 'g': unit = 1ull << 30; break;
      default: unit = 0;
    }
    digits.pop_back();
  }
  uint64_t n;
  if (unit == 0 || digits.empty() || !absl::ascii_isdigit(digits[0]) ||
      !absl::SimpleAtoi(digits, &n) || n > (~0ull) / unit) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tail: a number of bytes such as 65536 or 64K, got \"", text, "\""));
  }
  return n * unit;
}

namespace {

bool Runs(svcd::v1::ServiceState s) {
  return s == svcd::v1::SERVICE_STATE_STARTING || s == svcd::v1::SERVICE_STATE_RUNNING ||
         s == svcd::v1::SERVICE_STATE_STOPPING;
}

std::string Uptime(const svcd::v1::ServiceStatus& st) {
  return Runs(st.state()) || st.uptime_seconds() > 0 ? HumanDuration(st.uptime_seconds()) : "-";
}

std::string Memory(const svcd::v1::ServiceStatus& st) {
  return st.has_memory_bytes() ? HumanBytes(st.memory_bytes()) : "-";
}

std::string Pid(int32_t pid) { return pid > 0 ? absl::StrCat(pid) : "-"; }

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string OneLine(const std::string& s) {
  return absl::StrReplaceAll(absl::StripTrailingAsciiWhitespace(s), {{"\n", "; "}});
}

// "ok (pid 12 at TIME)" / "FAILED (pid 12 at TIME)".
std::string VerificationLine(const svcd::v1::Verification& v) {
  std::string text = v.ok() ? "ok" : "FAILED";
  std::vector<std::string> about;
  if (v.pid() > 0) about.push_back(absl::StrCat("pid ", v.pid()));
  if (v.has_time()) about.push_back(absl::StrCat("at ", TimeText(v.time())));
  if (!about.empty()) absl::StrAppend(&text, " (", absl::StrJoin(about, " "), ")");
  return text;
}

}  // namespace

void PrintServiceStatus(const svcd::v1::ServiceStatus& st, std::ostream& out) {
  auto line = [&out](absl::string_view label, absl::string_view value) {
    out << absl::StrFormat("%12s: %s\n", label, value);
  };
  out << st.name();
  if (!st.definition().description().empty()) out << " - " << st.definition().description();
  out << "\n";
  std::string state = StateName(st.state());
  if (st.has_since()) absl::StrAppend(&state, " since ", TimeText(st.since()));
  line("state", state);
  line("level", absl::StrCat(st.level()));
  line("enabled", st.enabled() ? "yes" : "no");
  line("pid", Pid(st.pid()));
  line("uptime", Uptime(st));
  line("restarts", absl::StrCat(st.restarts()));
  line("last exit", st.has_last_exit() ? ExitText(st.last_exit()) : "-");
  line("memory", Memory(st));
  line("cpu", st.has_cpu_seconds() ? absl::StrFormat("%.2fs", st.cpu_seconds()) : "-");
  line("backend", OrDash(st.backend_id()));
  if (st.state() == svcd::v1::SERVICE_STATE_FAILED) line("result", OrDash(st.result()));
  if (st.state() == svcd::v1::SERVICE_STATE_RESTARTING && st.has_next_start()) {
    line("next start", TimeText(st.next_start()));
  }
  if (!st.definition_error().empty()) {
    line("definition", absl::StrCat("the file on disk is invalid, the last good definition is "
                                    "in force: ",
                                    OneLine(st.definition_error())));
  }
  if (!st.has_verification()) {
    line("verification", "-");
    return;
  }
  const svcd::v1::Verification& v = st.verification();
  line("verification", VerificationLine(v));
  for (const svcd::v1::Check& c : v.checks()) {
    if (c.ok()) continue;
    out << absl::StrFormat("%12s  %s: expected %s, got %s\n", "", c.name(), c.expected(),
                           c.actual());
  }
}

void PrintExplain(const svcd::v1::ExplainResponse& ex, std::ostream& out) {
  out << ex.name() << ": level " << ex.level();
  if (!ex.level_summary().empty()) out << ": " << OneLine(ex.level_summary());
  out << "\n\n";
  if (ex.settings().empty()) {
    out << "(no settings)\n";
  } else {
    Table settings({"SETTING", "VALUE", "SOURCE"});
    for (const svcd::v1::Setting& s : ex.settings()) {
      settings.AddRow({s.key(), OrDash(OneLine(s.value())), absl::StrCat("(", s.source(), ")")});
    }
    settings.Print(out);
  }
  out << "\nlauncher: " << OrDash(ex.launcher()) << "\n";
  const std::string request(absl::StripTrailingAsciiWhitespace(ex.launch_request()));
  if (request.empty()) {
    out << "launch request: -\n";
  } else {
    out << "launch request:\n";
    for (absl::string_view l : absl::StrSplit(request, '\n')) out << "    " << l << "\n";
  }
  if (!ex.has_verification()) {
    out << "verification: - (not running)\n";
    return;
  }
  out << "verification: " << VerificationLine(ex.verification()) << "\n";
  if (ex.verification().checks().empty()) return;
  Table checks({"RESULT", "CHECK", "EXPECTED", "ACTUAL"});
  for (const svcd::v1::Check& c : ex.verification().checks()) {
    checks.AddRow({c.ok() ? "ok" : "FAIL", c.name(), OrDash(c.expected()), OrDash(c.actual())});
  }
  std::ostringstream table;
  checks.Print(table);
  for (absl::string_view l : absl::StrSplit(table.str(), '\n', absl::SkipEmpty())) {
    out << "  " << l << "\n";
  }
}

// ---- Commands --------------------------------------------------------------------------

namespace {

int Fail(std::ostream& err, const std::string& what, const absl::Status& s) {
  return FailCall(err, what, s, "svcd");
}

using svcd::v1::Svcd;

std::unique_ptr<Svcd::Stub> Stub(const Options& o) {
  return StubOn<Svcd>(o, "svcd");
}

// One unary call to svcd with the --timeout deadline.
template <typename Request, typename Response>
absl::Status Call(const Options& o,
                  grpc::Status (Svcd::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  return FromGrpcStatus((Stub(o).get()->*method)(&ctx, request, response));
}

// The options of a call svcd answers only once the service runs or has ended.
Options Waiting(const Options& o, const SvcOptions& s) {
  Options waiting = o;
  if (!s.timeout_given) waiting.timeout = kSvcWaitTimeout;
  return waiting;
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "secctl: " << problem << "\n\n" << kSvcUsage;
  return kExitUsage;
}

// Exactly one positional argument called `what` (NAME, FILE); otherwise a usage error.
bool OneArg(const std::string& command, const char* what, const std::vector<std::string>& args,
            std::ostream& err, int* exit_code) {
  if (args.empty()) {
    *exit_code = Usage(err, absl::StrCat("svc ", command, ": needs ", what));
    return false;
  }
  if (args.size() > 1) {
    *exit_code = Usage(err, absl::StrCat("svc ", command, ": too many arguments (needs only ",
                                         what, "), got \"", args[1], "\""));
    return false;
  }
  return true;
}

int PrintStatusOf(const Options& o, const svcd::v1::ServiceStatus& st, std::ostream& out) {
  if (o.json) {
    out << JsonOf(st) << "\n";
  } else {
    PrintServiceStatus(st, out);
  }
  return kExitOk;
}

// add, update: FILE holds a ServiceDefinition.
int Define(const Options& o, const SvcOptions& s, const std::string& command,
           const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int code;
  if (!OneArg(command, "FILE", args, err, &code)) return code;
  const std::string& path = args[0];
  absl::StatusOr<std::string> text = ReadFile(path, 4 << 20);
  if (!text.ok()) return Usage(err, absl::StrCat("svc ", command, ": ", text.status().message()));
  svcd::v1::ServiceDefinition definition;
  // "FILE:LINE:COLUMN: message", the 1-based position of the first error.
  if (absl::Status p = ParseConfig(path, *text, &definition, nullptr); !p.ok()) {
    err << "secctl: svc " << command << ": " << p.message() << "\n";
    return kExitInvalidArgument;
  }
  svcd::v1::ServiceStatus resp;
  absl::Status st;
  if (command == "add") {
    svcd::v1::AddServiceRequest req;
    *req.mutable_definition() = std::move(definition);
    st = Call(Waiting(o, s), &Svcd::Stub::AddService, req, &resp);
  } else {
    svcd::v1::UpdateServiceRequest req;
    *req.mutable_definition() = std::move(definition);
    st = Call(o, &Svcd::Stub::UpdateService, req, &resp);
  }
  if (!st.ok()) return Fail(err, absl::StrCat("svc ", command, " ", path), st);
  return PrintStatusOf(o, resp, out);
}

int Remove(const Options& o, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  int code;
  if (!OneArg("remove", "NAME", args, err, &code)) return code;
  svcd::v1::RemoveServiceRequest req;
  req.set_name(args[0]);
  svcd::v1::RemoveServiceResponse resp;
  absl::Status s = Call(o, &Svcd::Stub::RemoveService, req, &resp);
  if (!s.ok()) return Fail(err, absl::StrCat("svc remove ", args[0]), s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    out << "removed " << args[0] << "\n";
  }
  return kExitOk;
}

using RefMethod = grpc::Status (Svcd::Stub::*)(grpc::ClientContext*, const svcd::v1::ServiceRef&,
                                               svcd::v1::ServiceStatus*);

// start, stop, restart, reset-failed, status NAME: ServiceRef in, ServiceStatus out.
int OnService(const Options& o, const std::string& command, RefMethod method,
              const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int code;
  if (!OneArg(command, "NAME", args, err, &code)) return code;
  svcd::v1::ServiceRef ref;
  ref.set_name(args[0]);
  svcd::v1::ServiceStatus resp;
  absl::Status s = Call(o, method, ref, &resp);
  if (!s.ok()) return Fail(err, absl::StrCat("svc ", command, " ", args[0]), s);
  return PrintStatusOf(o, resp, out);
}

int List(const Options& o, const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err) {
  if (!args.empty()) return Usage(err, absl::StrCat("svc list: takes no arguments, got \"", args[0], "\""));
  svcd::v1::ListServicesResponse resp;
  absl::Status s = Call(o, &Svcd::Stub::ListServices, svcd::v1::ListServicesRequest(), &resp);
  if (!s.ok()) return Fail(err, "svc list", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"NAME", "STATE", "LEVEL", "PID", "UPTIME", "RESTARTS", "MEMORY", "LAST-EXIT"});
  for (const svcd::v1::ServiceStatus& st : resp.services()) {
    t.AddRow({st.name(), StateName(st.state()), absl::StrCat(st.level()), Pid(st.pid()),
              Uptime(st), absl::StrCat(st.restarts()), Memory(st),
              st.has_last_exit() ? ExitShort(st.last_exit()) : "-"});
  }
  t.Print(out);
  return kExitOk;
}

int Explain(const Options& o, const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err) {
  int code;
  if (!OneArg("explain", "NAME", args, err, &code)) return code;
  svcd::v1::ServiceRef ref;
  ref.set_name(args[0]);
  svcd::v1::ExplainResponse resp;
  absl::Status s = Call(o, &Svcd::Stub::Explain, ref, &resp);
  if (!s.ok()) return Fail(err, absl::StrCat("svc explain ", args[0]), s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    PrintExplain(resp, out);
  }
  return kExitOk;
}

// Ctrl-C ends `svc logs --follow` successfully. Everything read so far has been written with
// write(2), so there is nothing to flush; _exit is async-signal-safe.
void ExitOnInterrupt(int) { ::_exit(kExitOk); }

int Logs(const Options& o, const SvcOptions& s, const std::vector<std::string>& args,
         std::ostream& out, std::ostream& err) {
  int code;
  if (!OneArg("logs", "NAME", args, err, &code)) return code;
  absl::StatusOr<uint64_t> tail = ParseTailBytes(s.tail);
  if (!tail.ok()) return Usage(err, std::string(tail.status().message()));
  svcd::v1::LogsRequest req;
  req.set_name(args[0]);
  req.set_tail_bytes(*tail);
  req.set_follow(s.follow);
  grpc::ClientContext ctx;
  if (s.follow) {
    struct sigaction sa = {};
    sa.sa_handler = ExitOnInterrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
  } else {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  }
  out.flush();
  std::unique_ptr<grpc::ClientReaderInterface<svcd::v1::LogChunk>> reader =
      Stub(o)->Logs(&ctx, req);
  svcd::v1::LogChunk chunk;
  while (reader->Read(&chunk)) {
    if (o.json) {
      out << JsonOf(chunk) << "\n" << std::flush;
      continue;
    }
    // Straight to the descriptor: no copy of the log is kept, and a pipe reader sees each
    // chunk as it arrives.
    if (absl::Status w = WriteAll(STDOUT_FILENO, chunk.data()); !w.ok()) {
      ctx.TryCancel();
      reader->Finish();
      err << "secctl: svc logs " << args[0] << ": standard output: " << w.message() << "\n";
      return kExitFailed;
    }
  }
  absl::Status st = FromGrpcStatus(reader->Finish());
  if (!st.ok()) return Fail(err, absl::StrCat("svc logs ", args[0]), st);
  return kExitOk;
}

}  // namespace

bool RunSvcCommand(const Options& o, const SvcOptions& s, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code) {
  if (command == "add" || command == "update") *exit_code = Define(o, s, command, args, out, err);
  else if (command == "remove") *exit_code = Remove(o, args, out, err);
  else if (command == "start") *exit_code = OnService(Waiting(o, s), command, &Svcd::Stub::StartService, args, out, err);
  else if (command == "stop") *exit_code = OnService(Waiting(o, s), command, &Svcd::Stub::StopService, args, out, err);
  else if (command == "restart") *exit_code = OnService(Waiting(o, s), command, &Svcd::Stub::RestartService, args, out, err);
  else if (command == "reset-failed") *exit_code = OnService(o, command, &Svcd::Stub::ResetFailed, args, out, err);
  // Without NAME, `svc status` stays the daemon's own health line (RunStatus).
  else if (command == "status" && !args.empty()) *exit_code = OnService(o, command, &Svcd::Stub::GetStatus, args, out, err);
  else if (command == "list") *exit_code = List(o, args, out, err);
  else if (command == "explain") *exit_code = Explain(o, args, out, err);
  else if (command == "logs") *exit_code = Logs(o, s, args, out, err);
  else return false;
  return true;
}

}  // namespace secureos::cli
