#include "containerd-lite/oci_process.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "common/absolute_path.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/cap_set.h"
#include "common/field_errors.h"
#include "common/process_spec.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// runc's PATH for a process whose environment has none.
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr uint64_t kRlimInfinity = ~uint64_t{0};

// ---- args, env, cwd.

// process.cwd, normalized and checked against the view; nullopt when it cannot be used.
std::optional<std::string> Cwd(const oci::v1::Process& p, const RootfsView& view,
                               OciReport* report) {
  std::optional<std::string> cwd = NormalizeAbsolutePath(p.cwd(), "process.cwd", report->errors());
  if (!cwd) return std::nullopt;
  const Lookup found = view.Find(*cwd);
  if (found.state == Lookup::State::kError) {
    report->Error("process.cwd", found.error);
  } else if (found.state == Lookup::State::kMissing) {
    report->Error("process.cwd", absl::StrCat(Quote(*cwd),
                                              " does not exist in the container (sandboxd "
                                              "does not create it)"));
  } else if (!found.dir) {
    report->Error("process.cwd", absl::StrCat(Quote(*cwd), " is not a directory"));
  }
  return cwd;
}

// args[0] with a "/" but relative: relative to cwd.
void ResolveRelativeProgram(const std::string& program, const std::string& cwd,
                            sbx::SandboxSpec* spec, OciReport* report) {
  FieldErrors ignored;
  std::optional<std::string> abs =
      NormalizeAbsolutePath(absl::StrCat(cwd, "/", program), "process.args[0]", &ignored);
  if (!abs) return;  // CheckArgvEnv reports it.
  spec->set_argv(0, *abs);
  report->Note("process.args[0]",
               absl::StrCat(Quote(program), " runs as ", Quote(*abs),
                            " (relative to process.cwd; sandboxd execs absolute paths, so the "
                            "program sees that as argv[0])"));
}

// args[0] without a "/": looked up in the PATH of `env` inside the view.
void SearchPath(const std::string& program, const google::protobuf::RepeatedPtrField<std::string>& env,
                const RootfsView& view, sbx::SandboxSpec* spec, OciReport* report) {
  std::string path = kDefaultPath;
  bool has_path = false;
  for (const std::string& e : env) {
    if (absl::StartsWith(e, "PATH=")) {
      path = e.substr(5);
      has_path = true;
    }
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    FieldErrors ignored;
    std::optional<std::string> candidate =
        NormalizeAbsolutePath(absl::StrCat(dir, "/", program), "", &ignored);
    if (!candidate) continue;
    const Lookup found = view.Find(*candidate);
    if (found.state == Lookup::State::kFound && found.executable_file) {
      spec->set_argv(0, *candidate);
      report->Note("process.args[0]",
                   absl::StrCat(Quote(program), " runs as ", Quote(*candidate),
                                " (found in PATH; sandboxd execs absolute paths, so the program "
                                "sees that as argv[0])"));
      return;
    }
  }
  report->Error("process.args[0]",
                absl::StrCat(Quote(program), " is not an executable file in any directory of ",
                             has_path ? "the PATH of process.env" : "the default PATH", " (",
                             path, ") inside the container"));
}

// CheckArgvEnv's errors, named as config.json names argv and env.
void CheckArgsEnv(const sbx::SandboxSpec& spec, OciReport* report) {
  FieldErrors argv_env;
  CheckArgvEnv(spec.argv(), spec.env(), &argv_env);
  for (const FieldErrors::Error& e : argv_env.errors()) {
    std::string f = e.field;
    if (absl::StartsWith(f, "argv")) f = "process.args" + f.substr(4);
    if (absl::StartsWith(f, "env")) f = "process.env" + f.substr(3);
    report->Error(f, e.message);
  }
}

// ---- capabilities.

// process.capabilities.<name>, whose entries are `list`; entries that are not one
// capability name are errors and left out.
CapSet CapabilitySet(const char* name, const google::protobuf::RepeatedPtrField<std::string>& list,
                     OciReport* report) {
  CapSet set;
  for (int i = 0; i < list.size(); ++i) {
    const std::string& text = list.Get(i);
    absl::StatusOr<CapSet> cap = CapSet::Parse(text);
    if (!cap.ok() || text.empty() || text.find_first_of(",=+- ") != std::string::npos) {
      report->Error(Field(absl::StrCat("process.capabilities.", name), i),
                    absl::StrCat(Quote(text), " is not a capability name"));
      continue;
    }
    set = set.Union(*cap);
  }
  return set;
}

// ---- rlimits.

const std::map<std::string, common::v1::RlimitResource>& RlimitTypes() {
  static const auto* kTypes = new std::map<std::string, common::v1::RlimitResource>{
      {"RLIMIT_AS", common::v1::RLIMIT_RESOURCE_AS},
      {"RLIMIT_CPU", common::v1::RLIMIT_RESOURCE_CPU},
      {"RLIMIT_FSIZE", common::v1::RLIMIT_RESOURCE_FSIZE},
      {"RLIMIT_NOFILE", common::v1::RLIMIT_RESOURCE_NOFILE},
      {"RLIMIT_NPROC", common::v1::RLIMIT_RESOURCE_NPROC},
      {"RLIMIT_STACK", common::v1::RLIMIT_RESOURCE_STACK},
      {"RLIMIT_CORE", common::v1::RLIMIT_RESOURCE_CORE},
  };
  return *kTypes;
}

