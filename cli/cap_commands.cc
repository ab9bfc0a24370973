#include "cli/cap_commands.h"

#include <grpcpp/grpcpp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/capability.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "common/grpc_status.h"
#include "common/server_config.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "proto/capd.grpc.pb.h"

namespace secureos::cli {

const char kCapUsage[] =
    "  cap get PID             capability state of any process (capsh-like; --json for all)\n"
    "  cap audit               every process holding a capability, and its grant\n"
    "  cap grant PRINCIPAL CAPS [--ttl 1h] [--on_revoke report|restart|kill]   (admin)\n"
    "  cap revoke PRINCIPAL    (admin)\n"
    "  cap grants              grants in force\n"
    "  cap exec [--user U] [--group G] [--groups G1,G2] [--principal P] --caps LIST -- CMD ARGS\n"
    "                          run CMD through capd with exactly LIST (admin); exits with its code\n"
    "  cap ps                  processes capd spawned\n"
    "  cap kill ID [SIGNAL]    signal a spawn (default TERM)\n"
    "  cap drift               compare running spawns with their grants now\n"
    "  PRINCIPAL is uid:N, service:NAME, sandbox:PROFILE or container:ID; CAPS is\n"
    "  cap_net_bind_service,cap_kill or a cap_from_text(3) string.\n";

namespace {

int Fail(std::ostream& err, const std::string& what, const absl::Status& s) {
  return FailCall(err, what, s, "capd");
}


using capd::v1::Capd;

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};

std::unique_ptr<Capd::Stub> Stub(const Options& o) {
  return StubOn<Capd>(o, "capd");
}

// One unary call to capd with the --timeout deadline.
template <typename Request, typename Response>
absl::Status Call(const Options& o,
                  grpc::Status (Capd::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
  return FromGrpcStatus((Stub(o).get()->*method)(&ctx, request, response));
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "secctl: " << problem << "\n\n" << kCapUsage;
  return kExitUsage;
}

uint64_t Mask(const capd::v1::CapabilitySet& s) {
  uint64_t m = 0;
  absl::SimpleHexAtoi(s.hex(), &m);
  return m;
}

// capsh's "Current:" line: the E/P/I state in cap_to_text(3) form.
std::string CurrentText(const capd::v1::ProcessCapabilities& p) {
  std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree> caps(cap_init());
  const uint64_t e = Mask(p.effective()), pe = Mask(p.permitted()), i = Mask(p.inheritable());
  for (cap_value_t c = 0; c < 64; ++c) {
    for (auto [flag, mask] : {std::pair{CAP_EFFECTIVE, e}, {CAP_PERMITTED, pe}, {CAP_INHERITABLE, i}}) {
      if ((mask >> c) & 1) cap_set_flag(caps.get(), flag, 1, &c, CAP_SET);
    }
  }
  std::unique_ptr<char, CapFree> text(cap_to_text(caps.get(), nullptr));
  return text ? text.get() : "?";
}

std::string Names(const capd::v1::CapabilitySet& s) {
  return s.names().empty() ? "(none)" : absl::StrJoin(s.names(), ",");
}

void PrintProcess(const capd::v1::ProcessCapabilities& p, std::ostream& out) {
  out << "pid " << p.pid() << " (" << p.name() << ")";
  if (!p.spawn_id().empty()) out << "  spawn " << p.spawn_id() << " for " << p.principal();
  out << "\nCurrent: " << CurrentText(p) << "\n"
      << "Bounding set =" << absl::StrJoin(p.bounding().names(), ",") << "\n"
      << "Ambient set =" << absl::StrJoin(p.ambient().names(), ",") << "\n";
  if (p.has_securebits()) {
    const auto& b = p.securebits();
    out << "Securebits: 0" << std::oct << b.raw() << std::dec << "/0x" << std::hex << b.raw()
        << std::dec << "\n"
        << " secure-noroot: " << (b.noroot() ? "yes" : "no") << (b.noroot_locked() ? " (locked)" : " (unlocked)") << "\n"
        << " secure-no-suid-fixup: " << (b.no_setuid_fixup() ? "yes" : "no") << (b.no_setuid_fixup_locked() ? " (locked)" : " (unlocked)") << "\n"
        << " secure-keep-caps: " << (b.keep_caps() ? "yes" : "no") << (b.keep_caps_locked() ? " (locked)" : " (unlocked)") << "\n";
  } else {
    out << "Securebits: unknown (Linux shows them only to the process itself; capd knows them "
           "for processes it spawned)\n";
  }
  out << "no_new_privs: " << (p.no_new_privs() ? "yes" : "no") << "\n"
      << "seccomp: " << absl::StripPrefix(capd::v1::SeccompMode_Name(p.seccomp()), "SECCOMP_MODE_") << "\n"
      << "uid=" << absl::StrJoin(p.uids(), "/") << " gid=" << absl::StrJoin(p.gids(), "/")
      << " groups=" << absl::StrJoin(p.groups(), ",") << "\n"
      << "CapInh: " << p.inheritable().hex() << "\nCapPrm: " << p.permitted().hex()
      << "\nCapEff: " << p.effective().hex() << "\nCapBnd: " << p.bounding().hex()
      << "\nCapAmb: " << p.ambient().hex() << "\n";
}

int Get(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int pid;
  if (args.size() != 1 || !absl::SimpleAtoi(args[0], &pid)) return Usage(err, "cap get: needs one PID");
  capd::v1::GetProcessCapabilitiesRequest req;
  req.set_pid(pid);
  capd::v1::ProcessCapabilities resp;
  absl::Status s = Call(o, &Capd::Stub::GetProcessCapabilities, req, &resp);
  if (!s.ok()) return Fail(err, "cap get", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    PrintProcess(resp, out);
  }
  return kExitOk;
}

int Audit(const Options& o, std::ostream& out, std::ostream& err) {
  capd::v1::AuditResponse resp;
  absl::Status s = Call(o, &Capd::Stub::Audit, capd::v1::AuditRequest(), &resp);
  if (!s.ok()) return Fail(err, "cap audit", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"PID", "NAME", "UID", "EFFECTIVE", "GRANT", "BEYOND GRANT"});
  for (const auto& e : resp.entries()) {
    const auto& p = e.process();
    t.AddRow({absl::StrCat(p.pid()), p.name(), absl::StrCat(p.uids(0)),
              p.effective().names_size() > 20 ? "(all)" : Names(p.effective()),
              e.grant_principal().empty() ? "-" : e.grant_principal(),
              e.beyond_grant().names_size() > 20 ? "(all)" : Names(e.beyond_grant())});
  }
  t.Print(out);
  return kExitOk;
}

absl::StatusOr<capd::v1::RevokeAction> ParseRevokeAction(const std::string& s) {
  if (s.empty() || s == "report") return capd::v1::REVOKE_ACTION_REPORT;
  if (s == "restart") return capd::v1::REVOKE_ACTION_RESTART;
  if (s == "kill") return capd::v1::REVOKE_ACTION_KILL;
  return absl::InvalidArgumentError(absl::StrCat("--on_revoke: report, restart or kill, got \"", s, "\""));
}

int Grant(const Options& o, const CapOptions& c, const std::vector<std::string>& args,
          std::ostream& out, std::ostream& err) {
  if (args.size() != 2) return Usage(err, "cap grant: needs PRINCIPAL and CAPS");
  capd::v1::GrantRequest req;
  req.set_principal(args[0]);
  req.set_capabilities(args[1]);
  if (!c.ttl.empty()) {
    absl::Duration ttl;
    if (!absl::ParseDuration(c.ttl, &ttl) || ttl < absl::Seconds(1)) {
      return Usage(err, absl::StrCat("--ttl: a duration of at least 1s such as 90s, 1h, got \"", c.ttl, "\""));
    }
    req.set_ttl_seconds(absl::ToInt64Seconds(ttl));
  }
  absl::StatusOr<capd::v1::RevokeAction> action = ParseRevokeAction(c.on_revoke);
  if (!action.ok()) return Usage(err, std::string(action.status().message()));
  req.set_on_revoke(*action);
  capd::v1::Grant resp;
  absl::Status s = Call(o, &Capd::Stub::GrantCapabilities, req, &resp);
  if (!s.ok()) return Fail(err, "cap grant", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    out << "granted " << Names(resp.capabilities()) << " to " << resp.principal();
    if (resp.has_expires()) out << " until " << google::protobuf::util::TimeUtil::ToString(resp.expires());
    out << "\n";
  }
  return kExitOk;
}

int Revoke(const Options& o, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  if (args.size() != 1) return Usage(err, "cap revoke: needs PRINCIPAL");
  capd::v1::RevokeRequest req;
  req.set_principal(args[0]);
  capd::v1::RevokeResponse resp;
  absl::Status s = Call(o, &Capd::Stub::RevokeGrant, req, &resp);
  if (!s.ok()) return Fail(err, "cap revoke", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else {
    out << "revoked the grant of " << resp.grant().principal() << "\n";
    if (resp.drifted_spawns_size() > 0) {
      out << "still running with its capabilities (marked drifted): "
          << absl::StrJoin(resp.drifted_spawns(), ", ") << "\n";
    }
  }
  return kExitOk;
}

int Grants(const Options& o, std::ostream& out, std::ostream& err) {
  capd::v1::ListGrantsResponse resp;
  absl::Status s = Call(o, &Capd::Stub::ListGrants, capd::v1::ListGrantsRequest(), &resp);
  if (!s.ok()) return Fail(err, "cap grants", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"PRINCIPAL", "CAPABILITIES", "EXPIRES", "ON REVOKE", "BY"});
  for (const auto& g : resp.grants()) {
    t.AddRow({g.principal(), Names(g.capabilities()),
              g.has_expires() ? google::protobuf::util::TimeUtil::ToString(g.expires()) : "never",
              std::string(absl::StripPrefix(capd::v1::RevokeAction_Name(g.on_revoke()), "REVOKE_ACTION_")),
              g.granted_by()});
  }
  t.Print(out);
  return kExitOk;
}

absl::Status FillIdentity(const CapOptions& c, capd::v1::SpawnRequest* req) {
  SECUREOS_ASSIGN_OR_RETURN(uid_t uid, ResolveUser(c.user, ::getuid()));
  gid_t default_gid = ::getgid();
  if (passwd* pw = ::getpwuid(uid)) default_gid = pw->pw_gid;
  absl::StatusOr<gid_t> gid = ResolveGroup(c.group, default_gid);
  if (!gid.ok()) return absl::InvalidArgumentError(absl::StrCat("--group: ", gid.status().message()));
  req->set_uid(uid);
  req->set_gid(*gid);
  for (absl::string_view g : absl::StrSplit(c.groups, ',', absl::SkipEmpty())) {
    absl::StatusOr<gid_t> id = ResolveGroup(g, 0);
    if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("--groups: ", id.status().message()));
    req->add_groups(*id);
  }
  req->set_principal(c.principal.empty() ? absl::StrCat("uid:", uid) : c.principal);
  return absl::OkStatus();
}

