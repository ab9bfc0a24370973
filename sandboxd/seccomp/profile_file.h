// Reading a seccomp profile file as users write them: Docker/OCI seccomp JSON, or a
// sandboxd SeccompProfile in protobuf text format or JSON (what `secctl sandbox run --learn`
// writes). Only parsing: the profile is validated by sandboxd when it is used.
#ifndef SECUREOS_SANDBOXD_SECCOMP_PROFILE_FILE_H_
#define SECUREOS_SANDBOXD_SECCOMP_PROFILE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// Text that has a top-level "defaultAction" is Docker/OCI JSON (kept whole in oci_json);
// otherwise text format, then JSON. INVALID_ARGUMENT names `name` when it is neither.
absl::StatusOr<v1::SeccompProfile> ParseProfileText(absl::string_view name, const std::string& text);

// Reads `path` (at most 4 MiB) and parses it.
absl::StatusOr<v1::SeccompProfile> LoadProfileFile(const std::string& path);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_PROFILE_FILE_H_
