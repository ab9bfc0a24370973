// monitord/default.rules compiles and each of its rules fires on the events it is about, and
// not on ordinary ones.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "monitord/rules/rule_engine.h"
#include "monitord/rules/rule_set.h"

namespace secureos::monitord {
namespace {

namespace cv1 = ::secureos::common::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class DefaultRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = RuleSet::Load("monitord/default.rules");
    ASSERT_TRUE(rules.ok()) << rules.status();
    engine_ = std::make_unique<RuleEngine>(*rules);
  }
  cv1::Event Event(cv1::EventKind kind, const std::string& principal = "uid:1000") {
    cv1::Event e;
    e.set_source("test");
    e.set_sequence(++seq_);
    e.set_kind(kind);
    e.mutable_principal()->set_id(principal);
    *e.mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1000 + seq_);
    return e;
  }
  std::vector<std::string> Fired(const cv1::Event& e) {
    std::vector<std::string> rules;
    for (const auto& a : engine_->Process(e)) rules.push_back(a.rule());
    return rules;
  }
  std::unique_ptr<RuleEngine> engine_;
  uint64_t seq_ = 0;
};

TEST_F(DefaultRulesTest, DeniedCallsAndTheirBurst) {
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_ACCESS_DENIED)), ElementsAre("denied call"));
  for (int i = 0; i < 3; ++i) EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_CAPABILITY_DENIED)), IsEmpty());  // Folded.
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_ACCESS_DENIED)), ElementsAre("denied calls burst"));
}

TEST_F(DefaultRulesTest, ViolationsEscapesAndGrantThenViolation) {
  cv1::Event v = Event(cv1::EVENT_KIND_SECCOMP_VIOLATION, "sandbox:web");
  v.mutable_workload()->set_name("web");
  v.mutable_workload()->set_syscall("socket");
  EXPECT_THAT(Fired(v), ElementsAre("seccomp violation"));
  v.mutable_workload()->set_syscall("ptrace");
  v.set_sequence(++seq_);
  EXPECT_THAT(Fired(v), ElementsAre("sandbox escape attempt"));
  // A grant by itself, and an authorization under another trace, tie nothing together.
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_CAPABILITY_GRANTED, "sandbox:web")), IsEmpty());
  cv1::Event authorized = Event(cv1::EVENT_KIND_CAPABILITY_AUTHORIZED, "sandbox:web");
  authorized.set_trace_id("t-other");
  EXPECT_THAT(Fired(authorized), IsEmpty());
  v.set_trace_id("t-web");
  v.mutable_workload()->set_syscall("mount");
  v.set_sequence(++seq_);
  EXPECT_THAT(Fired(v), ElementsAre("sandbox escape attempt"));
  // capd authorized the workload's capabilities under its trace id: its next violation is
  // tied to the grant it used.
  authorized.set_trace_id("t-web");
  authorized.set_sequence(++seq_);
  EXPECT_THAT(Fired(authorized), IsEmpty());
  v.set_sequence(++seq_);
  EXPECT_THAT(Fired(v), ElementsAre("grant then violation", "sandbox escape attempt"));
}

TEST_F(DefaultRulesTest, DriftRestartsOomComplianceAndLostEvents) {
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_CAPABILITY_DRIFT)), ElementsAre("capability drift"));
  cv1::Event restarted = Event(cv1::EVENT_KIND_SERVICE_RESTARTED, "service:web");
  restarted.mutable_service()->set_service("web");
  for (int i = 0; i < 4; ++i) EXPECT_THAT(Fired(restarted), IsEmpty());
  EXPECT_THAT(Fired(restarted), ElementsAre("restart storm"));
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_SERVICE_START_LIMIT)), ElementsAre("start limit"));
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_SERVICE_VERIFICATION_MISMATCH)), ElementsAre("verification mismatch"));
  cv1::Event oom = Event(cv1::EVENT_KIND_CONTAINER_EXITED, "container:hog");
  oom.mutable_container()->set_reason("oom");
  EXPECT_THAT(Fired(oom), ElementsAre("oom kill"));
  cv1::Event exited = Event(cv1::EVENT_KIND_WORKLOAD_EXITED);
  exited.mutable_workload()->set_reason("exited");
  EXPECT_THAT(Fired(exited), IsEmpty());
  cv1::Event finding = Event(cv1::EVENT_KIND_COMPLIANCE_FINDING);
  finding.mutable_container()->set_rule_id("PSS-B-004");
  EXPECT_THAT(Fired(finding), ElementsAre("compliance finding"));
  cv1::Event lost = Event(cv1::EVENT_KIND_EVENTS_LOST);
  lost.mutable_monitor()->set_source("capd");
  lost.mutable_monitor()->set_lost_count(12);
  auto alerts = engine_->Process(lost);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].output(), "12 events of capd lost from sequence 0 (0: unknown, the source restarted)");
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_AUDIT_FAILURE)), ElementsAre("audit failure"));
  EXPECT_THAT(Fired(Event(cv1::EVENT_KIND_SERVICE_READY)), IsEmpty());
}

}  // namespace
}  // namespace secureos::monitord
