// RuleSet compilation errors and the engine's plain rules, exceptions, thresholds, sequences
// and flood control, driven by events with controlled times.
#include "monitord/rules/rule_engine.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config_loader.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace secureos::monitord {
namespace {

using ::testing::HasSubstr;
namespace cv1 = ::secureos::common::v1;
namespace v1 = ::secureos::monitord::v1;
using google::protobuf::util::TimeUtil;

std::shared_ptr<const RuleSet> Rules(const std::string& text) {
  v1::RulesFile file;
  FieldLocations locations;
  absl::Status parsed = ParseConfig("rules.conf", text, &file, &locations);
  EXPECT_TRUE(parsed.ok()) << parsed;
  absl::StatusOr<std::shared_ptr<const RuleSet>> set = RuleSet::Compile(file, "rules.conf", &locations);
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *set : nullptr;
}

std::string RulesError(const std::string& text) {
  v1::RulesFile file;
  FieldLocations locations;
  absl::Status parsed = ParseConfig("rules.conf", text, &file, &locations);
  if (!parsed.ok()) return std::string(parsed.message());
  absl::StatusOr<std::shared_ptr<const RuleSet>> set = RuleSet::Compile(file, "rules.conf", &locations);
  EXPECT_FALSE(set.ok());
  return std::string(set.status().message());
}

// An event at `second` seconds.
cv1::Event At(double second, cv1::EventKind kind, const std::string& principal, uint64_t seq) {
  cv1::Event e;
  e.set_source("capd");
  e.set_sequence(seq);
  e.set_kind(kind);
  e.set_severity(cv1::SEVERITY_NOTICE);
  e.mutable_principal()->set_id(principal);
  *e.mutable_time() = TimeUtil::NanosecondsToTimestamp(static_cast<int64_t>(second * 1e9));
  return e;
}

std::vector<std::string> Outputs(const std::vector<v1::Alert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(absl::StrCat(a.rule(), ": ", a.output(), " x", a.count()));
  return out;
}

TEST(RuleSetTest, ErrorsNameTheLineTheFieldAndTheProblem) {
  const std::string text =
      "list { name: \"l\" items: \"a\" }\n"
      "macro { name: \"l\" condition: \"kind == ACCESS_DENIED\" }\n"
      "rule {\n"
      "  name: \"r\"\n"
      "  condition: \"kind ==\"\n"
      "  severity: SEVERITY_WARNING\n"
      "  output: \"{principal.idd}\"\n"
      "}\n"
      "rule { name: \"r\" condition: \"kind == ACCESS_DENIED\" output: \"x\"\n"
      "  threshold { count: 1 } sequence { then: \"x ==\" } }\n";
  const std::string e = RulesError(text);
  EXPECT_THAT(e, HasSubstr("rules.conf:2: macro[0].name: \"l\" is defined twice"));
  EXPECT_THAT(e, HasSubstr("rules.conf:5: rule[0].condition: column 8: expected a value after \"==\", got the end"));
  EXPECT_THAT(e, HasSubstr("rules.conf:7: rule[0].output: unknown field \"principal.idd\""));
  EXPECT_THAT(e, HasSubstr("rule[1].name: \"r\" is used by an earlier rule"));
  EXPECT_THAT(e, HasSubstr("rule[1].severity: required"));
  EXPECT_THAT(e, HasSubstr("rule[1]: a rule has a threshold or a sequence, not both"));
  EXPECT_THAT(e, HasSubstr("rule[1].threshold.count: at least 2, got 1"));
  EXPECT_THAT(e, HasSubstr("rule[1].threshold.window_ms: required"));
  EXPECT_THAT(e, HasSubstr("rule[1].sequence.correlate_by: required"));
  EXPECT_THAT(RulesError("rule { nme: \"x\" }"), HasSubstr("rules.conf:1:"));
  EXPECT_THAT(RulesError("rule { name: \"x\" condition: \"kind == ACCESS_DENIED\" severity: SEVERITY_INFO output: \"{kind\" }"),
              HasSubstr("rule[0].output: \"{\" at column 1 is not closed"));
}

TEST(RuleEngineTest, PlainRulesExceptionsOutputsAndIndexing) {
  RuleEngine engine(Rules(
      "list { name: \"admins\" items: \"uid:0\" }\n"
      "macro { name: \"denied\" condition: \"kind == ACCESS_DENIED\" }\n"
      "rule { name: \"denied\" condition: \"denied\" severity: SEVERITY_WARNING tags: \"access\"\n"
      "  exceptions { name: \"root\" condition: \"principal.id in admins\" }\n"
      "  output: \"{principal.id} was refused ({kind}, {workload.syscall})\" }\n"
      "rule { name: \"off\" condition: \"denied\" severity: SEVERITY_INFO output: \"x\" disabled: true }\n"));
  std::vector<v1::Alert> a = engine.Process(At(1, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1000", 1));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].output(), "uid:1000 was refused (ACCESS_DENIED, -)");
  EXPECT_EQ(a[0].severity(), cv1::SEVERITY_WARNING);
  EXPECT_THAT(a[0].tags(), ::testing::ElementsAre("access"));
  EXPECT_TRUE(engine.Process(At(2, cv1::EVENT_KIND_ACCESS_DENIED, "uid:0", 2)).empty());  // Exception.
  EXPECT_TRUE(engine.Process(At(3, cv1::EVENT_KIND_CAPABILITY_GRANTED, "uid:1000", 3)).empty());
  EXPECT_TRUE(engine.rules().RulesFor(cv1::EVENT_KIND_CAPABILITY_GRANTED).empty());
}

TEST(RuleEngineTest, ThresholdFiresExactlyAtTheNthWithinTheWindowPerGroup) {
  RuleEngine engine(Rules(
      "rule { name: \"burst\" condition: \"kind == ACCESS_DENIED\" severity: SEVERITY_WARNING\n"
      "  output: \"{count} denied from {principal.id}\"\n"
      "  threshold { count: 5 window_ms: 60000 group_by: \"principal.id\" } }\n"));
  uint64_t seq = 0;
  std::vector<std::string> fired;
  // uid:1 — 4 in the window: nothing; the 5th (at 59 s) fires.
  for (double t : {0.0, 10.0, 20.0, 30.0}) {
    EXPECT_TRUE(engine.Process(At(t, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq)).empty()) << t;
  }
  // Another group does not add to it.
  EXPECT_TRUE(engine.Process(At(40, cv1::EVENT_KIND_ACCESS_DENIED, "uid:2", ++seq)).empty());
  auto a = engine.Process(At(59, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq));
  EXPECT_THAT(Outputs(a), ::testing::ElementsAre("burst: 5 denied from uid:1 x5"));
  EXPECT_EQ(a[0].key(), "uid:1");
  // It starts over: four more do not fire.
  for (double t : {60.0, 61.0, 62.0, 63.0}) {
    EXPECT_TRUE(engine.Process(At(t, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq)).empty());
  }
  // Spread out beyond the window: never five within 60 s.
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(engine.Process(At(1000 + 16.0 * i, cv1::EVENT_KIND_ACCESS_DENIED, "uid:3", ++seq)).empty()) << i;
  }
}

TEST(RuleEngineTest, SequenceAThenBForTheSamePrincipalWithinTheWindow) {
  RuleEngine engine(Rules(
      "rule { name: \"grant then violation\" condition: \"kind == CAPABILITY_GRANTED\"\n"
      "  severity: SEVERITY_CRITICAL output: \"{principal.id} granted then refused\"\n"
      "  sequence { then: \"kind == SECCOMP_VIOLATION\" window_ms: 60000 correlate_by: \"principal.id\" } }\n"));
  // B before any A: nothing.
  EXPECT_TRUE(engine.Process(At(0, cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:web", 1)).empty());
  EXPECT_TRUE(engine.Process(At(1, cv1::EVENT_KIND_CAPABILITY_GRANTED, "sandbox:web", 2)).empty());
  // B for another principal: nothing.
  EXPECT_TRUE(engine.Process(At(2, cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:db", 3)).empty());
  // B for the same one within 60 s: fires once, with both events.
  auto a = engine.Process(At(30, cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:web", 4));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first().sequence(), 2u);
  EXPECT_EQ(a[0].event().sequence(), 4u);
  EXPECT_EQ(a[0].key(), "sandbox:web");
  EXPECT_TRUE(engine.Process(At(31, cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:web", 5)).empty());  // Used up.
  // Too late: A at 100, B at 161.
  EXPECT_TRUE(engine.Process(At(100, cv1::EVENT_KIND_CAPABILITY_GRANTED, "sandbox:web", 6)).empty());
  EXPECT_TRUE(engine.Process(At(161, cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:web", 7)).empty());
}

TEST(RuleEngineTest, AnEventThatIsBothEndsPairsWithAnEarlierOne) {
  RuleEngine engine(Rules(
      "rule { name: \"twice\" condition: \"kind == ACCESS_DENIED\" severity: SEVERITY_INFO output: \"again\"\n"
      "  sequence { then: \"kind == ACCESS_DENIED\" window_ms: 1000 correlate_by: \"principal.id\" } }\n"));
  EXPECT_TRUE(engine.Process(At(0, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", 1)).empty());
  EXPECT_EQ(engine.Process(At(0.5, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", 2)).size(), 1u);
}

TEST(RuleEngineTest, FloodControlFoldsRepeatsIntoOneWithACount) {
  RuleEngine engine(Rules(
      "rule { name: \"noisy\" condition: \"kind == ACCESS_DENIED\" severity: SEVERITY_WARNING\n"
      "  output: \"{principal.id} x{count}\" flood { window_ms: 10000 key: \"principal.id\" } }\n"));
  uint64_t seq = 0;
  EXPECT_EQ(engine.Process(At(0, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq)).size(), 1u);
  for (double t : {1.0, 2.0, 3.0}) {
    EXPECT_TRUE(engine.Process(At(t, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq)).empty());
  }
  // Another key is not folded with it.
  EXPECT_EQ(engine.Process(At(4, cv1::EVENT_KIND_ACCESS_DENIED, "uid:2", ++seq)).size(), 1u);
  // After the window: one alert standing for itself and the 3 folded.
  auto a = engine.Process(At(11, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq));
  EXPECT_THAT(Outputs(a), ::testing::ElementsAre("noisy: uid:1 x4 x4"));
  // Folded at the end of a replay: Flush reports them.
  EXPECT_TRUE(engine.Process(At(12, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", ++seq)).empty());
  EXPECT_TRUE(engine.Flush(absl::FromUnixSeconds(15)).empty());  // Window still open.
  EXPECT_THAT(Outputs(engine.Flush()), ::testing::ElementsAre("noisy: uid:1 x1 x1"));
}

TEST(RuleEngineTest, ReloadKeepsTheStateOfRulesThatStay) {
  const std::string rule =
      "rule { name: \"burst\" condition: \"kind == ACCESS_DENIED\" severity: SEVERITY_WARNING output: \"x\"\n"
      "  threshold { count: 3 window_ms: 60000 } }\n";
  RuleEngine engine(Rules(rule));
  EXPECT_TRUE(engine.Process(At(0, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", 1)).empty());
  EXPECT_TRUE(engine.Process(At(1, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", 2)).empty());
  engine.SetRules(Rules(rule));
  EXPECT_EQ(engine.Process(At(2, cv1::EVENT_KIND_ACCESS_DENIED, "uid:1", 3)).size(), 1u);
}

}  // namespace
}  // namespace secureos::monitord
