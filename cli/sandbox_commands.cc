#include "cli/sandbox_commands.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/grpc_status.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/sandboxd.grpc.pb.h"
#include "common/status.h"
#include "sandboxd/level_presets.h"
#include "sandboxd/seccomp/profile_file.h"

namespace secureos::cli {

const char kSandboxUsage[] =
    "  sandbox run [--level 3|4|5 | --profile FILE] [--net none|loopback|host] [--memory 64M]\n"
    "              [--cpus 0.5] [--pids 64] [--timeout 10s] [--ro PATH] [--rw PATH]\n"
    "              [--tmpfs PATH] [--learn OUT] [--name NAME [--caps CAPS]] -- CMD ARGS\n"
    "                          run CMD in a sandbox; streams its output and refused syscalls,\n"
    "                          exits with its code (128+signal when killed). With no options:\n"
    "                          the host's / read-only, private /tmp, own /proc, minimal /dev,\n"
    "                          an unprivileged uid, no capabilities, seccomp \"default\", no\n"
    "                          network. --timeout is the workload's wall-clock limit here;\n"
    "                          --caps keeps CAPS inside its user namespace when capd's\n"
    "                          grants to sandbox:NAME cover them.\n"
    "  sandbox list            workloads, running and recently exited\n"
    "  sandbox inspect ID      one workload, its spec and result (JSON)\n"
    "  sandbox kill ID [SIGNAL]   signal a workload (default KILL: the whole tree)\n";

namespace {

int Fail(std::ostream& err, const std::string& what, const absl::Status& s) {
  return FailCall(err, what, s, "sandboxd");
}


using sandboxd::v1::Sandboxd;

std::unique_ptr<Sandboxd::Stub> Stub(const Options& o) {
  return StubOn<Sandboxd>(o, "sandboxd");
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "secctl: " << problem << "\n\n" << kSandboxUsage;
  return kExitUsage;
}

// "64M", "1g", "4096": bytes, 1024-based suffixes.
absl::StatusOr<uint64_t> ParseBytes(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty() && !absl::ascii_isdigit(digits.back())) {
    switch (absl::ascii_tolower(digits.back())) {
      case 'k': unit = 1ull << 10; break;
      case 'm': unit = 1ull << 20; break;
      case 'g': unit = 1ull << 30; break;
      default: unit = 0;
    }
    digits.pop_back();
  }
  uint64_t n;
  if (unit == 0 || !absl::SimpleAtoi(digits, &n) || n == 0 || n > (~0ull) / unit) {
    return absl::InvalidArgumentError(absl::StrCat("--memory: not a size like 64M, got \"", text, "\""));
  }
  return n * unit;
}

absl::StatusOr<uint32_t> ParseCpus(const std::string& text) {
  double cpus;
  if (!absl::SimpleAtod(text, &cpus) || !(cpus >= 0.001) || cpus > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("--cpus: a number of CPUs like 0.5, got \"", text, "\""));
  }
  return static_cast<uint32_t>(std::lround(cpus * 1000));
}

// A profile file: Docker/OCI seccomp JSON, or a SeccompProfile in text format or JSON, read
// as sandboxd reads the files services name.
absl::Status LoadProfile(const std::string& path, sandboxd::v1::SeccompProfile* profile) {
  absl::StatusOr<sandboxd::v1::SeccompProfile> loaded = sandboxd::LoadProfileFile(path);
  if (!loaded.ok()) return Annotate(loaded.status(), "--profile");
  *profile = std::move(*loaded);
  return absl::OkStatus();
}

void AddMounts(const std::vector<std::string>& paths, sandboxd::v1::MountKind kind,
               sandboxd::v1::SandboxSpec* spec) {
  for (const std::string& p : paths) {
    sandboxd::v1::MountEntry* e = spec->mutable_filesystem()->add_entries();
    e->set_kind(kind);
    e->set_target(p);
    if (kind != sandboxd::v1::MOUNT_KIND_TMPFS) e->set_source(p);
  }
}

