#include "monitord/rules/rule_set.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config_loader.h"
#include "common/fd.h"
#include "common/field_errors.h"
#include "common/status.h"

namespace secureos::monitord {
namespace {

namespace v1 = ::secureos::monitord::v1;

constexpr size_t kMaxRulesBytes = 16 << 20;

bool ValidName(const std::string& n) {
  if (n.empty() || !(absl::ascii_isalpha(n[0]) || n[0] == '_')) return false;
  for (char c : n) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// "{a.b} text {count}" -> parts; unknown fields and unclosed braces are errors.
absl::StatusOr<std::vector<OutputPart>> ParseOutput(const std::string& text) {
  std::vector<OutputPart> parts;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('{', i);
    if (open == std::string::npos) {
      parts.push_back(OutputPart{text.substr(i), std::nullopt, false});
      break;
    }
    if (open > i) parts.push_back(OutputPart{text.substr(i, open - i), std::nullopt, false});
    const size_t close = text.find('}', open);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"{\" at column ", open + 1, " is not closed"));
    }
    const std::string name = text.substr(open + 1, close - open - 1);
    if (name == "count") {
      parts.push_back(OutputPart{"", std::nullopt, true});
    } else {
      absl::StatusOr<EventField> f = ResolveEventField(name);
      if (!f.ok()) return f.status();
      parts.push_back(OutputPart{"", *std::move(f), false});
    }
    i = close + 1;
  }
  return parts;
}

// Compiles `text` into *out, or adds the error under `field`.
template <typename T>
bool Take(absl::StatusOr<T> result, const std::string& field, FieldErrors* errors, std::optional<T>* out) {
  if (!result.ok()) {
    errors->Add(field, result.status().message());
    return false;
  }
  *out = *std::move(result);
  return true;
}

void CompileWindows(const v1::Rule& r, const std::string& at, CompiledRule* c, const ConditionContext& ctx,
                    FieldErrors* errors) {
  if (r.has_threshold() && r.has_sequence()) errors->Add(at, "a rule has a threshold or a sequence, not both");
  if (r.has_threshold()) {
    const v1::RuleThreshold& t = r.threshold();
    if (t.count() < 2) errors->Add(at + ".threshold.count", absl::StrCat("at least 2, got ", t.count()));
    if (t.window_ms() == 0) errors->Add(at + ".threshold.window_ms", "required");
    c->threshold_count = t.count();
    c->threshold_window = absl::Milliseconds(t.window_ms());
    if (!t.group_by().empty()) Take(ResolveEventField(t.group_by()), at + ".threshold.group_by", errors, &c->group_by);
  }
  if (r.has_sequence()) {
    const v1::RuleSequence& s = r.sequence();
    if (s.then().empty()) errors->Add(at + ".sequence.then", "required");
    else Take(CompileCondition(s.then(), ctx), at + ".sequence.then", errors, &c->then);
    if (s.window_ms() == 0) errors->Add(at + ".sequence.window_ms", "required");
    c->sequence_window = absl::Milliseconds(s.window_ms());
    if (s.correlate_by().empty()) {
      errors->Add(at + ".sequence.correlate_by", "required (\"principal.id\", \"trace_id\", ...)");
    } else {
      Take(ResolveEventField(s.correlate_by()), at + ".sequence.correlate_by", errors, &c->correlate_by);
    }
  }
  if (r.has_flood()) {
    if (r.flood().window_ms() == 0) errors->Add(at + ".flood.window_ms", "required");
    c->flood_window = absl::Milliseconds(r.flood().window_ms());
    if (!r.flood().key().empty()) Take(ResolveEventField(r.flood().key()), at + ".flood.key", errors, &c->flood_key);
  }
}

