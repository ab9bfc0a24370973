// secctl: the one ops CLI of the SecureOS daemons.
//
// Linked statically against gRPC, protobuf and abseil and leaves with _exit() instead of
// tearing gRPC down: a one-call invocation is on the path of every latency a user sees.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "cli/cap_commands.h"
#include "cli/sandbox_commands.h"
#include "cli/svc_commands.h"
#include "cli/command_help.h"
#include "cli/commands.h"
#include "cli/ctr_commands.h"
#include "cli/monitor_commands.h"
#include "cli/exit_codes.h"
#include "common/paths.h"

ABSL_FLAG(std::string, root, "",
          "Prefix of the daemons' paths (default $SECUREOS_ROOT, else /).");
ABSL_FLAG(bool, json, false, "Machine-readable JSON output.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Deadline of each call.");
ABSL_FLAG(std::string, from, "", "events: first sequence to print (default: oldest held).");
ABSL_FLAG(bool, follow, false,
          "events, svc logs (also -f): keep printing new records until interrupted.");
ABSL_FLAG(std::string, user, "", "cap exec: user name or uid to run as (default: yours).");
ABSL_FLAG(std::string, group, "", "cap exec: group name or gid (default: the user's).");
ABSL_FLAG(std::string, groups, "", "cap exec: supplementary groups, comma-separated.");
ABSL_FLAG(std::string, caps, "",
          "cap exec: capabilities the command holds; sandbox run: capabilities the workload keeps "
          "in its user namespace (capd must authorize sandbox:NAME).");
ABSL_FLAG(std::string, principal, "",
          "cap exec: the grant to use (default uid:<user>); monitor violations: only this principal.");
ABSL_FLAG(std::string, ttl, "", "cap grant: lease length such as 90s or 1h (default: none).");
ABSL_FLAG(std::string, on_revoke, "report", "cap grant: report, restart or kill.");
ABSL_FLAG(int, level, 0, "sandbox run: security level preset 3, 4 or 5 (default: the default workload).");
ABSL_FLAG(std::string, profile, "", "sandbox run: seccomp profile file (Docker JSON or SeccompProfile).");
ABSL_FLAG(std::string, net, "", "sandbox run: none, loopback or host; ctr create/run: none, loopback or bridge.");
ABSL_FLAG(std::string, memory, "", "sandbox run: memory limit such as 64M.");
ABSL_FLAG(std::string, cpus, "", "sandbox run: CPU quota such as 0.5.");
ABSL_FLAG(int, pids, 0, "sandbox run: process limit.");
ABSL_FLAG(std::vector<std::string>, ro, {}, "sandbox run: host paths bound read-only (repeatable).");
ABSL_FLAG(std::vector<std::string>, rw, {}, "sandbox run: host paths bound read-write (repeatable).");
ABSL_FLAG(std::vector<std::string>, tmpfs, {}, "sandbox run: empty tmpfs mounts (repeatable).");
ABSL_FLAG(std::string, learn, "", "sandbox run: learning mode; write the profile it learned here.");
ABSL_FLAG(std::string, name, "", "sandbox run: a name for the workload.");
ABSL_FLAG(std::string, bundle, "", "ctr create/run/check: the OCI bundle directory.");
ABSL_FLAG(bool, force, false, "ctr delete: kill a running container first.");
ABSL_FLAG(bool, keep, false, "ctr run: keep the stopped container (default: delete it).");
ABSL_FLAG(bool, once, false, "ctr stats: one sample, then exit.");
ABSL_FLAG(std::string, pss_level, "", "ctr check: baseline or restricted (default: the configured level).");
ABSL_FLAG(std::string, min_severity, "", "monitor watch/violations: info, notice, warning or critical.");
ABSL_FLAG(std::string, rule, "", "monitor violations: only this rule.");
ABSL_FLAG(std::string, since, "",
          "monitor violations: only alerts from this time on: a DURATION ago (1h) or an RFC 3339 time.");
