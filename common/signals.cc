#include "common/signals.h"

#include <string.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace secureos {

std::optional<int> ParseSignal(const std::string& text) {
  int n;
  if (absl::SimpleAtoi(text, &n)) {
    if (n >= 1 && n <= 64) return n;
    return std::nullopt;
  }
  std::string upper = absl::AsciiStrToUpper(text);
  absl::string_view name = absl::StripPrefix(upper, "SIG");
  for (int sig = 1; sig < 32; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) return sig;
  }
  return std::nullopt;
}

}  // namespace secureos
