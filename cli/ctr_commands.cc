#include "cli/ctr_commands.h"

#include <grpcpp/grpcpp.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/exit_codes.h"
#include "cli/human_format.h"
#include "cli/table.h"
#include "common/grpc_status.h"
#include "common/signals.h"
#include "containerd-lite/oci_state.h"
#include "google/protobuf/util/time_util.h"
#include "proto/containerd_lite.grpc.pb.h"

namespace secureos::cli {

const char kCtrUsage[] =
    "  ctr create ID --bundle DIR [--net none|loopback|bridge]\n"
    "                          a container from an OCI bundle (config.json + rootfs), checked\n"
    "                          and given its own uid/gid range; not started (admin)\n"
    "  ctr start ID            start a created container (admin)\n"
    "  ctr state ID            the OCI state JSON (ociVersion, id, status, pid, bundle);\n"
    "                          --json: containerd-lite's whole record\n"
    "  ctr kill ID [SIGNAL]    signal a created or running container (default TERM) (admin)\n"
    "  ctr delete ID [--force] delete a stopped or created one; --force kills a running one\n"
    "                          first (admin)\n"
    "  ctr list                every container\n"
    "  ctr run ID --bundle DIR [--net none|loopback|bridge] [--keep]\n"
    "                          create, start and wait, streaming the output; exits with the\n"
    "                          container's code (128+signal); deleted after unless --keep\n"
    "  ctr exec ID -- CMD ARGS run CMD in a running container's namespaces, as its process\n"
    "                          runs; streams the output, exits with CMD's code (admin)\n"
    "  ctr stats ID [--once]   resource use every second (working set, CPU, tasks, OOM kills)\n"
    "  ctr check --bundle DIR [--pss_level baseline|restricted]\n"
    "                          compliance findings without creating anything; exit 0 when\n"
    "                          compliant, 1 otherwise\n";

namespace {

namespace v1 = ::secureos::containerd_lite::v1;
using v1::ContainerdLite;
using google::protobuf::util::TimeUtil;

int Fail(std::ostream& err, const std::string& what, const absl::Status& s) {
  return FailCall(err, what, s, "containerd-lite");
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "secctl: " << problem << "\n\n" << kCtrUsage;
  return kExitUsage;
}

std::unique_ptr<ContainerdLite::Stub> Stub(const Options& o) {
  return StubOn<ContainerdLite>(o, "containerd-lite");
}

void SetDeadline(const Options& o, grpc::ClientContext* ctx) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
}

// --bundle made absolute against the current directory (the daemon has its own).
absl::StatusOr<std::string> AbsoluteBundle(const std::string& bundle, const char* command) {
  if (bundle.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(command, ": --bundle DIR is required"));
  }
  if (bundle.front() == '/') return bundle;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(command, ": --bundle: the current directory is unknown"));
  }
  return absl::StrCat(cwd, "/", bundle);
}

std::string StatusWord(v1::ContainerStatus s) {
  v1::ContainerState state;
  state.set_status(s);
  return ctr::OciStateOf(state).status();
}

std::string ExitWord(const v1::ContainerState& s) {
  if (s.status() != v1::CONTAINER_STATUS_STOPPED) return "-";
  if (s.signal() != 0) return absl::StrCat(SignalName(s.signal()), " (", s.exit_reason(), ")");
  if (s.exit_code() >= 0) return absl::StrCat("code ", s.exit_code(), " (", s.exit_reason(), ")");
  return s.exit_reason().empty() ? "-" : s.exit_reason();
}

int ExitCodeOf(const v1::ContainerState& s) {
  if (s.signal() != 0) return 128 + s.signal();
  return s.exit_code() >= 0 ? s.exit_code() : kExitFailed;
}

absl::StatusOr<v1::CreateRequest> CreateRequestOf(const CtrOptions& c, const std::vector<std::string>& args,
                                                  const char* command) {
  if (args.size() != 1) return absl::InvalidArgumentError(absl::StrCat(command, ": needs ID"));
  v1::CreateRequest r;
  r.set_id(args[0]);
  absl::StatusOr<std::string> bundle = AbsoluteBundle(c.bundle, command);
  if (!bundle.ok()) return bundle.status();
  r.set_bundle(*bundle);
  absl::StatusOr<v1::NetworkMode> net = ParseNetwork(c.net);
  if (!net.ok()) return net.status();
  r.set_network(*net);
  return r;
}