ABSL_FLAG(std::string, until, "", "monitor violations: only alerts before this time, as --since.");
ABSL_FLAG(std::string, dir, "", "monitor audit verify: the audit log's directory.");
ABSL_FLAG(std::string, tail, "", "svc logs: start this many bytes before the end (64K; default 8192).");

namespace secureos::cli {
namespace {

constexpr char kUsage[] =
    "Usage: secctl [--root DIR] [--json] [--timeout 5s] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status                  health, version, pid, uptime and socket of all five daemons\n"
    "  reload DAEMON           make DAEMON re-read its configuration (admin); an invalid\n"
    "                          file is refused with file, line and field, the old one stays\n"
    "  events DAEMON [--from N] [--follow]\n"
    "                          DAEMON's event stream (peer daemons and admins)\n"
    "  version                 secctl's own version\n"
    "  cap|sandbox|ctr|svc|monitor status|reload|events\n"
    "                          the same for capd, sandboxd, containerd-lite, svcd, monitord\n"
    "                          (svc status NAME: a service's status, see below)\n";

constexpr char kUsageTail[] =
    "\n"
    "DAEMON is one of capd, sandboxd, containerd-lite, svcd, monitord.\n"
    "--json: every command answers in JSON (one object; streams one per line), except\n"
    "cap exec, sandbox run, ctr run, ctr exec and svc logs, whose output is the program's own.\n"
    "\n"
    "Examples:\n"
    "  secctl --root $PWD/.secureos status\n"
    "  sudo secctl reload capd\n"
    "  secctl --json events monitord --from 1\n"
    "  sudo secctl svc add web.service && secctl svc status web\n"
    "  sudo secctl svc logs -f web\n"
    "\n";

// The whole --help text: the general commands, each group's, examples, exit codes.
std::string Help() {
  return absl::StrCat(kUsage, "\ncapd (cap):\n", kCapUsage, "\nsandboxd (sandbox):\n",
                      kSandboxUsage, "\ncontainerd-lite (ctr):\n", kCtrUsage, "\nsvcd (svc):\n", kSvcUsage, "\nmonitord (monitor):\n", kMonitorUsage, kUsageTail, kExitCodeHelp);
}

std::string GroupDaemon(const std::string& group) {
  if (group == "cap") return "capd";
  if (group == "sandbox") return "sandboxd";
  if (group == "ctr") return "containerd-lite";
  if (group == "svc") return "svcd";
  if (group == "monitor") return "monitord";
  return "";
}

bool IsDaemon(const std::string& name) {
  for (absl::string_view d : kDaemonNames) {
    if (d == name) return true;
  }
  return false;
}

int Usage(const std::string& problem) {
  std::cerr << "secctl: " << problem << "\n\n" << Help();
  return kExitUsage;
}

int RunDaemonCommand(const Options& options, const std::string& command,
                     const std::string& daemon, size_t extra_args) {
  if (extra_args != 0) return Usage(absl::StrCat(command, ": too many arguments"));
  if (command == "status") return RunStatus(options, {daemon}, std::cout, std::cerr);
  if (command == "reload") return RunReload(options, daemon, std::cout, std::cerr);
  if (command == "events") {
    EventsOptions events;
    events.follow = absl::GetFlag(FLAGS_follow);
    const std::string from = absl::GetFlag(FLAGS_from);
    if (!from.empty()) {
      uint64_t n;
      if (!absl::SimpleAtoi(from, &n) || n == 0) {
        return Usage(absl::StrCat("--from: must be a sequence number >= 1, got \"", from, "\""));
      }
      events.from = n;
    }
    return RunEvents(options, daemon, events, std::cout, std::cerr);
  }
  return Usage(absl::StrCat("unknown command \"", command, "\" for ", daemon));
}

// absl keeps the last of a repeated flag; --ro, --rw and --tmpfs accumulate instead. absl
// has no one-letter flags: -f (svc logs) is --follow.
std::vector<std::string> MergeRepeatedFlags(int argc, char** argv, bool* timeout_given) {
  std::vector<std::string> out;
  std::map<std::string, std::vector<std::string>> merged;
  int i = 0;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "--timeout" || absl::StartsWith(a, "--timeout=")) *timeout_given = true;
    if (a == "-f") a = "--follow";
    bool taken = false;
    for (const char* name : {"--ro", "--rw", "--tmpfs"}) {
      if (a == name && i + 1 < argc) {
        merged[name].push_back(argv[++i]);
        taken = true;
      } else if (absl::StartsWith(a, absl::StrCat(name, "="))) {
        merged[name].push_back(a.substr(std::strlen(name) + 1));
        taken = true;
      }
    }
    if (!taken) out.push_back(a);
  }
  for (const auto& [name, values] : merged) out.push_back(absl::StrCat(name, "=", absl::StrJoin(values, ",")));
  for (; i < argc; ++i) out.push_back(argv[i]);
  return out;
}

