#include "sandboxd/seccomp/profile.h"

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/field_errors.h"
#include "common/status.h"
#include "google/protobuf/util/message_differencer.h"
#include "sandboxd/seccomp/builtin_profiles.h"
#include "sandboxd/seccomp/oci_import.h"
#include "sandboxd/seccomp/syscall_groups.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

constexpr uint32_t kMaxErrno = 4095;

using RuleList = std::vector<v1::SeccompRule>;

void ValidateArgs(const v1::SeccompRule& rule, const std::string& field, FieldErrors* errors) {
  for (int j = 0; j < rule.args_size(); ++j) {
    const v1::ArgFilter& arg = rule.args(j);
    const std::string f = absl::StrCat(field, ".args[", j, "]");
    if (arg.index() > 5) {
      errors->Add(f + ".index", absl::StrCat("must be 0-5, got ", arg.index()));
    }
    if (arg.op() == v1::ArgFilter::OP_UNSPECIFIED) {
      errors->Add(f + ".op", "required");
    } else if (!v1::ArgFilter::Op_IsValid(arg.op())) {
      errors->Add(f + ".op", absl::StrCat("unknown operator ", arg.op()));
    }
    if (arg.value_two() != 0 && arg.op() != v1::ArgFilter::OP_MASKED_EQ) {
      errors->Add(f + ".value_two", "only with OP_MASKED_EQ");
    }
  }
}

// Checks an action and its errno; returns the errno to store (EPERM for an unset ERRNO one).
uint32_t ValidateAction(v1::SeccompAction action, uint32_t errno_value,
                        const std::string& action_field, const std::string& errno_field,
                        FieldErrors* errors) {
  if (action == v1::SECCOMP_ACTION_UNSPECIFIED) {
    errors->Add(action_field, "required");
  } else if (!v1::SeccompAction_IsValid(action)) {
    errors->Add(action_field, absl::StrCat("unknown action ", action));
  }
  if (errno_value > kMaxErrno) {
    errors->Add(errno_field, absl::StrCat("must be 1-", kMaxErrno, ", got ", errno_value));
  }
  if (action != v1::SECCOMP_ACTION_ERRNO) {
    if (errno_value != 0) errors->Add(errno_field, "only with SECCOMP_ACTION_ERRNO");
    return 0;
  }
  return errno_value == 0 ? EPERM : errno_value;
}

// Checks one syscall entry of a rule; groups come back through `group`.
void ValidateSyscallEntry(const std::string& entry, const std::string& field, FieldErrors* errors,
                          const SyscallGroup** group) {
  *group = nullptr;
  if (!entry.empty() && entry[0] == '@') {
    *group = FindSyscallGroup(entry);
    if (*group == nullptr) {
      errors->Add(field, absl::StrCat("unknown group \"", entry, "\" (", SyscallGroupNames(), ")"));
    }
    return;
  }
  int nr = 0;
  switch (LookUpSyscall(entry, &nr)) {
    case SyscallLookup::kFound:
      return;
    case SyscallLookup::kOtherArch:
      errors->Add(field, absl::StrCat("\"", entry, "\" is not a syscall on x86_64"));
      return;
    case SyscallLookup::kUnknown:
      errors->Add(field, absl::StrCat("unknown syscall \"", entry, "\""));
      return;
  }
}

// Validates rule `rule` and appends its explicit form to `out`: its plain names as one rule,
// then one rule per group it names.
void ExpandRule(const v1::SeccompRule& rule, const std::string& field, FieldErrors* errors,
                RuleList* out) {
  v1::SeccompRule empty = rule;
  empty.clear_syscalls();
  empty.set_errno_value(ValidateAction(rule.action(), rule.errno_value(), field + ".action",
                                       field + ".errno_value", errors));
  ValidateArgs(rule, field, errors);
  if (rule.quiet() && (rule.action() != v1::SECCOMP_ACTION_ERRNO || !rule.args().empty())) {
    errors->Add(field + ".quiet", "only for SECCOMP_ACTION_ERRNO rules without args");
  }
  v1::SeccompRule plain = empty;
  if (rule.syscalls().empty()) errors->Add(field + ".syscalls", "required");
  RuleList groups;
  for (int k = 0; k < rule.syscalls_size(); ++k) {
    const std::string& entry = rule.syscalls(k);
    const SyscallGroup* group = nullptr;
    ValidateSyscallEntry(entry, absl::StrCat(field, ".syscalls[", k, "]"), errors, &group);
    if (group != nullptr) {
      v1::SeccompRule g = empty;
      for (const std::string& name : group->syscalls) g.add_syscalls(name);
      groups.push_back(std::move(g));
    } else if (std::find(plain.syscalls().begin(), plain.syscalls().end(), entry) ==
               plain.syscalls().end()) {
      plain.add_syscalls(entry);
    }
  }
  if (!plain.syscalls().empty()) out->push_back(std::move(plain));
  out->insert(out->end(), groups.begin(), groups.end());
}

RuleList ExpandRules(const v1::SeccompProfile& profile, const std::string& field,
                     FieldErrors* errors) {
  RuleList out;
  for (int i = 0; i < profile.rules_size(); ++i) {
    ExpandRule(profile.rules(i), absl::StrCat(field, ".rules[", i, "]"), errors, &out);
  }
  return out;
}

