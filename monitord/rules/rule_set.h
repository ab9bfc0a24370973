// A rules file, compiled. The file is protobuf text format (secureos.monitord.v1.RulesFile):
//
//   list  { name: "debuggers" items: "ptrace" items: "process_vm_readv" }
//   macro { name: "violation" condition: "kind == SECCOMP_VIOLATION" }
//   rule {
//     name: "debugger in a sandbox"
//     condition: "violation and workload.syscall in debuggers"
//     exceptions { name: "the profiler" condition: "workload.name == perf" }
//     severity: SEVERITY_CRITICAL  tags: "seccomp"
//     output: "{workload.name} (pid {workload.pid}) tried {workload.syscall}"
//   }
//   rule {
//     name: "denied calls burst"  condition: "kind == ACCESS_DENIED"  severity: SEVERITY_WARNING
//     output: "{count} denied calls from {principal.id}"
//     threshold { count: 5 window_ms: 60000 group_by: "principal.id" }
//     flood { window_ms: 300000 key: "principal.id" }
//   }
//   rule {
//     name: "grant then violation"  condition: "kind == CAPABILITY_GRANTED"
//     sequence { then: "kind == SECCOMP_VIOLATION" window_ms: 60000 correlate_by: "principal.id" }
//     severity: SEVERITY_CRITICAL  output: "{principal.id} was granted, then refused {workload.syscall}"
//   }
//
// Conditions follow monitord/rules/condition.h. Lists and macros must be defined before the
// conditions that use them (in file order: lists, then macros in order). Every problem of the
// file is reported at once, each with its line: "rules.conf:12: rule[3].condition: column 5:
// expected a value after \"==\", got the end".
#ifndef SECUREOS_MONITORD_RULES_RULE_SET_H_
#define SECUREOS_MONITORD_RULES_RULE_SET_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/config_loader.h"
#include "monitord/rules/condition.h"
#include "monitord/rules/event_fields.h"
#include "proto/monitord.pb.h"

namespace secureos::monitord {

// An output template: literal text and fields.
struct OutputPart {
  std::string text;                 // Literal text (when field is not set).
  std::optional<EventField> field;  // A field to fill in.
  bool count = false;               // {count}.
};

struct CompiledRule {
  monitord::v1::Rule source;
  Condition condition{nullptr};
  std::vector<Condition> exceptions;
  std::vector<OutputPart> output;
  // Threshold.
  uint32_t threshold_count = 0;  // 0: none.
  absl::Duration threshold_window;
  std::optional<EventField> group_by;
  // Sequence.
  std::optional<Condition> then;
  absl::Duration sequence_window;
  std::optional<EventField> correlate_by;
  // Flood control.
  absl::Duration flood_window;  // Zero: none.
  std::optional<EventField> flood_key;
};

class RuleSet {
 public:
  // Compiles `file`; `file_name` and `locations` (may be null) place errors on their lines.
  static absl::StatusOr<std::shared_ptr<const RuleSet>> Compile(const monitord::v1::RulesFile& file,
                                                                absl::string_view file_name,
                                                                const FieldLocations* locations);
  // Parses (protobuf text format) and compiles `text`, read from `file_name`.
  static absl::StatusOr<std::shared_ptr<const RuleSet>> FromText(absl::string_view text, absl::string_view file_name);
  // Reads and compiles a rules file.
  static absl::StatusOr<std::shared_ptr<const RuleSet>> Load(const std::string& path);

  const std::vector<CompiledRule>& rules() const { return rules_; }
  // Indexes of the enabled rules that can match `kind` (their condition's kinds, or any).
  const std::vector<size_t>& RulesFor(int kind) const;

 private:
  std::vector<CompiledRule> rules_;
  std::vector<std::vector<size_t>> by_kind_;  // kind -> rules; last entry: unknown kinds.
};

// The output of `rule` for `event` (and `count`).
std::string FillOutput(const std::vector<OutputPart>& output, const common::v1::Event& event, uint64_t count);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_RULES_RULE_SET_H_