// Findings (warn mode) go to stderr; the translation notes are in the record (--json state).
void PrintCreated(const v1::ContainerState& s, const Options& o, std::ostream& out, std::ostream& err) {
  for (const v1::Finding& f : s.findings()) {
    err << "secctl: ctr: " << f.rule_id() << " " << f.field() << ": " << f.message() << "\n";
  }
  if (o.json) out << JsonOf(s) << "\n";
}

int Create(const Options& o, const CtrOptions& c, const std::vector<std::string>& args,
           std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::CreateRequest> req = CreateRequestOf(c, args, "ctr create");
  if (!req.ok()) return Usage(err, std::string(req.status().message()));
  v1::ContainerState state;
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus(Stub(o)->Create(&ctx, *req, &state));
  if (!s.ok()) return Fail(err, "ctr create", s);
  PrintCreated(state, o, out, err);
  return kExitOk;
}

// start and state: one id, one ContainerState back.
int OneRef(const Options& o, const std::vector<std::string>& args, const char* command,
           grpc::Status (ContainerdLite::Stub::*method)(grpc::ClientContext*, const v1::ContainerRef&,
                                                        v1::ContainerState*),
           v1::ContainerState* state, std::ostream& err) {
  if (args.size() != 1) return Usage(err, absl::StrCat(command, ": needs ID"));
  v1::ContainerRef ref;
  ref.set_id(args[0]);
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus((Stub(o).get()->*method)(&ctx, ref, state));
  return s.ok() ? kExitOk : Fail(err, command, s);
}

int Start(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  v1::ContainerState state;
  const int code = OneRef(o, args, "ctr start", &ContainerdLite::Stub::Start, &state, err);
  if (code == kExitOk && o.json) out << JsonOf(state) << "\n";
  return code;
}

int State(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  v1::ContainerState state;
  const int code = OneRef(o, args, "ctr state", &ContainerdLite::Stub::State, &state, err);
  if (code == kExitOk) out << (o.json ? JsonOf(state) + "\n" : ctr::OciStateJson(state));
  return code;
}

int Kill(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args.size() > 2) return Usage(err, "ctr kill: needs ID [SIGNAL]");
  v1::KillRequest req;
  req.set_id(args[0]);
  req.set_signal(SIGTERM);
  if (args.size() == 2) {
    std::optional<int> sig = ParseSignal(args[1]);
    if (!sig.has_value()) {
      return Usage(err, absl::StrCat("ctr kill: SIGNAL is a name (TERM, SIGKILL) or 1-64, got \"", args[1], "\""));
    }
    req.set_signal(*sig);
  }
  v1::KillResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus(Stub(o)->Kill(&ctx, req, &resp));
  return s.ok() ? QuietOk(o, resp, out) : Fail(err, "ctr kill", s);
}

int Delete(const Options& o, const CtrOptions& c, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  if (args.size() != 1) return Usage(err, "ctr delete: needs ID");
  v1::DeleteRequest req;
  req.set_id(args[0]);
  req.set_force(c.force);
  v1::DeleteResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus(Stub(o)->Delete(&ctx, req, &resp));
  return s.ok() ? QuietOk(o, resp, out) : Fail(err, "ctr delete", s);
}

int List(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (!args.empty()) return Usage(err, "ctr list: takes no arguments");
  v1::ListResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus(Stub(o)->List(&ctx, v1::ListRequest(), &resp));
  if (!s.ok()) return Fail(err, "ctr list", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"ID", "STATUS", "PID", "UIDS", "EXIT", "CREATED", "BUNDLE"});
  for (const v1::ContainerState& c : resp.containers()) {
    std::string uids = "-";
    if (!c.uid_mappings().empty()) {
      const v1::IdMapping& m = c.uid_mappings(0);
      uids = absl::StrCat(m.host_id(), "-", uint64_t{m.host_id()} + m.size() - 1);
    }
    t.AddRow({c.id(), StatusWord(c.status()), c.pid() > 0 ? absl::StrCat(c.pid()) : "-", uids, ExitWord(c),
              absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(c.created())),
                               absl::LocalTimeZone()),
              c.bundle()});
  }
  t.Print(out);
  return kExitOk;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // A closed stdout: the rest is dropped, as a pipe reader left.
    done += static_cast<size_t>(n);
  }
}

