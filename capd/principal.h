// Principals: who a grant is for. Written the same way everywhere (API, CLI, events,
// grants file): "uid:N", "service:NAME", "sandbox:PROFILE", "container:ID".
#ifndef SECUREOS_CAPD_PRINCIPAL_H_
#define SECUREOS_CAPD_PRINCIPAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos::capd {

// Returns the canonical form of `text`, or INVALID_ARGUMENT naming what is wrong. Names are
// 1-128 characters of [A-Za-z0-9._@-] starting with a letter or digit; uids are decimal,
// below 4294967295.
absl::StatusOr<std::string> ParsePrincipal(absl::string_view text);

// "uid:N".
std::string UidPrincipal(uint32_t uid);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_PRINCIPAL_H_