int Exec(const Options& o, const CapOptions& c, const std::vector<std::string>& args,
         std::ostream& err) {
  if (args.empty()) return Usage(err, "cap exec: which command? (secctl cap exec --caps LIST -- CMD ARGS)");
  capd::v1::SpawnRequest req;
  if (absl::Status s = FillIdentity(c, &req); !s.ok()) return Usage(err, std::string(s.message()));
  req.add_argv(ResolveCommand(args[0]));
  for (size_t i = 1; i < args.size(); ++i) req.add_argv(args[i]);
  req.add_env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  req.set_capabilities(c.caps);
  req.set_output(capd::v1::OUTPUT_MODE_STREAM);
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) != nullptr) req.set_cwd(cwd);
  grpc::ClientContext ctx;
  auto reader = Stub(o)->Spawn(&ctx, req);
  capd::v1::SpawnEvent ev;
  int code = kExitFailed;
  while (reader->Read(&ev)) {
    if (ev.has_output()) {
      (ev.output().fd() == 2 ? std::cerr : std::cout) << ev.output().data() << std::flush;
    } else if (ev.has_exited()) {
      code = ev.exited().has_code() ? ev.exited().code() : 128 + ev.exited().signal();
    }
  }
  absl::Status s = FromGrpcStatus(reader->Finish());
  if (!s.ok()) return Fail(err, "cap exec", s);
  return code;
}

