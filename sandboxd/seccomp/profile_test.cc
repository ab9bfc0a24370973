#include "sandboxd/seccomp/profile.h"

#include <cerrno>
#include <set>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sandboxd/seccomp/builtin_profiles.h"
#include "sandboxd/seccomp/oci_import.h"
#include "sandboxd/seccomp/syscall_groups.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

v1::SeccompProfile Parse(const std::string& text) {
  v1::SeccompProfile p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

std::string ErrorOf(const v1::SeccompProfile& p) {
  absl::StatusOr<v1::SeccompProfile> r = ResolveProfile(p);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

// Every syscall some ALLOW rule of `p` lists.
std::set<std::string> Allowed(const v1::SeccompProfile& p) {
  std::set<std::string> out;
  for (const v1::SeccompRule& r : p.rules()) {
    if (r.action() == v1::SECCOMP_ACTION_ALLOW && r.args().empty()) {
      out.insert(r.syscalls().begin(), r.syscalls().end());
    }
  }
  return out;
}

TEST(ProfileTest, EveryBuiltinResolvesToNamesOnly) {
  for (const std::string& name : BuiltinProfileNames()) {
    v1::SeccompProfile in;
    in.set_base(name);
    absl::StatusOr<v1::SeccompProfile> r = ResolveProfile(in);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    EXPECT_EQ(r->base(), name);
    EXPECT_NE(r->default_action(), v1::SECCOMP_ACTION_UNSPECIFIED);
    for (const v1::SeccompRule& rule : r->rules()) {
      for (const std::string& s : rule.syscalls()) {
        int nr = 0;
        EXPECT_EQ(LookUpSyscall(s, &nr), SyscallLookup::kFound) << name << ": " << s;
      }
      if (rule.action() == v1::SECCOMP_ACTION_ERRNO) {
        EXPECT_NE(rule.errno_value(), 0u);
      }
    }
  }
}

TEST(ProfileTest, DefaultIsAnAllowlistWithoutDangerousSyscalls) {
  v1::SeccompProfile in;
  in.set_base("default");
  const v1::SeccompProfile r = *ResolveProfile(in);
  EXPECT_EQ(r.default_action(), v1::SECCOMP_ACTION_ERRNO);
  EXPECT_EQ(r.default_errno(), static_cast<uint32_t>(EPERM));
  const std::set<std::string> allowed = Allowed(r);
  EXPECT_THAT(allowed, IsSupersetOf({"read", "openat", "mmap", "execve", "socket", "futex",
                                     "setuid", "wait4", "rt_sigreturn", "getdents64"}));
  for (const char* refused :
       {"mount", "umount2", "ptrace", "kexec_load", "bpf", "init_module", "reboot", "swapon",
        "keyctl", "add_key", "clock_settime", "unshare", "setns", "pivot_root", "perf_event_open",
        "userfaultfd", "io_uring_setup", "process_vm_readv"}) {
    EXPECT_THAT(allowed, Not(Contains(refused))) << refused;
  }
}

TEST(ProfileTest, StrictHasNoNetworkingButRunsShells) {
  v1::SeccompProfile in;
  in.set_base("strict");
  const std::set<std::string> allowed = Allowed(*ResolveProfile(in));
  EXPECT_THAT(allowed, IsSupersetOf({"read", "write", "openat", "execve", "vfork", "wait4", "pipe2",
                                     "dup2", "getdents64", "exit_group"}));
  // sd_notify's datagram sending only: socket() itself only with a condition (AF_UNIX,
  // SOCK_DGRAM; compiled_filter_test checks its arguments).
  const std::set<std::string> notify = {"connect", "sendto", "sendmsg"};
  for (const std::string& s : FindSyscallGroup("@network-io")->syscalls) {
    if (notify.count(s) == 0) {
      EXPECT_THAT(allowed, Not(Contains(s)));
    }
  }
  EXPECT_THAT(allowed, IsSupersetOf(notify));
  EXPECT_THAT(allowed, Not(Contains("setuid")));
  EXPECT_THAT(allowed, Not(Contains("clone")));  // Only with a condition.
  EXPECT_THAT(allowed, Not(Contains("prctl")));
  EXPECT_THAT(allowed, Not(Contains("setsockopt")));
  v1::SeccompProfile dflt;
  dflt.set_base("default");
  EXPECT_LT(allowed.size(), Allowed(*ResolveProfile(dflt)).size() * 3 / 4);
}

TEST(ProfileTest, UnconfinedIsNoRulesAndAllow) {
  v1::SeccompProfile in;
  in.set_base("unconfined");
  const v1::SeccompProfile r = *ResolveProfile(in);
  EXPECT_EQ(r.default_action(), v1::SECCOMP_ACTION_ALLOW);
  EXPECT_TRUE(r.rules().empty());
  EXPECT_EQ(r.base(), "unconfined");
  EXPECT_EQ(ErrorOf(Parse(R"pb(base: "unconfined"
                               rules { action: SECCOMP_ACTION_ALLOW syscalls: "read" })pb")),
            "seccomp.rules: must be unset with base \"unconfined\"");
}

TEST(ProfileTest, GroupsBecomeOneRulePerGroupAfterThePlainNames) {
  const v1::SeccompProfile r = *ResolveProfile(Parse(R"pb(
    rules {
      action: SECCOMP_ACTION_ERRNO
      errno_value: 95
      syscalls: [ "@mount", "ptrace", "@swap", "ptrace" ]
      args { index: 1 op: OP_NE value: 3 }
    }
  )pb"));
  ASSERT_EQ(r.rules_size(), 3);
  EXPECT_THAT(r.rules(0).syscalls(), ElementsAre("ptrace"));
  EXPECT_THAT(r.rules(1).syscalls(),
              UnorderedElementsAreArray(FindSyscallGroup("@mount")->syscalls));
  EXPECT_THAT(r.rules(2).syscalls(), ElementsAre("swapoff", "swapon"));
  for (const v1::SeccompRule& rule : r.rules()) {
    EXPECT_EQ(rule.errno_value(), 95u);
    ASSERT_EQ(rule.args_size(), 1);
    EXPECT_EQ(rule.args(0).value(), 3u);
  }
  EXPECT_EQ(r.default_action(), v1::SECCOMP_ACTION_ERRNO);
  EXPECT_EQ(r.default_errno(), static_cast<uint32_t>(EPERM));
}

TEST(ProfileTest, UserRulesComeAfterTheBaseAndDefaultsCanBeOverridden) {
  v1::SeccompProfile in = Parse(R"pb(
    base: "strict"
    default_action: SECCOMP_ACTION_KILL_PROCESS
    rules { action: SECCOMP_ACTION_ALLOW syscalls: "socket" }
  )pb");
  const v1::SeccompProfile r = *ResolveProfile(in);
  v1::SeccompProfile strict;
  strict.set_base("strict");
  const v1::SeccompProfile s = *ResolveProfile(strict);
  ASSERT_EQ(r.rules_size(), s.rules_size() + 1);
  EXPECT_THAT(r.rules(r.rules_size() - 1).syscalls(), ElementsAre("socket"));
  EXPECT_EQ(r.default_action(), v1::SECCOMP_ACTION_KILL_PROCESS);
  EXPECT_EQ(r.default_errno(), 0u);
}

TEST(ProfileTest, ResolvingTwiceChangesNothing) {
  for (const char* text :
       {R"pb(base: "default")pb", R"pb(base: "strict"
                                       rules { action: SECCOMP_ACTION_LOG syscalls: "@mount" })pb",
        R"pb(rules {
               action: SECCOMP_ACTION_ALLOW
               syscalls: [ "read", "@timer" ]
             })pb",
        R"pb(base: "unconfined")pb"}) {
    const v1::SeccompProfile once = *ResolveProfile(Parse(text));
    const v1::SeccompProfile twice = *ResolveProfile(once);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(once, twice))
        << text << "\n"
        << once.DebugString() << "\n"
        << twice.DebugString();
  }
}

