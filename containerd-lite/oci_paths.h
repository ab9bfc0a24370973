// Small helpers shared by the pieces that translate an OCI bundle (oci_bundle.h): how a
// value and a list element are named in messages, and how config.json paths are checked.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_PATHS_H_
#define SECUREOS_CONTAINERD_LITE_OCI_PATHS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/field_errors.h"

namespace secureos::ctr {

// `s` in double quotes, C-escaped: a"b -> "a\"b".
std::string Quote(absl::string_view s);

// The path of element `index` of the list field `base`: ("mounts", 2) -> "mounts[2]".
std::string Field(absl::string_view base, int index);

// realpath(3) of `path`: absolute, canonical, every symlink resolved. An error has the
// errno's code and names `path`.
absl::StatusOr<std::string> RealPath(const std::string& path);

// Whether `path` is `prefix` or lies below it (both as common/absolute_path.h's
// NormalizeAbsolutePath returns them).
bool IsUnder(absl::string_view path, absl::string_view prefix);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_PATHS_H_
