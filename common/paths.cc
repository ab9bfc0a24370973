#include "common/paths.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace secureos {

std::string UnderRoot(absl::string_view root, absl::string_view relative) {
  absl::string_view r = absl::StripSuffix(root, "/");
  return absl::StrCat(r, "/", relative);
}

std::string DefaultSocket(absl::string_view daemon) {
  return absl::StrCat("run/secureos/", daemon, ".sock");
}

std::string ConfigPath(absl::string_view root, absl::string_view daemon) {
  return UnderRoot(root, absl::StrCat("etc/secureos/", daemon, ".conf"));
}

std::string StateDir(absl::string_view root, absl::string_view daemon) {
  return UnderRoot(root, absl::StrCat("var/lib/secureos/", daemon));
}

std::string RuntimeDir(absl::string_view root, absl::string_view daemon) {
  return UnderRoot(root, absl::StrCat("run/secureos/", daemon));
}

}  // namespace secureos