int Run(const Options& o, const CtrOptions& c, const std::vector<std::string>& args,
        std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::CreateRequest> create = CreateRequestOf(c, args, "ctr run");
  if (!create.ok()) return Usage(err, std::string(create.status().message()));
  v1::RunRequest req;
  *req.mutable_create() = std::move(*create);
  req.set_keep(c.keep);
  grpc::ClientContext ctx;  // No deadline: the container runs as long as it runs.
  auto reader = Stub(o)->Run(&ctx, req);
  v1::RunEvent ev;
  int code = kExitFailed;
  while (reader->Read(&ev)) {
    if (ev.has_started()) {
      PrintCreated(ev.started(), o, out, err);
    } else if (ev.has_output()) {
      WriteAll(ev.output().fd() == 2 ? 2 : 1, ev.output().data());
    } else if (ev.has_exited()) {
      code = ExitCodeOf(ev.exited());
      if (ev.exited().exit_reason() != "exited") {
        err << "secctl: ctr: container " << ev.exited().id() << " " << ExitWord(ev.exited()) << "\n";
      }
    }
  }
  absl::Status s = FromGrpcStatus(reader->Finish());
  return s.ok() ? code : Fail(err, "ctr run", s);
}

int Exec(const Options& o, const std::vector<std::string>& args, std::ostream& err) {
  if (args.size() < 2) return Usage(err, "ctr exec: needs ID -- CMD [ARGS]");
  v1::ExecRequest req;
  req.set_id(args[0]);
  for (size_t i = 1; i < args.size(); ++i) req.add_args(args[i]);
  grpc::ClientContext ctx;  // No deadline: the command runs as long as it runs.
  auto reader = Stub(o)->Exec(&ctx, req);
  v1::RunEvent ev;
  int code = kExitFailed;
  while (reader->Read(&ev)) {
    if (ev.has_output()) {
      WriteAll(ev.output().fd() == 2 ? 2 : 1, ev.output().data());
    } else if (ev.has_exec_exited()) {
      const v1::ExecExited& e = ev.exec_exited();
      code = e.signal() != 0 ? 128 + e.signal() : (e.exit_code() >= 0 ? e.exit_code() : kExitFailed);
      if (e.reason() != "exited") err << "secctl: ctr exec: " << args[1] << " " << e.detail() << "\n";
    }
  }
  absl::Status s = FromGrpcStatus(reader->Finish());
  return s.ok() ? code : Fail(err, "ctr exec", s);
}

int Stats(const Options& o, const CtrOptions& c, const std::vector<std::string>& args,
          std::ostream& out, std::ostream& err) {
  if (args.size() != 1) return Usage(err, "ctr stats: needs ID");
  v1::StatsRequest req;
  req.set_id(args[0]);
  req.set_once(c.once);
  grpc::ClientContext ctx;
  if (c.once) SetDeadline(o, &ctx);
  auto reader = Stub(o)->Stats(&ctx, req);
  v1::ContainerStats sample;
  while (reader->Read(&sample)) {
    out << (o.json ? JsonOf(sample) : StatsLine(sample)) << std::endl;
  }
  absl::Status s = FromGrpcStatus(reader->Finish());
  return s.ok() ? kExitOk : Fail(err, "ctr stats", s);
}

int Check(const Options& o, const CtrOptions& c, const std::vector<std::string>& args,
          std::ostream& out, std::ostream& err) {
  if (!args.empty()) return Usage(err, "ctr check: takes --bundle DIR, no arguments");
  absl::StatusOr<std::string> bundle = AbsoluteBundle(c.bundle, "ctr check");
  if (!bundle.ok()) return Usage(err, std::string(bundle.status().message()));
  absl::StatusOr<v1::ComplianceLevel> level = ParsePssLevel(c.pss_level);
  if (!level.ok()) return Usage(err, std::string(level.status().message()));
  v1::CheckRequest req;
  req.set_bundle(*bundle);
  req.set_level(*level);
  v1::CheckResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(o, &ctx);
  absl::Status s = FromGrpcStatus(Stub(o)->Check(&ctx, req, &resp));
  if (!s.ok()) return Fail(err, "ctr check", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    PrintFindings(resp, out);
  }
  return resp.compliant() ? kExitOk : kExitFailed;
}

