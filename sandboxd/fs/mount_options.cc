#include "sandboxd/fs/mount_options.h"

#include <cinttypes>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace secureos::sandboxd {
namespace {

absl::Status NotASize(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", absl::CEscape(text), "\" is not a size: ", why));
}

absl::Status NotAMode(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", absl::CEscape(text), "\" is not a mode: ", why));
}

// 0 when `c` is not a suffix.
int SuffixShift(char c) {
  switch (absl::ascii_tolower(static_cast<unsigned char>(c))) {
    case 'k':
      return 10;
    case 'm':
      return 20;
    case 'g':
      return 30;
    default:
      return 0;
  }
}

}  // namespace

absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  if (text.empty()) return NotASize(text, "empty (expected digits and an optional k, m or g)");
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0) {
    return NotASize(text, "must start with a decimal digit (no sign, space or prefix)");
  }
  absl::string_view rest = text.substr(digits);
  int shift = 0;
  if (!rest.empty() && SuffixShift(rest[0]) != 0) {
    shift = SuffixShift(rest[0]);
    rest.remove_prefix(1);
  }
  if (!rest.empty()) {
    return NotASize(text, absl::StrCat("unexpected \"", absl::CEscape(rest), "\" after \"",
                                       absl::CEscape(text.substr(0, text.size() - rest.size())),
                                       "\" (only one k, m or g suffix is allowed)"));
  }
  // Accumulating with a bound check (not strtoull) so that 20 digits cannot wrap around.
  const uint64_t limit = kMaxMountSize >> shift;
  uint64_t value = 0;
  for (size_t i = 0; i < digits; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (value > limit) return NotASize(text, "more than the 1 TiB limit");
  }
  if (value == 0) return NotASize(text, "must be more than 0");
  return value << shift;
}

absl::StatusOr<mode_t> ParseMode(absl::string_view text) {
  if (text.size() < 3 || text.size() > 4) {
    return NotAMode(text, "expected 3 or 4 octal digits such as 0755");
  }
  mode_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return NotAMode(text, "only octal digits 0-7 are allowed");
    mode = (mode << 3) | static_cast<mode_t>(c - '0');
  }
  return mode;
}

std::string FormatMode(mode_t mode) {
  return absl::StrFormat("%04o", static_cast<unsigned>(mode & 07777));
}

std::string TmpfsMountData(uint64_t size_bytes, mode_t mode) {
  return absl::StrFormat("size=%" PRIu64 ",mode=%04o", size_bytes,
                         static_cast<unsigned>(mode & 07777));
}

}  // namespace secureos::sandboxd
