#include "containerd-lite/container_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace secureos::ctr {

absl::Status CheckContainerId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (id.size() > kMaxContainerIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxContainerIdLength, " characters, got ", id.size()));
  }
  if (!absl::ascii_isalnum(id.front())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must start with a letter or digit, got \"", id, "\""));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": only letters, digits, '_', '.' and '-', got \"", absl::CHexEscape(id), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace secureos::ctr
