// monitord's rule language: a whole rules file (lists, macros, rules with conditions,
// sequences and thresholds) and a lone condition. Arbitrary text never crashes the compiler.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "monitord/rules/condition.h"
#include "monitord/rules/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)secureos::monitord::RuleSet::FromText(text, "fuzz.rules");
  secureos::monitord::ConditionContext context;
  (void)secureos::monitord::CompileCondition(text, context);
  return 0;
}
