#include "monitord/rules/condition.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::monitord {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace cv1 = ::secureos::common::v1;

cv1::Event Violation(const std::string& syscall, const std::string& workload = "web") {
  cv1::Event e;
  e.set_source("sandboxd");
  e.set_kind(cv1::EVENT_KIND_SECCOMP_VIOLATION);
  e.set_severity(cv1::SEVERITY_WARNING);
  e.mutable_principal()->set_id("sandbox:" + workload);
  e.mutable_principal()->set_uid(1000);
  e.mutable_workload()->set_name(workload);
  e.mutable_workload()->set_syscall(syscall);
  e.mutable_workload()->set_pid(42);
  e.set_message("seccomp refused " + syscall);
  return e;
}

cv1::Event Denied(uint32_t uid) {
  cv1::Event e;
  e.set_source("capd");
  e.set_kind(cv1::EVENT_KIND_ACCESS_DENIED);
  e.set_severity(cv1::SEVERITY_NOTICE);
  e.mutable_principal()->set_id("uid:" + std::to_string(uid));
  e.mutable_principal()->set_uid(uid);
  return e;
}

class ConditionTest : public ::testing::Test {
 protected:
  bool Matches(const std::string& text, const cv1::Event& e) {
    absl::StatusOr<Condition> c = CompileCondition(text, context_);
    EXPECT_TRUE(c.ok()) << text << ": " << c.status();
    return c.ok() && c->Matches(e);
  }
  std::string Error(const std::string& text) {
    absl::StatusOr<Condition> c = CompileCondition(text, context_);
    EXPECT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(c.status().message());
  }
  ConditionContext context_;
};

TEST_F(ConditionTest, EveryOperator) {
  const cv1::Event v = Violation("ptrace");
  EXPECT_TRUE(Matches("kind == SECCOMP_VIOLATION", v));
  EXPECT_TRUE(Matches("kind == EVENT_KIND_SECCOMP_VIOLATION", v));
  EXPECT_FALSE(Matches("kind != SECCOMP_VIOLATION", v));
  EXPECT_TRUE(Matches("workload.syscall == \"ptrace\"", v));
  EXPECT_TRUE(Matches("workload.syscall == ptrace", v));  // A word is text for a text field.
  EXPECT_TRUE(Matches("workload.syscall != mount", v));
  EXPECT_TRUE(Matches("severity >= WARNING", v));
  EXPECT_TRUE(Matches("severity > NOTICE", v));
  EXPECT_FALSE(Matches("severity < WARNING", v));
  EXPECT_TRUE(Matches("severity <= WARNING", v));
  EXPECT_TRUE(Matches("workload.pid > 41 and workload.pid < 43", v));
  EXPECT_TRUE(Matches("workload.pid >= 42 and workload.pid <= 42", v));
  EXPECT_TRUE(Matches("principal.uid == 1000", v));
  EXPECT_TRUE(Matches("message contains \"refused pt\"", v));
  EXPECT_TRUE(Matches("principal.id startswith \"sandbox:\"", v));
  EXPECT_FALSE(Matches("principal.id startswith \"uid:\"", v));
  EXPECT_TRUE(Matches("workload.syscall in (mount, ptrace, \"kexec_load\")", v));
  EXPECT_FALSE(Matches("workload.syscall in (mount)", v));
  EXPECT_TRUE(Matches("kind in (ACCESS_DENIED, SECCOMP_VIOLATION)", v));
  EXPECT_TRUE(Matches("source == sandboxd", v));
}

TEST_F(ConditionTest, BooleanStructureAndPrecedence) {
  const cv1::Event v = Violation("ptrace");
  EXPECT_TRUE(Matches("not kind == ACCESS_DENIED", v));
  EXPECT_TRUE(Matches("kind == ACCESS_DENIED or kind == SECCOMP_VIOLATION and severity == WARNING", v));
  // and binds tighter than or: false or (true and false) is false.
  EXPECT_FALSE(Matches("kind == ACCESS_DENIED or kind == SECCOMP_VIOLATION and severity == CRITICAL", v));
  EXPECT_FALSE(Matches("(kind == ACCESS_DENIED or kind == SECCOMP_VIOLATION) and severity == CRITICAL", v));
  EXPECT_TRUE(Matches("not (kind == ACCESS_DENIED or severity == CRITICAL)", v));
  EXPECT_TRUE(Matches("not not source == sandboxd", v));
}

