// Rule conditions: a small language over event fields (event_fields.h), compiled once.
//
// Grammar (keywords are lower case; whitespace separates nothing else):
//   condition  := or
//   or         := and { "or" and }
//   and        := unary { "and" unary }
//   unary      := "not" unary | "(" condition ")" | comparison | MACRO
//   comparison := FIELD op value
//               | FIELD "in" "(" value { "," value } ")"   |   FIELD "in" LIST
//   op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "startswith"
//   value      := "double-quoted text" (\" and \\ escape) | integer | WORD
// FIELD is a dotted event field ("workload.syscall"). A WORD value is an enum value's name
// for enum fields ("SECCOMP_VIOLATION", "WARNING") and plain text for text fields. contains
// and startswith take text fields; < <= > >= take numbers and enums (severity >= WARNING).
// MACRO and LIST are names defined before use (ConditionContext). A comparison with a field
// the event does not carry is false.
//
// Errors are INVALID_ARGUMENT "column N: what was expected, what was found", or name the
// field, macro or list that is unknown, or the operator that does not fit the field's type.
#ifndef SECUREOS_MONITORD_RULES_CONDITION_H_
#define SECUREOS_MONITORD_RULES_CONDITION_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/common.pb.h"

namespace secureos::monitord {

class ConditionNode;

// A compiled condition.
class Condition {
 public:
  // A null root matches nothing.
  explicit Condition(std::shared_ptr<const ConditionNode> root);
  bool Matches(const common::v1::Event& event) const;
  // The event kinds the condition can match, when it says (a top-level `kind == X` or
  // `kind in (...)` among its and-ed terms); empty: any kind.
  const std::set<int>& kinds() const { return kinds_; }

 private:
  std::shared_ptr<const ConditionNode> root_;
  std::set<int> kinds_;
};

// The lists and macros conditions may name.
class ConditionContext {
 public:
  // A list of values (text as written; compared as a field's type wants).
  void AddList(const std::string& name, std::vector<std::string> items);
  // A macro: a condition other conditions name. Compiled now, against what is defined so far.
  absl::Status AddMacro(const std::string& name, absl::string_view text);
  bool Defines(const std::string& name) const;

  const std::vector<std::string>* FindList(const std::string& name) const;
  std::shared_ptr<const ConditionNode> FindMacro(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::string>> lists_;
  std::map<std::string, std::shared_ptr<const ConditionNode>> macros_;
};

// Compiles `text` against `context`.
absl::StatusOr<Condition> CompileCondition(absl::string_view text, const ConditionContext& context);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_RULES_CONDITION_H_
