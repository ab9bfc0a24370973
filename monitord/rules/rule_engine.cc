#include "monitord/rules/rule_engine.h"

#include <utility>

#include "google/protobuf/util/time_util.h"

namespace secureos::monitord {
namespace {

namespace v1 = ::secureos::monitord::v1;
using google::protobuf::util::TimeUtil;

std::string KeyOf(const std::optional<EventField>& field, const common::v1::Event& event) {
  return field.has_value() ? FieldText(*field, ReadField(event, *field)) : std::string();
}

// Keeps a per-rule map bounded: the entry with the oldest front goes first.
template <typename Map, typename TimeOf>
void Bound(Map& m, TimeOf time_of) {
  while (m.size() > kMaxKeysPerRule) {
    auto oldest = m.begin();
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (time_of(it->second) < time_of(oldest->second)) oldest = it;
    }
    m.erase(oldest);
  }
}

}  // namespace

absl::Time EventTime(const common::v1::Event& event) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(event.time()));
}

RuleEngine::RuleEngine(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}

void RuleEngine::SetRules(std::shared_ptr<const RuleSet> rules) {
  rules_ = std::move(rules);
  std::map<std::string, RuleState> kept;
  for (const CompiledRule& r : rules_->rules()) {
    auto it = state_.find(r.source.name());
    if (it != state_.end()) kept[r.source.name()] = std::move(it->second);
  }
  state_ = std::move(kept);
}

std::vector<v1::Alert> RuleEngine::Process(const common::v1::Event& event) {
  std::vector<v1::Alert> out;
  const absl::Time t = EventTime(event);
  // Second events of sequences first: an event that is both ends pairs with an earlier one.
  for (const CompiledRule& rule : rules_->rules()) {
    if (rule.then.has_value() && !rule.source.disabled() && rule.then->Matches(event)) {
      CompleteSequence(rule, state_[rule.source.name()], event, t, &out);
    }
  }
  for (size_t i : rules_->RulesFor(event.kind())) {
    const CompiledRule& rule = rules_->rules()[i];
    Evaluate(rule, state_[rule.source.name()], event, t, &out);
  }
  return out;
}

void RuleEngine::CompleteSequence(const CompiledRule& rule, RuleState& state, const common::v1::Event& event,
                                  absl::Time t, std::vector<v1::Alert>* out) {
  const std::string key = KeyOf(rule.correlate_by, event);
  auto it = state.firsts.find(key);
  if (it == state.firsts.end()) return;
  std::deque<common::v1::Event>& firsts = it->second;
  while (!firsts.empty() && t - EventTime(firsts.front()) > rule.sequence_window) firsts.pop_front();
  if (!firsts.empty()) {
    v1::Alert alert = AlertOf(rule, event, 1);
    alert.set_key(key);
    *alert.mutable_first() = std::move(firsts.front());
    firsts.pop_front();
    Emit(rule, state, std::move(alert), t, out);
  }
  if (firsts.empty()) state.firsts.erase(it);
}

void RuleEngine::Evaluate(const CompiledRule& rule, RuleState& state, const common::v1::Event& event,
                          absl::Time t, std::vector<v1::Alert>* out) {
  if (!rule.condition.Matches(event)) return;
  for (const Condition& e : rule.exceptions) {
    if (e.Matches(event)) return;
  }
  if (rule.threshold_count > 0) {
    Threshold(rule, state, event, t, out);
  } else if (rule.then.has_value()) {
    state.firsts[KeyOf(rule.correlate_by, event)].push_back(event);
    Bound(state.firsts, [](const std::deque<common::v1::Event>& d) { return EventTime(d.front()); });
  } else {
    Emit(rule, state, AlertOf(rule, event, 1), t, out);
  }
}

void RuleEngine::Threshold(const CompiledRule& rule, RuleState& state, const common::v1::Event& event,
                           absl::Time t, std::vector<v1::Alert>* out) {
  const std::string key = KeyOf(rule.group_by, event);
  std::deque<absl::Time>& times = state.groups[key];
  times.push_back(t);
  while (!times.empty() && t - times.front() >= rule.threshold_window) times.pop_front();
  if (times.size() >= rule.threshold_count) {
    v1::Alert alert = AlertOf(rule, event, times.size());
    alert.set_key(key);
    state.groups.erase(key);  // Starts over.
    Emit(rule, state, std::move(alert), t, out);
    return;
  }
  Bound(state.groups, [](const std::deque<absl::Time>& d) { return d.front(); });
}

void RuleEngine::Emit(const CompiledRule& rule, RuleState& state, v1::Alert alert, absl::Time t,
                      std::vector<v1::Alert>* out) {
  if (rule.flood_window == absl::ZeroDuration()) {
    out->push_back(std::move(alert));
    return;
  }
  const std::string key = KeyOf(rule.flood_key, alert.event());
  auto it = state.folds.find(key);
  if (it != state.folds.end() && t - it->second.since < rule.flood_window) {
    ++it->second.folded;
    it->second.last = std::move(alert);
    return;
  }
  const uint64_t folded = it == state.folds.end() ? 0 : it->second.folded;
  if (folded > 0) {
    // The window ended: this alert stands for itself and the ones folded before it.
    alert.set_count(folded + 1);
    alert.set_output(FillOutput(rule.output, alert.event(), alert.count()));
  }
  state.folds[key] = RuleState::Fold{t, 0, {}};
  Bound(state.folds, [](const RuleState::Fold& f) { return f.since; });
  if (alert.key().empty()) alert.set_key(key);
  out->push_back(std::move(alert));
}

std::vector<v1::Alert> RuleEngine::Flush(absl::Time now) {
  std::vector<v1::Alert> out;
  for (const CompiledRule& rule : rules_->rules()) {
    auto st = state_.find(rule.source.name());
    if (st == state_.end()) continue;
    for (auto it = st->second.folds.begin(); it != st->second.folds.end();) {
      RuleState::Fold& f = it->second;
      const bool ended = now == absl::InfiniteFuture() || now - f.since >= rule.flood_window;
      if (!ended) {
        ++it;
        continue;
      }
      if (f.folded > 0) {
        v1::Alert a = std::move(f.last);
        a.set_count(f.folded);
        a.set_output(FillOutput(rule.output, a.event(), a.count()));
        out.push_back(std::move(a));
      }
      it = st->second.folds.erase(it);
    }
  }
  return out;
}

v1::Alert RuleEngine::AlertOf(const CompiledRule& rule, const common::v1::Event& event, uint64_t count) const {
  v1::Alert a;
  a.set_rule(rule.source.name());
  a.set_severity(rule.source.severity());
  for (const std::string& tag : rule.source.tags()) a.add_tags(tag);
  a.set_output(FillOutput(rule.output, event, count));
  *a.mutable_event() = event;
  a.set_count(count);
  return a;
}

}  // namespace secureos::monitord
