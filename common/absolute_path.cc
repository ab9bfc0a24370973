#include "common/absolute_path.h"

#include <climits>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace secureos {
namespace {

std::string Quote(absl::string_view text) { return absl::StrCat("\"", absl::CEscape(text), "\""); }

}  // namespace

std::optional<std::string> NormalizeAbsolutePath(absl::string_view text, const std::string& field,
                                                 FieldErrors* errors) {
  if (text.empty()) {
    errors->Add(field, "required");
    return std::nullopt;
  }
  if (text.find('\0') != absl::string_view::npos) {
    errors->Add(field, "must not contain a NUL byte");
    return std::nullopt;
  }
  if (text[0] != '/') {
    errors->Add(field, absl::StrCat("must be absolute, got ", Quote(text)));
    return std::nullopt;
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(text, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      errors->Add(field, absl::StrCat("\"..\" is not allowed, got ", Quote(text)));
      return std::nullopt;
    }
    if (part.size() > NAME_MAX) {
      errors->Add(field, absl::StrCat("a component is longer than ", NAME_MAX, " bytes"));
      return std::nullopt;
    }
    parts.push_back(part);
  }
  std::string normalized = absl::StrCat("/", absl::StrJoin(parts, "/"));
  if (normalized.size() >= PATH_MAX) {
    errors->Add(field, absl::StrCat("longer than ", PATH_MAX - 1, " bytes"));
    return std::nullopt;
  }
  return normalized;
}

}  // namespace secureos