int Ps(const Options& o, std::ostream& out, std::ostream& err) {
  capd::v1::ListSpawnsResponse resp;
  absl::Status s = Call(o, &Capd::Stub::ListSpawns, capd::v1::ListSpawnsRequest(), &resp);
  if (!s.ok()) return Fail(err, "cap ps", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
    return kExitOk;
  }
  Table t({"ID", "PID", "STATE", "PRINCIPAL", "UID", "CAPABILITIES", "DRIFT", "COMMAND"});
  for (const auto& sp : resp.spawns()) {
    std::string state = sp.state() == capd::v1::SPAWN_STATE_RUNNING ? "running" : "exited";
    if (sp.exited().has_code()) absl::StrAppend(&state, "(", sp.exited().code(), ")");
    if (sp.exited().has_signal()) absl::StrAppend(&state, "(sig ", sp.exited().signal(), ")");
    t.AddRow({sp.id(), absl::StrCat(sp.pid()), state, sp.principal(), absl::StrCat(sp.uid()),
              Names(sp.capabilities()), sp.drifted() ? sp.drift() : "-",
              absl::StrJoin(sp.argv(), " ")});
  }
  t.Print(out);
  return kExitOk;
}

int Kill(const Options& o, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args.size() > 2) return Usage(err, "cap kill: needs ID [SIGNAL]");
  int sig = SIGTERM;
  if (args.size() == 2 && !absl::SimpleAtoi(args[1], &sig)) {
    return Usage(err, absl::StrCat("cap kill: SIGNAL is a number, got \"", args[1], "\""));
  }
  capd::v1::SignalRequest req;
  req.set_id(args[0]);
  req.set_signal(sig);
  capd::v1::SignalResponse resp;
  absl::Status s = Call(o, &Capd::Stub::Signal, req, &resp);
  return s.ok() ? QuietOk(o, resp, out) : Fail(err, "cap kill", s);
}