absl::Status ApplyNetwork(const std::string& net, sandboxd::v1::SandboxSpec* spec) {
  if (net.empty()) return absl::OkStatus();
  if (net == "none") {
    spec->set_network(sandboxd::v1::NETWORK_MODE_NONE);
  } else if (net == "loopback") {
    spec->set_network(sandboxd::v1::NETWORK_MODE_LOOPBACK);
  } else if (net == "host") {
    spec->set_network(sandboxd::v1::NETWORK_MODE_HOST);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--net: none, loopback or host, got \"", net, "\""));
  }
  spec->mutable_namespaces()->set_net(false);  // The mode decides; sandboxd derives the namespace.
  return absl::OkStatus();
}

absl::Status ApplyLimits(const SandboxOptions& s, sandboxd::v1::SandboxSpec* spec) {
  auto* limits = spec->mutable_limits();
  if (!s.memory.empty()) {
    SECUREOS_ASSIGN_OR_RETURN(uint64_t bytes, ParseBytes(s.memory));
    limits->set_memory_bytes(bytes);
  }
  if (!s.cpus.empty()) {
    SECUREOS_ASSIGN_OR_RETURN(uint32_t millis, ParseCpus(s.cpus));
    limits->set_cpu_millis(millis);
  }
  if (s.pids < 0) return absl::InvalidArgumentError("--pids: must be positive");
  if (s.pids > 0) limits->set_pids(s.pids);
  if (!s.wall_timeout.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(s.wall_timeout, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout: a duration like 10s, got \"", s.wall_timeout, "\""));
    }
    spec->set_timeout_ms(absl::ToInt64Milliseconds(d));
  }
  return absl::OkStatus();
}

absl::StatusOr<sandboxd::v1::SandboxSpec> BuildSpec(const SandboxOptions& s,
                                                    const std::vector<std::string>& args) {
  sandboxd::v1::SandboxSpec spec;
  if (s.level == 0) {
    sandboxd::ApplyDefaultPreset(&spec);
  } else {
    SECUREOS_RETURN_IF_ERROR(sandboxd::ApplyLevelPreset(s.level, &spec));
  }
  spec.set_name(s.name);
  spec.set_capabilities(s.caps);
  spec.add_argv(ResolveCommand(args[0]));
  for (size_t i = 1; i < args.size(); ++i) spec.add_argv(args[i]);
  spec.add_env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  spec.add_env("HOME=/tmp");
  SECUREOS_RETURN_IF_ERROR(ApplyNetwork(s.net, &spec));
  SECUREOS_RETURN_IF_ERROR(ApplyLimits(s, &spec));
  AddMounts(s.ro, sandboxd::v1::MOUNT_KIND_RO_BIND, &spec);
  AddMounts(s.rw, sandboxd::v1::MOUNT_KIND_RW_BIND, &spec);
  AddMounts(s.tmpfs, sandboxd::v1::MOUNT_KIND_TMPFS, &spec);
  if (!s.profile.empty()) SECUREOS_RETURN_IF_ERROR(LoadProfile(s.profile, spec.mutable_seccomp()));
  if (!s.learn.empty()) {
    spec.clear_seccomp();
    spec.set_learn(true);
  }
  return spec;
}

void PrintViolation(const sandboxd::v1::Violation& v, std::ostream& err) {
  std::vector<std::string> args;
  for (uint64_t a : v.args()) args.push_back(absl::StrCat("0x", absl::Hex(a)));
  err << "secctl: sandbox: " << v.syscall() << "(" << absl::StrJoin(args, ", ") << ") by pid "
      << v.pid() << ": " << v.action() << " [" << v.rule() << "]\n";
}

int ExitCodeOf(const sandboxd::v1::Exited& e) {
  return e.has_code() ? e.code() : 128 + e.signal();
}

