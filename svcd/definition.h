// A service definition, validated in full and resolved (user and group names to ids,
// capability text to a set, signal names to numbers, defaults filled in).
//
// Every problem is reported at once, each naming its field ("argv[0]: must be an absolute
// path"); a definition file's problems also name the file and line. Level-specific rules
// (what an override may change, capabilities at level 5, root) are level_policy's.
#ifndef SECUREOS_SVCD_DEFINITION_H_
#define SECUREOS_SVCD_DEFINITION_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/field_errors.h"
#include "common/signals.h"
#include "proto/svcd.pb.h"
#include "svcd/service_spec.h"

namespace secureos::svcd {

// What svcd's configuration allows every definition.
struct DefinitionPolicy {
  bool allow_root = false;  // SvcdConfig.allow_root.
};



// [a-z0-9][a-z0-9._-]*, at most 64 bytes.
bool ValidServiceName(const std::string& name);

// ParseSignal (common/signals.h) reads stop_signal.
using ::secureos::ParseSignal;

// Validates and resolves `def`; nullopt with every problem added to `errors` (field paths
// relative to the definition).
std::optional<ServiceSpec> CompileDefinition(const v1::ServiceDefinition& def,
                                             const DefinitionPolicy& policy, FieldErrors* errors);

// The same, as a status: INVALID_ARGUMENT "f1: m1; f2: m2".
absl::StatusOr<ServiceSpec> CompileDefinition(const v1::ServiceDefinition& def,
                                              const DefinitionPolicy& policy);

// Reads "<dir>/<name>.service", parses (text format) and compiles it. Errors name the file
// and line: "/etc/secureos/services/web.service:4: level: required, 1 to 5".
absl::StatusOr<ServiceSpec> LoadDefinitionFile(const std::string& path,
                                               const DefinitionPolicy& policy);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_DEFINITION_H_
