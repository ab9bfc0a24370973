#include "capd/principal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace secureos::capd {
namespace {

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 128 || !absl::ascii_isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ParsePrincipal(absl::string_view text) {
  const size_t colon = text.find(':');
  const absl::string_view kind = text.substr(0, colon);
  const absl::string_view name = colon == absl::string_view::npos ? "" : text.substr(colon + 1);
  if (kind == "uid") {
    uint32_t uid;
    if (name.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(name[0])) ||
        !absl::SimpleAtoi(name, &uid) || uid == 0xffffffffu) {
      return absl::InvalidArgumentError(
          absl::StrCat("principal: \"", text, "\" is not uid:N with a decimal uid"));
    }
    return UidPrincipal(uid);
  }
  if (kind == "service" || kind == "sandbox" || kind == "container") {
    if (!ValidName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "principal: \"", text, "\": the name must be 1-128 of [A-Za-z0-9._@-], starting with a "
          "letter or digit"));
    }
    return std::string(text);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "principal: \"", text, "\" must be uid:N, service:NAME, sandbox:PROFILE or container:ID"));
}

std::string UidPrincipal(uint32_t uid) { return absl::StrCat("uid:", uid); }

}  // namespace secureos::capd