std::optional<CompiledRule> CompileRule(const v1::Rule& r, const std::string& at, const ConditionContext& ctx,
                                        FieldErrors* errors) {
  const size_t before = errors->errors().size();
  if (r.name().empty()) errors->Add(at + ".name", "required");
  if (r.severity() == common::v1::SEVERITY_UNSPECIFIED) errors->Add(at + ".severity", "required");
  std::optional<Condition> condition;
  if (r.condition().empty()) {
    errors->Add(at + ".condition", "required");
  } else {
    Take(CompileCondition(r.condition(), ctx), at + ".condition", errors, &condition);
  }
  CompiledRule c;
  c.source = r;
  if (condition.has_value()) c.condition = *std::move(condition);
  for (int i = 0; i < r.exceptions_size(); ++i) {
    const std::string f = absl::StrCat(at, ".exceptions[", i, "]");
    if (r.exceptions(i).name().empty()) errors->Add(f + ".name", "required");
    std::optional<Condition> e;
    if (Take(CompileCondition(r.exceptions(i).condition(), ctx), f + ".condition", errors, &e)) {
      c.exceptions.push_back(*std::move(e));
    }
  }
  std::optional<std::vector<OutputPart>> output;
  if (r.output().empty()) {
    errors->Add(at + ".output", "required");
  } else if (Take(ParseOutput(r.output()), at + ".output", errors, &output)) {
    c.output = std::move(*output);
  }
  CompileWindows(r, at, &c, ctx, errors);
  if (errors->errors().size() != before) return std::nullopt;
  return c;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::Compile(const v1::RulesFile& file,
                                                                absl::string_view file_name,
                                                                const FieldLocations* locations) {
  FieldErrors errors;
  ConditionContext ctx;
  for (int i = 0; i < file.list_size(); ++i) {
    const v1::RuleList& l = file.list(i);
    const std::string at = absl::StrCat("list[", i, "].name");
    if (!ValidName(l.name())) errors.Add(at, absl::StrCat("[A-Za-z_][A-Za-z0-9_]*, got \"", l.name(), "\""));
    else if (ctx.Defines(l.name())) errors.Add(at, absl::StrCat("\"", l.name(), "\" is defined twice"));
    else ctx.AddList(l.name(), {l.items().begin(), l.items().end()});
  }
  for (int i = 0; i < file.macro_size(); ++i) {
    const v1::RuleMacro& m = file.macro(i);
    if (!ValidName(m.name())) {
      errors.Add(absl::StrCat("macro[", i, "].name"), absl::StrCat("[A-Za-z_][A-Za-z0-9_]*, got \"", m.name(), "\""));
    } else if (ctx.Defines(m.name())) {
      errors.Add(absl::StrCat("macro[", i, "].name"), absl::StrCat("\"", m.name(), "\" is defined twice"));
    } else if (absl::Status s = ctx.AddMacro(m.name(), m.condition()); !s.ok()) {
      errors.Add(absl::StrCat("macro[", i, "].condition"), s.message());
    }
  }
  auto set = std::shared_ptr<RuleSet>(new RuleSet());
  std::set<std::string> names;
  for (int i = 0; i < file.rule_size(); ++i) {
    const std::string at = absl::StrCat("rule[", i, "]");
    if (!file.rule(i).name().empty() && !names.insert(file.rule(i).name()).second) {
      errors.Add(at + ".name", absl::StrCat("\"", file.rule(i).name(), "\" is used by an earlier rule"));
    }
    std::optional<CompiledRule> r = CompileRule(file.rule(i), at, ctx, &errors);
    if (r.has_value()) set->rules_.push_back(*std::move(r));
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToConfigStatus(file_name, locations));
  const int kinds = common::v1::EventKind_descriptor()->value(common::v1::EventKind_descriptor()->value_count() - 1)->number() + 1;
  set->by_kind_.assign(kinds + 1, {});
  for (size_t i = 0; i < set->rules_.size(); ++i) {
    const CompiledRule& r = set->rules_[i];
    if (r.source.disabled()) continue;
    for (int k = 0; k <= kinds; ++k) {
      if (r.condition.kinds().empty() || r.condition.kinds().count(k) != 0) set->by_kind_[k].push_back(i);
    }
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::FromText(absl::string_view text, absl::string_view file_name) {
  v1::RulesFile file;
  FieldLocations locations;
  SECUREOS_RETURN_IF_ERROR(ParseConfig(file_name, text, &file, &locations));
  return Compile(file, file_name, &locations);
}

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::Load(const std::string& path) {
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxRulesBytes));
  return FromText(text, path);
}

const std::vector<size_t>& RuleSet::RulesFor(int kind) const {
  if (kind < 0 || static_cast<size_t>(kind) + 1 >= by_kind_.size()) return by_kind_.back();
  return by_kind_[kind];
}

std::string FillOutput(const std::vector<OutputPart>& output, const common::v1::Event& event, uint64_t count) {
  std::string out;
  for (const OutputPart& p : output) {
    if (p.count) {
      absl::StrAppend(&out, count);
    } else if (p.field.has_value()) {
      const std::string v = FieldText(*p.field, ReadField(event, *p.field));
      absl::StrAppend(&out, v.empty() ? "-" : v);
    } else {
      absl::StrAppend(&out, p.text);
    }
  }
  return out;
}

}  // namespace secureos::monitord