int Drift(const Options& o, std::ostream& out, std::ostream& err) {
  capd::v1::CheckDriftResponse resp;
  absl::Status s = Call(o, &Capd::Stub::CheckDrift, capd::v1::CheckDriftRequest(), &resp);
  if (!s.ok()) return Fail(err, "cap drift", s);
  if (o.json) {
    out << JsonOf(resp) << "\n";
  } else if (resp.drifted().empty()) {
    out << "no drift: every running spawn holds exactly what it was given\n";
  } else {
    for (const auto& sp : resp.drifted()) out << sp.id() << " (pid " << sp.pid() << "): " << sp.drift() << "\n";
  }
  return kExitOk;
}

}  // namespace

bool RunCapCommand(const Options& o, const CapOptions& c, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code) {
  if (command == "get") *exit_code = Get(o, args, out, err);
  else if (command == "audit") *exit_code = Audit(o, out, err);
  else if (command == "grant") *exit_code = Grant(o, c, args, out, err);
  else if (command == "revoke") *exit_code = Revoke(o, args, out, err);
  else if (command == "grants") *exit_code = Grants(o, out, err);
  else if (command == "exec") *exit_code = Exec(o, c, args, err);
  else if (command == "ps") *exit_code = Ps(o, out, err);
  else if (command == "kill") *exit_code = Kill(o, args, out, err);
  else if (command == "drift") *exit_code = Drift(o, out, err);
  else return false;
  return true;
}

}  // namespace secureos::cli
