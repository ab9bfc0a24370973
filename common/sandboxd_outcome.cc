#include "common/sandboxd_outcome.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace secureos {

RunOutcome SandboxdOutcome(const sandboxd::v1::Exited& e) {
  RunOutcome o;
  o.known = e.reason() != sandboxd::v1::EXIT_REASON_UNSPECIFIED && (e.has_code() || e.has_signal());
  o.has_code = e.has_code();
  o.code = e.code();
  o.signal = e.signal();
  o.reason = o.known ? absl::AsciiStrToLower(absl::StripPrefix(
                           sandboxd::v1::ExitReason_Name(e.reason()), "EXIT_REASON_"))
                     : "unknown";
  o.detail = e.detail();
  return o;
}

}  // namespace secureos
