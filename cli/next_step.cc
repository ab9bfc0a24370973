#include "cli/next_step.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace secureos::cli {
namespace {

std::string ConfigOf(const std::string& daemon) {
  return absl::StrCat("/etc/secureos/", daemon.empty() ? "<daemon>" : daemon, ".conf");
}

}  // namespace

std::string NextStep(const absl::Status& status, const std::string& daemon) {
  const std::string who = daemon.empty() ? "the daemon" : daemon;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return absl::StrCat(" (is ", who, " running? `systemctl start ",
                          daemon.empty() ? "secureos.target" : absl::StrCat("secureos-", daemon),
                          "`, or `tools/up` for a development root; check --root)");
    case absl::StatusCode::kPermissionDenied:
      // The daemons' authorization says "<method> needs admin|peer|read access: <rule>";
      // any other refusal is policy (a grant, a level) and names its own rule.
      if (absl::StrContains(status.message(), " needs admin access")) {
        return absl::StrCat(" (an admin call: run it as root, or list your uid in server.admin_uids of ", ConfigOf(daemon), ")");
      }
      if (absl::StrContains(status.message(), " needs peer access")) {
        return absl::StrCat(" (for peer daemons: list the uid in server.peer_uids of ", ConfigOf(daemon), ")");
      }
      if (absl::StrContains(status.message(), " needs read access")) {
        return absl::StrCat(" (list your uid in server.reader_uids of ", ConfigOf(daemon), ")");
      }
      return "";
    case absl::StatusCode::kDeadlineExceeded:
      return " (no answer within --timeout: give it longer, e.g. --timeout 30s, or see `secctl status`)";
    default:
      return "";
  }
}

}  // namespace secureos::cli