TEST(ProfileTest, ValidationErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(Parse(R"pb(base: "defualt")pb")),
            "seccomp.base: unknown profile \"defualt\" (default, strict, unconfined)");
  EXPECT_EQ(ErrorOf(Parse(R"pb(
              rules { action: SECCOMP_ACTION_ALLOW syscalls: "read" }
              rules {
                action: SECCOMP_ACTION_ALLOW
                syscalls: [ "opn", "read" ]
              })pb")),
            "seccomp.rules[1].syscalls[0]: unknown syscall \"opn\"");
  EXPECT_EQ(ErrorOf(Parse(R"pb(rules {
                                 action: SECCOMP_ACTION_ALLOW
                                 syscalls: "read"
                                 args { index: 7 op: OP_EQ value: 1 }
                               })pb")),
            "seccomp.rules[0].args[0].index: must be 0-5, got 7");
  EXPECT_EQ(ErrorOf(Parse(R"pb(rules { action: SECCOMP_ACTION_ALLOW syscalls: "chown32" })pb")),
            "seccomp.rules[0].syscalls[0]: \"chown32\" is not a syscall on x86_64");
  EXPECT_THAT(ErrorOf(Parse(R"pb(rules { action: SECCOMP_ACTION_ALLOW syscalls: "@mounts" })pb")),
              HasSubstr("seccomp.rules[0].syscalls[0]: unknown group \"@mounts\" (@aio, "));
  EXPECT_EQ(ErrorOf(Parse(R"pb(rules { syscalls: "read" })pb")),
            "seccomp.rules[0].action: required");
  EXPECT_EQ(ErrorOf(Parse(R"pb(rules { action: SECCOMP_ACTION_ALLOW })pb")),
            "seccomp.rules[0].syscalls: required");
  EXPECT_EQ(ErrorOf(Parse(
                R"pb(rules { action: SECCOMP_ACTION_ALLOW errno_value: 1 syscalls: "read" })pb")),
            "seccomp.rules[0].errno_value: only with SECCOMP_ACTION_ERRNO");
  EXPECT_EQ(ErrorOf(Parse(R"pb(default_errno: 5000)pb")),
            "seccomp.default_errno: must be 1-4095, got 5000");
  EXPECT_EQ(ErrorOf(Parse(R"pb(rules {
                                 action: SECCOMP_ACTION_ALLOW
                                 syscalls: "read"
                                 args { index: 0 op: OP_EQ value: 1 value_two: 2 }
                                 args { index: 1 value: 1 }
                               })pb")),
            "seccomp.rules[0].args[0].value_two: only with OP_MASKED_EQ; "
            "seccomp.rules[0].args[1].op: required");
}

