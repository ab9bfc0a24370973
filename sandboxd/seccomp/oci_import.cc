#include "sandboxd/seccomp/oci_import.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/field_errors.h"
#include "google/protobuf/util/json_util.h"
#include "sandboxd/seccomp/oci_profile.pb.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

using seccomp_internal::OciArg;
using seccomp_internal::OciFilter;
using seccomp_internal::OciSeccompProfile;
using seccomp_internal::OciSyscall;

constexpr uint32_t kMaxErrno = 4095;

// Sets action (and errno) of `rule` from a libseccomp action name; false when unknown.
bool MapAction(const std::string& name, bool has_errno, uint32_t errno_ret,
               const std::string& action_field, const std::string& errno_field, FieldErrors* errors,
               v1::SeccompRule* rule) {
  if (has_errno && name != "SCMP_ACT_ERRNO" && name != "SCMP_ACT_TRACE") {
    errors->Add(errno_field, absl::StrCat("only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ",
                                          name.empty() ? "no action" : name));
  }
  if (has_errno && (errno_ret == 0 || errno_ret > kMaxErrno)) {
    errors->Add(errno_field, absl::StrCat("must be 1-", kMaxErrno, ", got ", errno_ret));
  }
  if (name == "SCMP_ACT_ALLOW") {
    rule->set_action(v1::SECCOMP_ACTION_ALLOW);
  } else if (name == "SCMP_ACT_ERRNO") {
    rule->set_action(v1::SECCOMP_ACTION_ERRNO);
    rule->set_errno_value(has_errno ? errno_ret : EPERM);
  } else if (name == "SCMP_ACT_TRACE") {
    // Without a tracer the kernel fails a TRACE'd syscall with ENOSYS.
    rule->set_action(v1::SECCOMP_ACTION_ERRNO);
    rule->set_errno_value(ENOSYS);
  } else if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD" ||
             name == "SCMP_ACT_KILL_PROCESS" || name == "SCMP_ACT_TRAP") {
    rule->set_action(v1::SECCOMP_ACTION_KILL_PROCESS);
  } else if (name == "SCMP_ACT_LOG") {
    rule->set_action(v1::SECCOMP_ACTION_LOG);
  } else if (name == "SCMP_ACT_NOTIFY") {
    errors->Add(action_field, "SCMP_ACT_NOTIFY is not supported (sandboxd is the supervisor)");
    return false;
  } else {
    errors->Add(action_field, name.empty() ? std::string("required")
                                           : absl::StrCat("unknown action \"", name, "\""));
    return false;
  }
  return true;
}

v1::ArgFilter::Op MapOp(const std::string& op) {
  if (op == "SCMP_CMP_EQ") return v1::ArgFilter::OP_EQ;
  if (op == "SCMP_CMP_NE") return v1::ArgFilter::OP_NE;
  if (op == "SCMP_CMP_LT") return v1::ArgFilter::OP_LT;
  if (op == "SCMP_CMP_LE") return v1::ArgFilter::OP_LE;
  if (op == "SCMP_CMP_GT") return v1::ArgFilter::OP_GT;
  if (op == "SCMP_CMP_GE") return v1::ArgFilter::OP_GE;
  if (op == "SCMP_CMP_MASKED_EQ") return v1::ArgFilter::OP_MASKED_EQ;
  return v1::ArgFilter::OP_UNSPECIFIED;
}

// "6.1.0-18-amd64" -> {6, 1}; false when it does not start with two numbers.
bool ParseKernelVersion(absl::string_view text, int* major, int* minor) {
  return std::sscanf(std::string(text).c_str(), "%d.%d", major, minor) == 2;
}

bool KernelAtLeast(absl::string_view release, absl::string_view min) {
  int major = 0, minor = 0, min_major = 0, min_minor = 0;
  ParseKernelVersion(min, &min_major, &min_minor);
  if (!ParseKernelVersion(release, &major, &minor)) return false;
  return major > min_major || (major == min_major && minor >= min_minor);
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              absl::string_view value) {
  for (const std::string& s : list) {
    if (s == value) return true;
  }
  return false;
}

// Whether a Docker entry applies to an amd64 workload that holds no capabilities.
bool EntryApplies(const OciSyscall& entry, absl::string_view kernel_release,
                  absl::string_view field, FieldErrors* errors) {
  const OciFilter& inc = entry.includes();
  const OciFilter& exc = entry.excludes();
  int major = 0, minor = 0;
  if (!inc.min_kernel().empty() && !ParseKernelVersion(inc.min_kernel(), &major, &minor)) {
    errors->Add(absl::StrCat(field, ".includes.minKernel"),
                absl::StrCat("\"", inc.min_kernel(), "\" is not a kernel version"));
    return false;
  }
  if (!inc.arches().empty() && !Contains(inc.arches(), "amd64")) return false;
  if (Contains(exc.arches(), "amd64")) return false;
  if (!inc.caps().empty()) return false;
  return inc.min_kernel().empty() || KernelAtLeast(kernel_release, inc.min_kernel());
}