bool IsOtherLinuxRlimit(const std::string& type) {
  static const auto* kOthers = new std::set<std::string>{
      "RLIMIT_DATA",     "RLIMIT_RSS",  "RLIMIT_MEMLOCK", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO",  "RLIMIT_RTTIME"};
  return kOthers->count(type) > 0;
}

// Why process.rlimits[i].type is refused: not one sandboxd sets.
std::string RlimitTypeProblem(const std::string& type) {
  if (type.empty()) return "required";
  if (IsOtherLinuxRlimit(type)) {
    return absl::StrCat(Quote(type),
                        " is not supported by sandboxd (RLIMIT_AS, CPU, FSIZE, NOFILE, NPROC, "
                        "STACK, CORE)");
  }
  return absl::StrCat("unknown rlimit type ", Quote(type));
}

// The limits of `r` (named `field`) as sandboxd's; nullopt after an error.
std::optional<common::v1::Rlimit> RlimitValues(const oci::v1::Rlimit& r,
                                               common::v1::RlimitResource resource,
                                               const std::string& field, OciReport* report) {
  if (!r.has_hard() || !r.has_soft()) {
    if (!r.has_hard()) report->Error(field + ".hard", "required");
    if (!r.has_soft()) report->Error(field + ".soft", "required");
    return std::nullopt;
  }
  common::v1::Rlimit out;
  out.set_resource(resource);
  if (r.hard() == kRlimInfinity && r.soft() == kRlimInfinity) {
    out.set_infinity(true);
    return out;
  }
  if (r.hard() == kRlimInfinity) {
    report->Error(field, absl::StrCat("a finite soft limit (", r.soft(),
                                      ") under an infinite hard limit cannot be expressed in "
                                      "sandboxd (both infinite or both finite)"));
    return std::nullopt;
  }
  out.set_hard(r.hard());
  out.set_soft(r.soft());
  if (!CheckRlimit(out, field, report->errors())) return std::nullopt;
  return out;
}

}  // namespace

void TranslateProcess(const oci::v1::Process& process, const RootfsView& view,
                      sbx::SandboxSpec* spec, OciReport* report) {
  if (process.terminal()) {
    report->Note("process.terminal",
                 "true: containerd-lite gives no terminal; stdin is /dev/null, stdout and "
                 "stderr go to files or to the Run stream");
  }
  std::optional<std::string> cwd = Cwd(process, view, report);
  if (cwd) spec->mutable_filesystem()->set_cwd(*cwd);
  for (const std::string& a : process.args()) spec->add_argv(a);
  const std::string program = process.args().empty() ? "" : process.args(0);
  if (cwd && !program.empty() && program[0] != '/') {
    if (program.find('/') != std::string::npos) {
      ResolveRelativeProgram(program, *cwd, spec, report);
    } else {
      SearchPath(program, process.env(), view, spec, report);
    }
  }
  for (const std::string& e : process.env()) spec->add_env(e);
  CheckArgsEnv(*spec, report);
}

std::string TranslateCapabilities(const oci::v1::Capabilities& c, OciReport* report) {
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> sets[] = {
      {"bounding", &c.bounding()},       {"effective", &c.effective()},
      {"inheritable", &c.inheritable()}, {"permitted", &c.permitted()},
      {"ambient", &c.ambient()},
  };
  CapSet all;
  std::vector<CapSet> each;
  for (const auto& [name, list] : sets) {
    each.push_back(CapabilitySet(name, *list, report));
    all = all.Union(each.back());
  }
  if (!all.empty() &&
      std::any_of(each.begin(), each.end(), [&](const CapSet& s) { return s != all; })) {
    report->Note("process.capabilities",
                 absl::StrCat("sandboxd holds one set: the union (", all.ToString(),
                              ") in the bounding, permitted, effective, inheritable and ambient "
                              "sets inside the user namespace; capd must authorize it"));
  }
  return all.ToString();
}

void TranslateRlimits(const google::protobuf::RepeatedPtrField<oci::v1::Rlimit>& rlimits,
                      common::v1::ResourceLimits* limits, OciReport* report) {
  std::set<std::string> seen;
  for (int i = 0; i < rlimits.size(); ++i) {
    const oci::v1::Rlimit& r = rlimits[i];
    const std::string field = Field("process.rlimits", i);
    auto it = RlimitTypes().find(r.type());
    if (it == RlimitTypes().end()) {
      report->Error(field + ".type", RlimitTypeProblem(r.type()));
      continue;
    }
    if (!seen.insert(r.type()).second) {
      report->Error(field + ".type", absl::StrCat(Quote(r.type()), " is listed twice"));
      continue;
    }
    std::optional<common::v1::Rlimit> out = RlimitValues(r, it->second, field, report);
    if (out) *limits->add_rlimits() = *std::move(out);
  }
}

}  // namespace secureos::ctr