int Run(const Options& o, const SandboxOptions& s, const std::vector<std::string>& args,
        std::ostream& err) {
  if (args.empty()) return Usage(err, "sandbox run: which command? (secctl sandbox run -- CMD ARGS)");
  absl::StatusOr<sandboxd::v1::SandboxSpec> spec = BuildSpec(s, args);
  if (!spec.ok()) return Usage(err, std::string(spec.status().message()));
  sandboxd::v1::RunRequest req;
  *req.mutable_spec() = std::move(*spec);
  req.set_output(sandboxd::v1::OUTPUT_MODE_STREAM);
  grpc::ClientContext ctx;  // No deadline: the workload's own limit is --timeout.
  auto reader = Stub(o)->Run(&ctx, req);
  sandboxd::v1::RunEvent ev;
  int code = kExitFailed;
  while (reader->Read(&ev)) {
    if (ev.has_output()) {
      (ev.output().fd() == 2 ? std::cerr : std::cout) << ev.output().data() << std::flush;
    } else if (ev.has_violation()) {
      PrintViolation(ev.violation(), err);
    } else if (ev.has_exited()) {
      const auto& e = ev.exited();
      code = ExitCodeOf(e);
      // A workload that did not start has no reason; the call's error says why.
      if (e.reason() != sandboxd::v1::EXIT_REASON_UNSPECIFIED &&
          (e.reason() != sandboxd::v1::EXIT_REASON_EXITED || !e.has_code())) {
        err << "secctl: sandbox: the workload " << e.detail() << "\n";
      }
      if (!s.learn.empty()) {
        std::string text;
        google::protobuf::TextFormat::PrintToString(e.learned_profile(), &text);
        if (absl::Status w = WriteFileAtomically(s.learn, text, 0644); !w.ok()) {
          return Fail(err, "sandbox run --learn", w);
        }
        err << "secctl: sandbox: learned profile written to " << s.learn << "\n";
      }
    }
  }
  absl::Status st = FromGrpcStatus(reader->Finish());
  if (!st.ok()) return Fail(err, "sandbox run", st);
  return code;
}

int List(const Options& o, std::ostream& out, std::ostream& err) {
  sandboxd::v1::ListResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->List(&ctx, sandboxd::v1::ListRequest(), &resp));
  if (!s.ok()) return Fail(err, "sandbox list", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"ID", "NAME", "STATE", "PID", "VIOLATIONS", "RESULT", "COMMAND"});
  for (const auto& w : resp.workloads()) {
    const bool exited = w.state() == sandboxd::v1::WORKLOAD_STATE_EXITED;
    const char* state = exited ? "exited" : w.state() == sandboxd::v1::WORKLOAD_STATE_RUNNING ? "running" : "created";
    t.AddRow({w.id(), w.name().empty() ? "-" : w.name(), state,
              exited ? "-" : absl::StrCat(w.pid()), absl::StrCat(w.violations()),
              exited ? w.exited().detail() : "-", absl::StrJoin(w.argv(), " ")});
  }
  t.Print(out);
  return kExitOk;
}

int Inspect(const Options& o, const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err) {
  if (args.size() != 1) return Usage(err, "sandbox inspect: needs ID");
  sandboxd::v1::WorkloadRef ref;
  ref.set_id(args[0]);
  sandboxd::v1::WorkloadInfo info;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->Status(&ctx, ref, &info));
  if (!s.ok()) return Fail(err, "sandbox inspect", s);
  out << JsonOf(info) << "\n";
  return kExitOk;
}

int Kill(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args.size() > 2) return Usage(err, "sandbox kill: needs ID [SIGNAL]");
  int sig = SIGKILL;
  if (args.size() == 2 && !absl::SimpleAtoi(args[1], &sig)) {
    return Usage(err, absl::StrCat("sandbox kill: SIGNAL is a number, got \"", args[1], "\""));
  }
  sandboxd::v1::KillRequest req;
  req.set_id(args[0]);
  req.set_signal(sig);
  sandboxd::v1::KillResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  absl::Status s = FromGrpcStatus(Stub(o)->Kill(&ctx, req, &resp));
  return s.ok() ? QuietOk(o, resp, out) : Fail(err, "sandbox kill", s);
}

}  // namespace

bool RunSandboxCommand(const Options& o, const SandboxOptions& s, const std::string& command,
                       const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err, int* exit_code) {
  if (command == "run") *exit_code = Run(o, s, args, err);
  else if (command == "list") *exit_code = List(o, out, err);
  else if (command == "inspect") *exit_code = Inspect(o, args, out, err);
  else if (command == "kill") *exit_code = Kill(o, args, out, err);
  else return false;
  return true;
}

}  // namespace secureos::cli
