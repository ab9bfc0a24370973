// What an operator can do next about a failed call: the hint secctl prints after an error.
#ifndef SECUREOS_CLI_NEXT_STEP_H_
#define SECUREOS_CLI_NEXT_STEP_H_

#include <string>

#include "absl/status/status.h"

namespace secureos::cli {

// A parenthesized hint for `status` from `daemon` (" (is capd running? ...)"), or "" when the
// error itself says all there is (INVALID_ARGUMENT names the field and what was wrong,
// NOT_FOUND what is missing, a policy refusal its rule). `daemon` may be empty when the call
// is not to one daemon.
std::string NextStep(const absl::Status& status, const std::string& daemon);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_NEXT_STEP_H_