bool StartsWith(const RuleList& rules, const RuleList& prefix) {
  if (prefix.size() > rules.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(rules[i], prefix[i])) return false;
  }
  return true;
}

std::string BaseError(const std::string& base) {
  return absl::StrCat("unknown profile \"", base, "\" (",
                      absl::StrJoin(BuiltinProfileNames(), ", "), ")");
}

absl::StatusOr<v1::SeccompProfile> ResolveUnconfined(const v1::SeccompProfile& in,
                                                     const std::string& field) {
  FieldErrors errors;
  const std::string why = "must be unset with base \"unconfined\"";
  if (!in.rules().empty()) errors.Add(field + ".rules", why);
  if (in.default_action() != v1::SECCOMP_ACTION_UNSPECIFIED &&
      in.default_action() != v1::SECCOMP_ACTION_ALLOW) {
    errors.Add(field + ".default_action", why);
  }
  if (in.default_errno() != 0) errors.Add(field + ".default_errno", why);
  if (!errors.empty()) return errors.ToStatus();
  v1::SeccompProfile out;
  out.set_base(kUnconfinedProfile);
  out.set_default_action(v1::SECCOMP_ACTION_ALLOW);
  return out;
}

absl::StatusOr<v1::SeccompProfile> ResolveExplicit(const v1::SeccompProfile& in,
                                                   const std::string& field);

absl::StatusOr<v1::SeccompProfile> ResolveOci(const v1::SeccompProfile& in,
                                              const std::string& field) {
  if (!in.base().empty() || !in.rules().empty() ||
      in.default_action() != v1::SECCOMP_ACTION_UNSPECIFIED || in.default_errno() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".oci_json: cannot be combined with base, default_action, default_errno or rules"));
  }
  SECUREOS_ASSIGN_OR_RETURN(
      v1::SeccompProfile imported,
      ImportOciProfile(in.oci_json(), RunningKernelRelease(), field + ".oci_json"));
  return ResolveExplicit(imported, field + ".oci_json");
}

absl::StatusOr<v1::SeccompProfile> ResolveExplicit(const v1::SeccompProfile& in,
                                                   const std::string& field) {
  FieldErrors errors;
  v1::SeccompProfile base;
  if (!in.base().empty()) {
    absl::StatusOr<v1::SeccompProfile> builtin = BuiltinProfile(in.base());
    if (builtin.ok()) {
      base = *std::move(builtin);
    } else {
      errors.Add(field + ".base", BaseError(in.base()));
    }
  }
  v1::SeccompProfile out;
  out.set_base(in.base());
  const bool own_default = in.default_action() != v1::SECCOMP_ACTION_UNSPECIFIED;
  v1::SeccompAction action = own_default ? in.default_action() : base.default_action();
  if (action == v1::SECCOMP_ACTION_UNSPECIFIED) action = v1::SECCOMP_ACTION_ERRNO;
  const uint32_t errno_value =
      in.default_errno() != 0 || own_default ? in.default_errno() : base.default_errno();
  out.set_default_action(action);
  out.set_default_errno(ValidateAction(action, errno_value, field + ".default_action",
                                       field + ".default_errno", &errors));
  const RuleList base_rules = ExpandRules(base, "built-in profile " + in.base(), &errors);
  const RuleList rules = ExpandRules(in, field, &errors);
  if (!errors.empty()) return errors.ToStatus();
  // A resolved profile already starts with its base's rules: resolving again adds nothing.
  if (!StartsWith(rules, base_rules)) {
    for (const v1::SeccompRule& r : base_rules) *out.add_rules() = r;
  }
  for (const v1::SeccompRule& r : rules) *out.add_rules() = r;
  return out;
}

}  // namespace

absl::StatusOr<v1::SeccompProfile> ResolveProfile(const v1::SeccompProfile& profile,
                                                  absl::string_view field) {
  const std::string f(field);
  if (!profile.oci_json().empty()) return ResolveOci(profile, f);
  if (profile.base() == kUnconfinedProfile) return ResolveUnconfined(profile, f);
  return ResolveExplicit(profile, f);
}

const std::vector<std::string>& AlwaysAllowedSyscalls() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"execve", "exit", "exit_group", "rt_sigreturn"};
  return *names;
}

v1::SeccompProfile LearnedProfile(const std::set<int>& used_numbers) {
  std::set<std::string> names(AlwaysAllowedSyscalls().begin(), AlwaysAllowedSyscalls().end());
  for (int nr : used_numbers) {
    std::string name = SyscallNameOrEmpty(nr);
    if (!name.empty()) names.insert(std::move(name));
  }
  v1::SeccompProfile profile;
  profile.set_default_action(v1::SECCOMP_ACTION_ERRNO);
  profile.set_default_errno(EPERM);
  v1::SeccompRule* rule = profile.add_rules();
  rule->set_action(v1::SECCOMP_ACTION_ALLOW);
  for (const std::string& name : names) rule->add_syscalls(name);
  return profile;
}

}  // namespace secureos::sandboxd