// The words of the command line that name a command ("cap", "grant"), for help: not flags,
// nor the values of flags given as "--flag VALUE", nor "help" itself.
std::vector<std::string> CommandWords(int argc, char** argv) {
  static const std::set<std::string> kWithValue = {"--root", "--timeout", "--from", "--dir", "--bundle", "--net",
                                                   "--min_severity", "--principal", "--rule", "--since", "--until"};
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (kWithValue.count(a) != 0) {
      ++i;
      continue;
    }
    if (a.empty() || a[0] == '-' || a == "help") continue;
    words.push_back(a);
  }
  return words;
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help" || a == "help") {
      std::optional<std::string> one = CommandHelp(Help(), CommandWords(argc, argv));
      std::cout << (one.has_value() ? *one : Help());
      return kExitOk;
    }
  }
  bool timeout_given = false;
  std::vector<std::string> merged = MergeRepeatedFlags(argc, argv, &timeout_given);
  std::vector<char*> merged_ptrs;
  for (std::string& a : merged) merged_ptrs.push_back(a.data());
  std::vector<char*> args = absl::ParseCommandLine(static_cast<int>(merged_ptrs.size()), merged_ptrs.data());
  Options options;
  options.root = absl::GetFlag(FLAGS_root);
  if (options.root.empty()) {
    const char* env = std::getenv("SECUREOS_ROOT");
    options.root = env != nullptr && *env != '\0' ? env : "/";
  }
  options.json = absl::GetFlag(FLAGS_json);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  if (options.root[0] != '/') {
    return Usage(absl::StrCat("--root: must be an absolute path, got \"", options.root, "\""));
  }
  if (args.size() < 2) return Usage("no command given");
  const std::string command = args[1];
  const size_t rest = args.size() - 2;
  if (command == "version") {
    if (rest != 0) return Usage("version: takes no arguments (a daemon's: secctl cap status)");
    return RunVersion(options, std::cout);
  }
  if (command == "status") {
    if (rest != 0) return Usage("status: takes no arguments (per daemon: secctl cap status)");
    return RunStatus(options, {kDaemonNames.begin(), kDaemonNames.end()}, std::cout, std::cerr);
  }
  if (command == "reload" || command == "events") {
    if (rest < 1) return Usage(absl::StrCat(command, ": which daemon?"));
    const std::string daemon = args[2];
    if (!IsDaemon(daemon)) return Usage(absl::StrCat("unknown daemon \"", daemon, "\""));
    return RunDaemonCommand(options, command, daemon, rest - 1);
  }
  const std::string daemon = GroupDaemon(command);
  if (!daemon.empty()) {
    if (rest < 1) {
      return Usage(absl::StrCat(command, ": which command? status, reload, events",
                                " or one of the group's below"));
    }
    if (daemon == "capd") {
      CapOptions cap{absl::GetFlag(FLAGS_user),      absl::GetFlag(FLAGS_group),
                     absl::GetFlag(FLAGS_groups),    absl::GetFlag(FLAGS_caps),
                     absl::GetFlag(FLAGS_principal), absl::GetFlag(FLAGS_ttl),
                     absl::GetFlag(FLAGS_on_revoke)};
      std::vector<std::string> cap_args(args.begin() + 3, args.end());
      int code;
      if (RunCapCommand(options, cap, args[2], cap_args, std::cout, std::cerr, &code)) return code;
    }
    if (daemon == "sandboxd") {
      SandboxOptions sandbox;
      sandbox.level = absl::GetFlag(FLAGS_level);
      sandbox.profile = absl::GetFlag(FLAGS_profile);
      sandbox.net = absl::GetFlag(FLAGS_net);
      sandbox.memory = absl::GetFlag(FLAGS_memory);
      sandbox.cpus = absl::GetFlag(FLAGS_cpus);
      sandbox.pids = absl::GetFlag(FLAGS_pids);
      if (timeout_given) sandbox.wall_timeout = absl::FormatDuration(options.timeout);
      sandbox.ro = absl::GetFlag(FLAGS_ro);
      sandbox.rw = absl::GetFlag(FLAGS_rw);
      sandbox.tmpfs = absl::GetFlag(FLAGS_tmpfs);
      sandbox.learn = absl::GetFlag(FLAGS_learn);
      sandbox.name = absl::GetFlag(FLAGS_name);
      sandbox.caps = absl::GetFlag(FLAGS_caps);
      std::vector<std::string> sandbox_args(args.begin() + 3, args.end());
      int code;
      if (RunSandboxCommand(options, sandbox, args[2], sandbox_args, std::cout, std::cerr, &code)) {
        return code;
      }
    }
    if (daemon == "containerd-lite") {
      CtrOptions ctr;
      ctr.bundle = absl::GetFlag(FLAGS_bundle);
      ctr.net = absl::GetFlag(FLAGS_net);
      ctr.force = absl::GetFlag(FLAGS_force);
      ctr.keep = absl::GetFlag(FLAGS_keep);
      ctr.once = absl::GetFlag(FLAGS_once);
      ctr.pss_level = absl::GetFlag(FLAGS_pss_level);
      std::vector<std::string> ctr_args(args.begin() + 3, args.end());
      int code;
      if (RunCtrCommand(options, ctr, args[2], ctr_args, std::cout, std::cerr, &code)) return code;
    }
    if (daemon == "monitord") {
      MonitorOptions monitor;
      monitor.min_severity = absl::GetFlag(FLAGS_min_severity);
      monitor.principal = absl::GetFlag(FLAGS_principal);
      monitor.rule = absl::GetFlag(FLAGS_rule);
      monitor.since = absl::GetFlag(FLAGS_since);
      monitor.until = absl::GetFlag(FLAGS_until);
      monitor.dir = absl::GetFlag(FLAGS_dir);
      std::vector<std::string> monitor_args(args.begin() + 3, args.end());
      int code;
      if (RunMonitorCommand(options, monitor, args[2], monitor_args, std::cout, std::cerr, &code)) return code;
    }
    if (daemon == "svcd") {
      SvcOptions svc;
      svc.follow = absl::GetFlag(FLAGS_follow);
      svc.tail = absl::GetFlag(FLAGS_tail);
      svc.timeout_given = timeout_given;
      std::vector<std::string> svc_args(args.begin() + 3, args.end());
      int code;
      if (RunSvcCommand(options, svc, args[2], svc_args, std::cout, std::cerr, &code)) return code;
    }
    return RunDaemonCommand(options, args[2], daemon, rest - 1);
  }
  return Usage(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace
}  // namespace secureos::cli

int main(int argc, char** argv) {
  int code = secureos::cli::Main(argc, argv);
  std::cout.flush();
  std::fflush(nullptr);
  // No gRPC teardown: the kernel reclaims everything faster than the library's shutdown.
  _exit(code);
}
