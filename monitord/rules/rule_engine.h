// Runs a RuleSet over a stream of events and says what fires, keeping the state that
// thresholds, sequences and flood control need. Time is the events' own (Event.time), so
// that recorded events replay exactly as they happened (`secctl monitor rules test`) and
// tests control it.
//
// Per rule, for an event that matches its condition and none of its exceptions:
//   plain       one alert;
//   threshold   the event's time is added to its group (group_by's value); when the group
//               holds `count` times within `window`, one alert (count = how many) and the
//               group starts over;
//   sequence    the event is remembered under its correlate_by value; an event matching
//               `then` with the same value within `window` of the oldest remembered one
//               fires (with both events) and uses that one up; an event may be both ends
//               (A then A), and then pairs with an earlier one;
//   flood       an alert whose rule and key (flood.key's value) already fired within the
//               flood window is folded: counted, not emitted. The first one after the
//               window stands for itself and those folded (count = folded + 1); Flush
//               emits, with count = how many, what is still folded when its window ends.
// State is bounded: groups and remembered events older than their window are dropped as
// time passes, and at most kMaxKeysPerRule keys are held per rule (the oldest go first).
//
// Not thread-safe: one engine per event stream (monitord's engine thread).
#ifndef SECUREOS_MONITORD_RULES_RULE_ENGINE_H_
#define SECUREOS_MONITORD_RULES_RULE_ENGINE_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "monitord/rules/rule_set.h"
#include "proto/monitord.pb.h"

namespace secureos::monitord {

inline constexpr size_t kMaxKeysPerRule = 10000;

class RuleEngine {
 public:
  explicit RuleEngine(std::shared_ptr<const RuleSet> rules);

  // Replaces the rules (a reload). Windows and folds of rules that keep their name go on.
  void SetRules(std::shared_ptr<const RuleSet> rules);

  // The alerts `event` fires, in rule order.
  std::vector<monitord::v1::Alert> Process(const common::v1::Event& event);

  // The folded alerts whose flood window ended by `now`, or all of them (end of a replay).
  std::vector<monitord::v1::Alert> Flush(absl::Time now = absl::InfiniteFuture());

  const RuleSet& rules() const { return *rules_; }

 private:
  struct RuleState {
    std::map<std::string, std::deque<absl::Time>> groups;            // Threshold.
    std::map<std::string, std::deque<common::v1::Event>> firsts;     // Sequence.
    struct Fold {
      absl::Time since;
      uint64_t folded = 0;
      monitord::v1::Alert last;
    };
    std::map<std::string, Fold> folds;                                 // Flood control.
  };

  void Evaluate(const CompiledRule& rule, RuleState& state, const common::v1::Event& event, absl::Time t,
                std::vector<monitord::v1::Alert>* out);
  void CompleteSequence(const CompiledRule& rule, RuleState& state, const common::v1::Event& event, absl::Time t,
                        std::vector<monitord::v1::Alert>* out);
  void Threshold(const CompiledRule& rule, RuleState& state, const common::v1::Event& event, absl::Time t,
                 std::vector<monitord::v1::Alert>* out);
  void Emit(const CompiledRule& rule, RuleState& state, monitord::v1::Alert alert, absl::Time t,
            std::vector<monitord::v1::Alert>* out);
  monitord::v1::Alert AlertOf(const CompiledRule& rule, const common::v1::Event& event, uint64_t count) const;

  std::shared_ptr<const RuleSet> rules_;
  std::map<std::string, RuleState> state_;  // By rule name.
};

// The event's time (Event.time), as absl::Time.
absl::Time EventTime(const common::v1::Event& event);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_RULES_RULE_ENGINE_H_
