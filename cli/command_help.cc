#include "cli/command_help.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace secureos::cli {
namespace {

// One example per command; the keys are AllCommands().
const std::map<std::string, std::string>& Examples() {
  static const auto* examples = new std::map<std::string, std::string>{
      {"status", "secctl status"},
      {"reload", "sudo secctl reload monitord"},
      {"events", "secctl --json events capd --from 1 --follow"},
      {"version", "secctl version"},
      {"cap get", "secctl cap get $$"},
      {"cap audit", "sudo secctl cap audit"},
      {"cap grant", "sudo secctl cap grant service:web cap_net_bind_service --ttl 24h"},
      {"cap revoke", "sudo secctl cap revoke service:web"},
      {"cap grants", "secctl cap grants"},
      {"cap exec", "sudo secctl cap exec --user nobody --caps cap_net_bind_service -- /usr/bin/python3 -m http.server 80"},
      {"cap ps", "secctl cap ps"},
      {"cap kill", "sudo secctl cap kill 3f2a TERM"},
      {"cap drift", "secctl cap drift"},
      {"sandbox run", "secctl sandbox run --net loopback --memory 64M --timeout 10s -- ./tool --input data.txt"},
      {"sandbox list", "secctl sandbox list"},
      {"sandbox inspect", "secctl sandbox inspect 7c1e"},
      {"sandbox kill", "sudo secctl sandbox kill 7c1e"},
      {"ctr create", "sudo secctl ctr create web --bundle /srv/bundles/web --net bridge"},
      {"ctr start", "sudo secctl ctr start web"},
      {"ctr state", "secctl ctr state web"},
      {"ctr kill", "sudo secctl ctr kill web KILL"},
      {"ctr delete", "sudo secctl ctr delete web --force"},
      {"ctr list", "secctl ctr list"},
      {"ctr run", "sudo secctl ctr run job1 --bundle /srv/bundles/job"},
      {"ctr exec", "sudo secctl ctr exec web -- /bin/sh -c 'ps'"},
      {"ctr stats", "secctl ctr stats web --once"},
      {"ctr check", "secctl ctr check --bundle /srv/bundles/web --pss_level restricted"},
      {"svc add", "sudo secctl svc add web.service"},
      {"svc update", "sudo secctl svc update web.service && sudo secctl svc restart web"},
      {"svc remove", "sudo secctl svc stop web && sudo secctl svc remove web"},
      {"svc start", "sudo secctl svc start web"},
      {"svc stop", "sudo secctl svc stop web"},
      {"svc restart", "sudo secctl svc restart web"},
      {"svc reset-failed", "sudo secctl svc reset-failed web"},
      {"svc status", "secctl svc status web"},
      {"svc list", "secctl svc list"},
      {"svc explain", "secctl svc explain web"},
      {"svc logs", "sudo secctl svc logs web --follow --tail 64K"},
      {"monitor watch", "secctl monitor watch --min_severity warning"},
      {"monitor violations", "secctl monitor violations --principal service:web --since 1h"},
      {"monitor stats", "secctl monitor stats"},
      {"monitor rules test", "secctl monitor rules test my.rules /var/lib/secureos/monitord/audit/audit.log"},
      {"monitor rules reload", "sudo secctl monitor rules reload"},
      {"monitor audit verify", "sudo secctl monitor audit verify"},
  };
  return *examples;
}

// The lines of `help` that describe `command`: its own line(s) at two spaces of indent and
// the description lines under them.
std::string CommandLines(const std::string& help, const std::string& command) {
  std::string out;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    const bool entry = absl::StartsWith(line, "  ") && line.size() > 2 && line[2] != ' ';
    if (entry) {
      absl::string_view rest = line.substr(2);
      in = absl::StartsWith(rest, command) &&
           (rest.size() == command.size() || rest[command.size()] == ' ' || rest[command.size()] == '|');
      // "svc start|stop|restart NAME" names three commands.
      if (!in) {
        const std::vector<std::string> words = absl::StrSplit(command, ' ');
        const std::string head = absl::StrJoin(std::vector<std::string>(words.begin(), words.end() - 1), " ");
        if (words.size() > 1 && absl::StartsWith(rest, head + " ")) {
          const absl::string_view alts = rest.substr(head.size() + 1, rest.find(' ', head.size() + 1) - head.size() - 1);
          for (absl::string_view alt : absl::StrSplit(alts, '|')) in = in || alt == words.back();
        }
      }
    } else if (!absl::StartsWith(line, "   ")) {
      in = false;
    }
    if (in) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// A group's section: from its header ("capd (cap):") to the blank line after it.
std::string GroupSection(const std::string& help, const std::string& group) {
  std::string out;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (!in && absl::EndsWith(line, absl::StrCat("(", group, "):"))) in = true;
    if (in && line.empty()) break;
    if (in) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace

std::vector<std::string> AllCommands() {
  std::vector<std::string> all;
  for (const auto& [command, example] : Examples()) all.push_back(command);
  return all;
}

std::optional<std::string> CommandHelp(const std::string& full_help, const std::vector<std::string>& words) {
  for (size_t n = std::min<size_t>(words.size(), 3); n > 0; --n) {
    const std::string command = absl::StrJoin(std::vector<std::string>(words.begin(), words.begin() + n), " ");
    auto example = Examples().find(command);
    if (example == Examples().end()) continue;
    const std::string lines = CommandLines(full_help, command);
    if (lines.empty()) continue;
    return absl::StrCat("Usage: secctl [--root DIR] [--json] [--timeout 5s] ", command, " ...\n\n", lines,
                        "\nExample:\n  ", example->second, "\n");
  }
  if (!words.empty()) {
    const std::string section = GroupSection(full_help, words[0]);
    if (!section.empty()) {
      std::string examples;
      for (const auto& [command, example] : Examples()) {
        if (absl::StartsWith(command, words[0] + " ")) absl::StrAppend(&examples, "  ", example, "\n");
      }
      return absl::StrCat(section, "\nExamples:\n", examples, "\n`secctl ", words[0], " COMMAND --help` for one command.\n");
    }
  }
  return std::nullopt;
}

}  // namespace secureos::cli