TEST_F(ConditionTest, AbsentFieldsCompareFalse) {
  const cv1::Event d = Denied(1000);
  EXPECT_FALSE(Matches("workload.syscall == ptrace", d));
  EXPECT_FALSE(Matches("workload.syscall != ptrace", d));
  EXPECT_TRUE(Matches("not workload.syscall == ptrace", d));
  cv1::Event no_uid = d;
  no_uid.mutable_principal()->clear_uid();
  EXPECT_FALSE(Matches("principal.uid == 0", no_uid));  // Optional field: absent, not 0.
}

TEST_F(ConditionTest, ListsAndMacros) {
  context_.AddList("debuggers", {"ptrace", "process_vm_readv"});
  ASSERT_TRUE(context_.AddMacro("violation", "kind == SECCOMP_VIOLATION").ok());
  ASSERT_TRUE(context_.AddMacro("debugging", "violation and workload.syscall in debuggers").ok());
  EXPECT_TRUE(Matches("debugging", Violation("ptrace")));
  EXPECT_FALSE(Matches("debugging", Violation("mount")));
  EXPECT_TRUE(Matches("violation and not debugging", Violation("mount")));
  EXPECT_THAT(Error("debuggers"), HasSubstr("\"debuggers\" is a list: use it after \"in\""));
  EXPECT_THAT(std::string(context_.AddMacro("bad", "undefined_macro").message()),
              HasSubstr("\"undefined_macro\" is neither a macro nor an event field"));
}

TEST_F(ConditionTest, KindsForIndexing) {
  EXPECT_THAT(CompileCondition("kind == SECCOMP_VIOLATION and severity >= WARNING", context_)->kinds(),
              ElementsAre(cv1::EVENT_KIND_SECCOMP_VIOLATION));
  EXPECT_THAT(CompileCondition("kind == ACCESS_DENIED or kind in (SECCOMP_VIOLATION)", context_)->kinds(),
              ElementsAre(cv1::EVENT_KIND_ACCESS_DENIED, cv1::EVENT_KIND_SECCOMP_VIOLATION));
  EXPECT_TRUE(CompileCondition("kind == ACCESS_DENIED or severity >= WARNING", context_)->kinds().empty());
  EXPECT_TRUE(CompileCondition("not kind == ACCESS_DENIED", context_)->kinds().empty());
}

TEST_F(ConditionTest, MalformedConditionsSayWhereAndWhat) {
  EXPECT_EQ(Error(""), "column 1: expected a field, a macro, \"not\" or \"(\", got the end");
  EXPECT_EQ(Error("kind =="), "column 8: expected a value after \"==\", got the end");
  EXPECT_EQ(Error("kind = SECCOMP_VIOLATION"), "column 6: \"=\" is not an operator (== or !=)");
  EXPECT_EQ(Error("(kind == ACCESS_DENIED"), "column 23: expected \")\", got the end");
  EXPECT_EQ(Error("kind == ACCESS_DENIED kind"), "column 23: expected \"and\", \"or\" or the end, got \"kind\"");
  EXPECT_THAT(Error("workload.sycall == x"), HasSubstr("column 1: unknown field \"workload.sycall\": workload has no field \"sycall\""));
  EXPECT_THAT(Error("kind == SECOMP"), HasSubstr("column 9: \"SECOMP\" is not a value of kind"));
  EXPECT_THAT(Error("kind contains x"), HasSubstr("\"contains\" needs a text field; kind is an enum"));
  EXPECT_THAT(Error("message > 3"), HasSubstr("\">\" compares numbers; message is text"));
  EXPECT_THAT(Error("workload.pid == abc"), HasSubstr("workload.pid is a number, got \"abc\""));
  EXPECT_THAT(Error("message == \"open"), HasSubstr("column 12: unterminated text"));
  EXPECT_THAT(Error("kind in (ACCESS_DENIED"), HasSubstr("expected \",\" or \")\""));
  EXPECT_THAT(Error("kind in nosuchlist"), HasSubstr("no list \"nosuchlist\""));
  EXPECT_THAT(Error("workload == x"), HasSubstr("is a message: name one of its fields"));
  EXPECT_THAT(Error("message == x ;"), HasSubstr("unexpected \";\""));
  EXPECT_THAT(Error("kind and"), HasSubstr("expected an operator after kind"));
}

TEST_F(ConditionTest, TextEscapes) {
  cv1::Event e = Violation("x");
  e.set_message("say \"hi\" \\ there");
  EXPECT_TRUE(Matches("message == \"say \\\"hi\\\" \\\\ there\"", e));
}

}  // namespace
}  // namespace secureos::monitord
