#include "containerd-lite/oci_paths.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"

namespace secureos::ctr {

std::string Quote(absl::string_view s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

std::string Field(absl::string_view base, int index) { return absl::StrCat(base, "[", index, "]"); }

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return ErrnoToStatus(errno, path);
  return std::string(buf);
}


bool IsUnder(absl::string_view path, absl::string_view prefix) {
  if (prefix == "/") return true;
  return path == prefix || (absl::StartsWith(path, prefix) && path[prefix.size()] == '/');
}

}  // namespace secureos::ctr
