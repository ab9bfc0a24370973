// Absolute paths given in requests and files (mount targets, bind sources, working
// directories): checked and normalized as text, before anything touches the filesystem.
#ifndef SECUREOS_COMMON_ABSOLUTE_PATH_H_
#define SECUREOS_COMMON_ABSOLUTE_PATH_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/field_errors.h"

namespace secureos {

// `text` as "/a/b": empty, "." components and repeated or trailing slashes dropped. nullopt,
// with one error on `field` added to `errors`, when it is empty, relative, holds a NUL byte
// or a ".." component (refused rather than resolved: resolving it as text could step out of
// a root the caller confines it to), has a component longer than NAME_MAX, or is PATH_MAX
// bytes or longer.
std::optional<std::string> NormalizeAbsolutePath(absl::string_view text, const std::string& field,
                                                 FieldErrors* errors);

}  // namespace secureos

#endif  // SECUREOS_COMMON_ABSOLUTE_PATH_H_
