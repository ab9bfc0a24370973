#include "cli/next_step.h"

#include "absl/strings/str_cat.h"

namespace secureos::cli {
namespace {

// The command that lists what exists at `daemon`.
std::string ListCommand(const std::string& daemon) {
  if (daemon == "capd") return "secctl cap grants / cap ps";
  if (daemon == "sandboxd") return "secctl sandbox list";
  if (daemon == "containerd-lite") return "secctl ctr list";
  if (daemon == "svcd") return "secctl svc list";
  if (daemon == "monitord") return "secctl monitor violations";
  return "";
}

}  // namespace

std::string NextStep(absl::StatusCode code, const std::string& daemon) {
  const std::string who = daemon.empty() ? "the daemon" : daemon;
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return absl::StrCat(" (is ", who, " running? `systemctl start ",
                          daemon.empty() ? "secureos.target" : absl::StrCat("secureos-", daemon),
                          "`, or `tools/up` for a development root; check --root)");
    case absl::StatusCode::kPermissionDenied:
      return absl::StrCat(" (an admin call: run it as root, or list your uid in server.admin_uids of /etc/secureos/",
                          daemon.empty() ? "<daemon>" : daemon, ".conf)");
    case absl::StatusCode::kDeadlineExceeded:
      return " (no answer within --timeout: give it longer, e.g. --timeout 30s, or see `secctl status`)";
    case absl::StatusCode::kNotFound: {
      const std::string list = ListCommand(daemon);
      return list.empty() ? "" : absl::StrCat(" (`", list, "` shows what there is)");
    }
    default:
      return "";
  }
}

}  // namespace secureos::cli