std::string OfLimit(const std::string& used, bool has_limit, const std::string& limit) {
  return has_limit ? absl::StrCat(used, " / ", limit) : used;
}

}  // namespace

absl::StatusOr<v1::NetworkMode> ParseNetwork(const std::string& text) {
  if (text.empty() || text == "loopback") return v1::NETWORK_MODE_LOOPBACK;
  if (text == "none") return v1::NETWORK_MODE_NONE;
  if (text == "bridge") return v1::NETWORK_MODE_BRIDGE;
  return absl::InvalidArgumentError(absl::StrCat("--net: none, loopback or bridge, got \"", text, "\""));
}

absl::StatusOr<v1::ComplianceLevel> ParsePssLevel(const std::string& text) {
  if (text.empty()) return v1::COMPLIANCE_LEVEL_UNSPECIFIED;
  if (text == "baseline") return v1::COMPLIANCE_LEVEL_BASELINE;
  if (text == "restricted") return v1::COMPLIANCE_LEVEL_RESTRICTED;
  return absl::InvalidArgumentError(absl::StrCat("--pss_level: baseline or restricted, got \"", text, "\""));
}

std::string StatsLine(const v1::ContainerStats& s) {
  std::string mem = "-";
  if (s.has_memory_working_set_bytes()) {
    mem = OfLimit(HumanBytes(s.memory_working_set_bytes()), s.has_memory_limit_bytes(),
                  s.has_memory_limit_bytes() ? HumanBytes(s.memory_limit_bytes()) : "");
    if (s.has_memory_limit_bytes() && s.memory_limit_bytes() > 0) {
      absl::StrAppend(&mem, absl::StrFormat(" (%.1f%%)", 100.0 * s.memory_working_set_bytes() / s.memory_limit_bytes()));
    }
  }
  const std::string cpu = s.has_cpu_rate() ? OfLimit(absl::StrFormat("%.2f", s.cpu_rate()), s.has_cpu_limit(),
                                                     absl::StrFormat("%.2f", s.cpu_limit())) +
                                                 " CPUs"
                                           : "-";
  const std::string pids = s.has_pids() ? OfLimit(absl::StrCat(s.pids()), s.has_pids_limit(),
                                                  absl::StrCat(s.pids_limit()))
                                        : "-";
  return absl::StrCat(s.id(), "  mem ", mem, "  cpu ", cpu, "  pids ", pids, "  oom ",
                      s.has_oom_kills() ? absl::StrCat(s.oom_kills()) : "-");
}

void PrintFindings(const v1::CheckResponse& r, std::ostream& out) {
  for (const v1::Finding& f : r.findings()) {
    out << f.rule_id() << "  " << (f.level() == v1::COMPLIANCE_LEVEL_RESTRICTED ? "restricted" : "baseline")
        << "  " << f.field() << "\n    " << f.message() << "\n";
  }
  out << (r.compliant() ? "compliant: no findings\n"
                        : absl::StrCat("not compliant: ", r.findings_size(), " finding",
                                       r.findings_size() == 1 ? "" : "s", "\n"));
}

bool RunCtrCommand(const Options& o, const CtrOptions& c, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code) {
  if (command == "create") *exit_code = Create(o, c, args, out, err);
  else if (command == "start") *exit_code = Start(o, args, out, err);
  else if (command == "state") *exit_code = State(o, args, out, err);
  else if (command == "kill") *exit_code = Kill(o, args, out, err);
  else if (command == "delete") *exit_code = Delete(o, c, args, out, err);
  else if (command == "list") *exit_code = List(o, args, out, err);
  else if (command == "run") *exit_code = Run(o, c, args, out, err);
  else if (command == "exec") *exit_code = Exec(o, args, err);
  else if (command == "stats") *exit_code = Stats(o, c, args, out, err);
  else if (command == "check") *exit_code = Check(o, c, args, out, err);
  else return false;
  return true;
}

}  // namespace secureos::cli