TEST(ProfileTest, EveryProblemIsReportedTogetherUnderTheGivenPath) {
  absl::StatusOr<v1::SeccompProfile> r =
      ResolveProfile(Parse(R"pb(
                       base: "nope"
                       rules { action: SECCOMP_ACTION_ALLOW syscalls: "opn" })pb"),
                     "spec.seccomp");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("spec.seccomp.base: unknown profile \"nope\""));
  EXPECT_THAT(r.status().message(),
              HasSubstr("spec.seccomp.rules[0].syscalls[0]: unknown syscall"));
}

constexpr char kDockerLike[] = R"json({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
  "syscalls": [
    {"names": ["read", "write", "openat", "close", "no_such_call", "socketcall"],
     "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.1"}},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
              {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
    {"name": "kexec_load", "action": "SCMP_ACT_KILL"},
    {"names": ["acct"], "action": "SCMP_ACT_TRACE"},
    {"names": ["getppid"], "action": "SCMP_ACT_LOG"}
  ]
})json";

TEST(OciImportTest, ConvertsADockerLikeProfile) {
  absl::StatusOr<v1::SeccompProfile> r = ImportOciProfile(kDockerLike, "6.1.0-18-amd64");
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::SeccompProfile expected = Parse(R"pb(
    default_action: SECCOMP_ACTION_ERRNO
    default_errno: 1
    rules {
      action: SECCOMP_ACTION_ALLOW
      syscalls: [ "read", "write", "openat", "close" ]
    }
    rules {
      action: SECCOMP_ACTION_ALLOW
      syscalls: "clone"
      args { index: 0 op: OP_MASKED_EQ value: 2114060288 }
    }
    rules { action: SECCOMP_ACTION_ALLOW syscalls: "arch_prctl" }
    rules { action: SECCOMP_ACTION_ALLOW syscalls: "ptrace" }
    rules {
      action: SECCOMP_ACTION_ALLOW
      syscalls: "personality"
      args { index: 0 op: OP_EQ value: 0 }
    }
    rules {
      action: SECCOMP_ACTION_ALLOW
      syscalls: "personality"
      args { index: 0 op: OP_EQ value: 8 }
    }
    rules { action: SECCOMP_ACTION_ERRNO errno_value: 38 syscalls: "clone3" }
    rules { action: SECCOMP_ACTION_KILL_PROCESS syscalls: "kexec_load" }
    rules { action: SECCOMP_ACTION_ERRNO errno_value: 38 syscalls: "acct" }
    rules { action: SECCOMP_ACTION_LOG syscalls: "getppid" }
  )pb");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*r, expected)) << r->DebugString();
}

