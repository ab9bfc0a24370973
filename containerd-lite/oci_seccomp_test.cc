#include "containerd-lite/oci_seccomp.h"

#include <optional>
#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace sbx = sandboxd::v1;

TEST(OciSeccompTest, SeccompIsHandedOverAsOciJson) {
  oci::v1::Seccomp s;
  s.set_default_action("SCMP_ACT_ERRNO");
  s.set_default_errno_ret(38);
  s.add_architectures("SCMP_ARCH_X86_64");
  s.add_architectures("SCMP_ARCH_X86");
  s.add_flags("SECCOMP_FILTER_FLAG_LOG");
  oci::v1::Syscall* allow = s.add_syscalls();
  for (const char* name : {"read", "write", "exit_group"}) allow->add_names(name);
  allow->set_action("SCMP_ACT_ALLOW");
  oci::v1::Syscall* personality = s.add_syscalls();
  personality->add_names("personality");
  personality->set_action("SCMP_ACT_ALLOW");
  oci::v1::SeccompArg* arg = personality->add_args();
  arg->set_index(0);
  arg->set_value(0xffffffff);
  arg->set_value_two(8);
  arg->set_op("SCMP_CMP_MASKED_EQ");
  OciReport report;
  std::optional<sbx::SeccompProfile> out = TranslateSeccomp(&s, &report);
  ASSERT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->base().empty());
  EXPECT_TRUE(out->rules().empty());
  oci::v1::Seccomp back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out->oci_json(), &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, s)) << out->oci_json();
  EXPECT_THAT(out->oci_json(), HasSubstr("\"defaultAction\":\"SCMP_ACT_ERRNO\""));
  EXPECT_THAT(out->oci_json(), HasSubstr("\"valueTwo\""));
  EXPECT_THAT(report.notes(), Contains(HasSubstr("config.json: linux.seccomp.architectures[1]: "
                                                 "SCMP_ARCH_X86: sandboxd filters the native")));
  EXPECT_THAT(report.notes(), Not(Contains(HasSubstr("linux.seccomp: absent"))));
}

TEST(OciSeccompTest, AbsentIsSandboxdsDefault) {
  OciReport report;
  EXPECT_FALSE(TranslateSeccomp(nullptr, &report).has_value());
  EXPECT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  EXPECT_THAT(report.notes(), ElementsAre(HasSubstr("config.json: linux.seccomp: absent: "
                                                    "sandboxd's \"default\" profile applies")));
}

TEST(OciSeccompTest, SeccompRefusals) {
  oci::v1::Seccomp s;
  s.set_default_action("SCMP_ACT_ERRNO");
  s.add_flags("SECCOMP_FILTER_FLAG_NEW_LISTENER");
  s.add_flags("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  oci::v1::Syscall* rule = s.add_syscalls();
  rule->add_names("ptrace");
  rule->set_action("SCMP_ACT_FOO");
  OciReport report;
  EXPECT_FALSE(TranslateSeccomp(&s, &report).has_value());
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("config.json: linux.seccomp.flags[0]: "
                               "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\" is not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.seccomp.syscalls[0].action: unknown action "
                               "\"SCMP_ACT_FOO\""));
  EXPECT_THAT(report.notes(), ElementsAre(HasSubstr("config.json: linux.seccomp.flags[1]: "
                                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW is not "
                                                    "applied")));
}

}  // namespace
}  // namespace secureos::ctr