// Converts args; false (after adding errors) when one is invalid.
bool ConvertArgs(const OciSyscall& entry, absl::string_view field, FieldErrors* errors,
                 std::vector<v1::ArgFilter>* out) {
  bool ok = true;
  for (int j = 0; j < entry.args_size(); ++j) {
    const OciArg& arg = entry.args(j);
    const std::string arg_field = absl::StrCat(field, ".args[", j, "]");
    v1::ArgFilter filter;
    if (arg.index() > 5) {
      errors->Add(absl::StrCat(arg_field, ".index"),
                  absl::StrCat("must be 0-5, got ", arg.index()));
      ok = false;
    }
    filter.set_index(arg.index());
    filter.set_op(MapOp(arg.op()));
    if (filter.op() == v1::ArgFilter::OP_UNSPECIFIED) {
      errors->Add(absl::StrCat(arg_field, ".op"),
                  arg.op().empty() ? std::string("required")
                                   : absl::StrCat("unknown operator \"", arg.op(), "\""));
      ok = false;
    }
    filter.set_value(arg.value());
    if (filter.op() == v1::ArgFilter::OP_MASKED_EQ) filter.set_value_two(arg.value_two());
    out->push_back(filter);
  }
  return ok;
}

// Appends the v1 rules of one Docker entry.
void ConvertEntry(const OciSyscall& entry, absl::string_view kernel_release,
                  absl::string_view field, FieldErrors* errors, v1::SeccompProfile* out) {
  if (entry.names().empty() && entry.name().empty()) {
    errors->Add(absl::StrCat(field, ".names"), "required");
    return;
  }
  v1::SeccompRule rule;
  const bool action_ok =
      MapAction(entry.action(), entry.has_errno_ret(), entry.errno_ret(),
                absl::StrCat(field, ".action"), absl::StrCat(field, ".errnoRet"), errors, &rule);
  std::vector<v1::ArgFilter> args;
  const bool args_ok = ConvertArgs(entry, field, errors, &args);
  if (!action_ok || !args_ok || !EntryApplies(entry, kernel_release, field, errors)) return;
  std::vector<std::string> names(entry.names().begin(), entry.names().end());
  if (!entry.name().empty()) names.push_back(entry.name());
  for (const std::string& name : names) {
    int nr = 0;
    if (LookUpSyscall(name, &nr) == SyscallLookup::kFound) rule.add_syscalls(name);
  }
  if (rule.syscalls().empty()) return;
  std::set<uint32_t> indexes;
  for (const v1::ArgFilter& a : args) indexes.insert(a.index());
  if (indexes.size() == args.size()) {
    for (const v1::ArgFilter& a : args) *rule.add_args() = a;
    *out->add_rules() = rule;
    return;
  }
  for (const v1::ArgFilter& a : args) {
    v1::SeccompRule* one = out->add_rules();
    *one = rule;
    *one->add_args() = a;
  }
}

}  // namespace

std::string RunningKernelRelease() {
  utsname u{};
  if (::uname(&u) != 0) return "";
  return u.release;
}

absl::StatusOr<v1::SeccompProfile> ImportOciProfile(absl::string_view json,
                                                    absl::string_view kernel_release,
                                                    absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ": ");
  OciSeccompProfile oci;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &oci, options);
  if (!parsed.ok()) return absl::InvalidArgumentError(prefix + parsed.message().ToString());

  FieldErrors errors;
  v1::SeccompProfile profile;
  v1::SeccompRule default_rule;
  if (MapAction(oci.default_action(), oci.has_default_errno_ret(), oci.default_errno_ret(),
                "defaultAction", "defaultErrnoRet", &errors, &default_rule)) {
    profile.set_default_action(default_rule.action());
    profile.set_default_errno(default_rule.errno_value());
  }
  for (int i = 0; i < oci.syscalls_size(); ++i) {
    ConvertEntry(oci.syscalls(i), kernel_release, absl::StrCat("syscalls[", i, "]"), &errors,
                 &profile);
  }
  if (!errors.empty()) {
    FieldErrors prefixed;
    for (const FieldErrors::Error& e : errors.errors()) prefixed.Add(prefix + e.field, e.message);
    return prefixed.ToStatus();
  }
  return profile;
}

}  // namespace secureos::sandboxd