TEST(OciImportTest, AnOldKernelDropsMinKernelRules) {
  const v1::SeccompProfile r = *ImportOciProfile(kDockerLike, "4.4.0");
  for (const v1::SeccompRule& rule : r.rules())
    EXPECT_THAT(rule.syscalls(), Not(Contains("ptrace")));
}

TEST(OciImportTest, ResolveProfileTakesOciJson) {
  v1::SeccompProfile in;
  in.set_oci_json(kDockerLike);
  absl::StatusOr<v1::SeccompProfile> r = ResolveProfile(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->oci_json().empty());
  EXPECT_EQ(r->base(), "");
  EXPECT_EQ(r->rules_size(), 10);
  in.set_base("default");
  EXPECT_EQ(
      ErrorOf(in),
      "seccomp.oci_json: cannot be combined with base, default_action, default_errno or rules");
}

TEST(OciImportTest, ErrorsNameThePathInsideTheJson) {
  auto error = [](const std::string& json) {
    v1::SeccompProfile in;
    in.set_oci_json(json);
    return ErrorOf(in);
  };
  EXPECT_EQ(error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                      {"names": ["write"], "action": "SCMP_ACT_FOO"}]})"),
            "seccomp.oci_json: syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                      {"names": ["read"], "action": "SCMP_ACT_ALLOW",
                       "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"},
                                {"index": 1, "value": 1, "op": "SCMP_CMP_SAME"}]}]})"),
            "seccomp.oci_json: syscalls[0].args[0].index: must be 0-5, got 9; "
            "seccomp.oci_json: syscalls[0].args[1].op: unknown operator \"SCMP_CMP_SAME\"");
  EXPECT_EQ(error(R"({"syscalls": []})"), "seccomp.oci_json: defaultAction: required");
  EXPECT_EQ(error(R"({"defaultAction": "SCMP_ACT_NOTIFY"})"),
            "seccomp.oci_json: defaultAction: SCMP_ACT_NOTIFY is not supported (sandboxd is the "
            "supervisor)");
  EXPECT_EQ(error(R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 5})"),
            "seccomp.oci_json: defaultErrnoRet: only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "
            "SCMP_ACT_ALLOW");
  EXPECT_THAT(error(R"({"defaultAction": "SCMP_ACT_ERRNO", "sycalls": []})"),
              HasSubstr("seccomp.oci_json: "));
  EXPECT_THAT(error("{not json"), HasSubstr("seccomp.oci_json: "));
}

TEST(LearnedProfileTest, ListsTheNamesUsedPlusTheLaunchersNeeds) {
  const v1::SeccompProfile p = LearnedProfile({0, 1, 257, 1023});
  EXPECT_EQ(p.default_action(), v1::SECCOMP_ACTION_ERRNO);
  EXPECT_EQ(p.default_errno(), static_cast<uint32_t>(EPERM));
  ASSERT_EQ(p.rules_size(), 1);
  EXPECT_EQ(p.rules(0).action(), v1::SECCOMP_ACTION_ALLOW);
  EXPECT_THAT(p.rules(0).syscalls(), ElementsAre("execve", "exit", "exit_group", "openat", "read",
                                                 "rt_sigreturn", "write"));
  absl::StatusOr<v1::SeccompProfile> r = ResolveProfile(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*r, p)) << r->DebugString();
}

}  // namespace
}  // namespace secureos::sandboxd
