#include "sandboxd/seccomp/compiled_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fd.h"
#include "common/status.h"
#include "sandboxd/seccomp/builtin_profiles.h"
#include "sandboxd/seccomp/profile.h"
#include "sandboxd/seccomp/syscall_groups.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

using Decision = CompiledFilter::Decision;

// Beyond this many libseccomp rules for one syscall the kernel program gives up on
// precision for it (and notifies every call: Decide() still answers exactly).
constexpr size_t kMaxTermsPerSyscall = 64;

struct ScmpCtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpCtx = std::unique_ptr<void, ScmpCtxDeleter>;

Decision::Kind KindOf(v1::SeccompAction action) {
  switch (action) {
    case v1::SECCOMP_ACTION_ERRNO:
      return Decision::kErrno;
    case v1::SECCOMP_ACTION_KILL_PROCESS:
      return Decision::kKill;
    case v1::SECCOMP_ACTION_LOG:
      return Decision::kLog;
    default:
      return Decision::kAllow;
  }
}

// "rule 3 (@mount)" when the rule's syscalls are exactly a group, else its names.
std::string RuleLabel(int index, const v1::SeccompRule& rule) {
  std::vector<std::string> names(rule.syscalls().begin(), rule.syscalls().end());
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (const SyscallGroup& g : SyscallGroups()) {
    if (g.syscalls == sorted) return absl::StrCat("rule ", index, " (", g.name, ")");
  }
  if (names.size() <= 3) return absl::StrCat("rule ", index, " (", absl::StrJoin(names, ", "), ")");
  return absl::StrCat("rule ", index, " (", names[0], ", ", names[1], ", +", names.size() - 2,
                      " more)");
}

std::vector<int> Numbers(const std::vector<std::string>& names) {
  std::vector<int> out;
  for (const std::string& name : names) {
    int nr = 0;
    if (LookUpSyscall(name, &nr) == SyscallLookup::kFound) out.push_back(nr);
  }
  return out;
}

scmp_arg_cmp ToScmp(const ArgLiteral& l) {
  scmp_compare op = SCMP_CMP_EQ;
  switch (l.op) {
    case v1::ArgFilter::OP_NE:
      op = SCMP_CMP_NE;
      break;
    case v1::ArgFilter::OP_LT:
      op = SCMP_CMP_LT;
      break;
    case v1::ArgFilter::OP_LE:
      op = SCMP_CMP_LE;
      break;
    case v1::ArgFilter::OP_GT:
      op = SCMP_CMP_GT;
      break;
    case v1::ArgFilter::OP_GE:
      op = SCMP_CMP_GE;
      break;
    case v1::ArgFilter::OP_MASKED_EQ:
      op = SCMP_CMP_MASKED_EQ;
      break;
    default:
      break;
  }
  if (op == SCMP_CMP_MASKED_EQ) return scmp_arg_cmp{l.index, op, l.value, l.value_two};
  return scmp_arg_cmp{l.index, op, l.value, 0};
}

// libseccomp takes one comparison per argument and rule. A conjunction that still compares
// one argument twice is made narrower (dropped: nullopt) when it allows, and wider (only
// the first comparison kept) when it notifies, so that the kernel never allows more than
// the profile.
std::optional<Conjunction> ForLibseccomp(const Conjunction& c, bool narrow) {
  Conjunction out;
  for (const ArgLiteral& l : c) {
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const ArgLiteral& o) { return o.index == l.index; });
    if (!seen) {
      out.push_back(l);
    } else if (narrow) {
      return std::nullopt;
    }
  }
  return out;
}

// libseccomp 2.5.4 combines several rules of one syscall correctly only when each of them
// compares a single argument: measured, a two-comparison rule next to another rule can give
// a wrong program (a0 != 900 && a1 <= 2, plus a0 == 40, let a0 == 40 through) and some such
// sets never return from seccomp_rule_add. So a syscall gets one rule of any shape, or
// rules of one comparison each; anything else is narrowed (fewer allowing rules) or widened
// (each notifying rule keeps one comparison), never made less strict.
std::set<Conjunction> ShapeForLibseccomp(std::set<Conjunction> terms, bool narrow) {
  const auto single = [](const Conjunction& c) { return c.size() == 1; };
  if (terms.size() <= 1 || std::all_of(terms.begin(), terms.end(), single)) return terms;
  std::set<Conjunction> out;
  for (const Conjunction& c : terms) {
    if (!narrow) {
      out.insert(Conjunction{c.front()});
    } else if (single(c)) {
      out.insert(c);
    }
  }
  if (out.empty()) out.insert(*terms.begin());  // Narrow, none single: keep one rule.
  return out;
}

absl::Status AddKernelRules(scmp_filter_ctx ctx, int nr, uint32_t action, const Dnf& dnf,
                            bool narrow) {
  std::set<Conjunction> terms;
  for (const Conjunction& c : dnf) {
    std::optional<Conjunction> t = ForLibseccomp(c, narrow);
    if (!t.has_value()) continue;
    if (t->empty()) {  // Always: one unconditional rule says it all.
      terms = {Conjunction{}};
      break;
    }
    terms.insert(*std::move(t));
  }
  for (const Conjunction& t : ShapeForLibseccomp(std::move(terms), narrow)) {
    std::vector<scmp_arg_cmp> cmps;
    for (const ArgLiteral& l : t) cmps.push_back(ToScmp(l));
    const int rc = seccomp_rule_add_exact_array(ctx, action, nr, cmps.size(), cmps.data());
    if (rc != 0) {
      return ErrnoToStatus(-rc, absl::StrCat("libseccomp: adding a rule for ", SyscallName(nr)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<sock_filter>> Export(scmp_filter_ctx ctx) {
  UniqueFd memfd(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd.valid()) return ErrnoToStatus(errno, "memfd_create");
  const int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc != 0) return ErrnoToStatus(-rc, "libseccomp: seccomp_export_bpf");
  if (::lseek(memfd.get(), 0, SEEK_SET) != 0) return ErrnoToStatus(errno, "lseek memfd");
  SECUREOS_ASSIGN_OR_RETURN(std::string bytes, ReadAll(memfd.get()));
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
    return absl::InternalError(absl::StrCat("libseccomp exported ", bytes.size(), " bytes"));
  }
  std::vector<sock_filter> code(bytes.size() / sizeof(sock_filter));
  std::memcpy(code.data(), bytes.data(), bytes.size());
  if (code.size() > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(absl::StrCat("seccomp: the profile compiles to ", code.size(),
                                                   " instructions (the kernel takes ", BPF_MAXINSNS,
                                                   ")"));
  }
  return code;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CompiledFilter>> CompiledFilter::Compile(
    const v1::SeccompProfile& profile, bool learn, int launcher_fd) {
  if (launcher_fd < 0) return absl::InvalidArgumentError("launcher_fd: must be >= 0");
  SECUREOS_ASSIGN_OR_RETURN(v1::SeccompProfile resolved, ResolveProfile(profile));
  std::unique_ptr<CompiledFilter> f(new CompiledFilter());
  f->resolved_ = std::move(resolved);
  f->learn_ = learn;
  f->launcher_fd_ = launcher_fd;
  const std::string& base = f->resolved_.base();
  if (learn) {
    f->default_ = Decision{Decision::kAllow, 0, "learning mode"};
  } else if (base == kUnconfinedProfile) {
    f->default_ = Decision{Decision::kAllow, 0, "unconfined"};
    return f;
  } else {
    f->default_ = Decision{
        KindOf(f->resolved_.default_action()), static_cast<int>(f->resolved_.default_errno()),
        absl::StrCat("default action of ", base.empty() ? "the profile" : "profile " + base)};
  }
  f->AddRules();
  SECUREOS_RETURN_IF_ERROR(f->BuildProgram());
  return f;
}

void CompiledFilter::AddRules() {
  if (!learn_) {
    for (int i = 0; i < resolved_.rules_size(); ++i) {
      const v1::SeccompRule& r = resolved_.rules(i);
      Rule rule;
      rule.decision =
          Decision{KindOf(r.action()), static_cast<int>(r.errno_value()), RuleLabel(i, r)};
      for (const v1::ArgFilter& a : r.args()) rule.condition.push_back(ArgLiteral::From(a));
      rule.numbers = Numbers({r.syscalls().begin(), r.syscalls().end()});
      rule.quiet = r.quiet();
      rules_.push_back(std::move(rule));
    }
  }
  const Decision launcher{Decision::kAllow, 0, "launcher"};
  rules_.push_back(
      Rule{launcher,
           {ArgLiteral{0, v1::ArgFilter::OP_EQ, static_cast<uint64_t>(launcher_fd_), 0}},
           Numbers({"sendmsg"})});
  rules_.push_back(Rule{launcher, {}, Numbers(AlwaysAllowedSyscalls())});
  for (size_t k = 0; k < rules_.size(); ++k) {
    for (int nr : rules_[k].numbers) by_number_[nr].push_back(k);
  }
}

std::optional<int> CompiledFilter::QuietErrno(int nr) const {
  auto it = by_number_.find(nr);
  if (it == by_number_.end() || it->second.empty()) return std::nullopt;
  const Rule& last = rules_[it->second.back()];
  if (!last.quiet || !last.condition.empty()) return std::nullopt;
  return last.decision.errno_value;
}

bool CompiledFilter::KernelAllowsByDefault() const {
  return !learn_ && default_.kind == Decision::kAllow;
}

std::vector<ClassRule> CompiledFilter::KernelRules(int nr) const {
  std::vector<ClassRule> out = {ClassRule{KernelAllowsByDefault(), {}}};
  auto it = by_number_.find(nr);
  if (it == by_number_.end()) return out;
  for (size_t k : it->second) {
    out.push_back(ClassRule{rules_[k].decision.kind == Decision::kAllow, rules_[k].condition});
  }
  return out;
}

absl::Status CompiledFilter::BuildProgram() {
  const bool allow_by_default = KernelAllowsByDefault();
  ScmpCtx ctx(seccomp_init(allow_by_default ? SCMP_ACT_ALLOW : SCMP_ACT_NOTIFY));
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc == 0) rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return ErrnoToStatus(-rc, "libseccomp: seccomp_attr_set");
  // Only the opposite of the kernel's default is ever added (libseccomp refuses a rule
  // whose action is the default one).
  const bool want_allow = !allow_by_default;
  const uint32_t action = want_allow ? SCMP_ACT_ALLOW : SCMP_ACT_NOTIFY;
  const std::map<int, std::vector<size_t>> ordered(by_number_.begin(), by_number_.end());
  for (const auto& [nr, unused] : ordered) {
    if (std::optional<int> e = QuietErrno(nr)) {
      const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(static_cast<uint32_t>(*e)), nr, 0);
      if (rc != 0) return ErrnoToStatus(-rc, absl::StrCat("libseccomp: quiet rule for ", SyscallName(nr)));
      continue;
    }
    std::optional<Dnf> where = WhereLastMatchIs(KernelRules(nr), want_allow, kMaxTermsPerSyscall);
    // Too complex: allow nothing more, or notify everything, for this syscall.
    if (!where.has_value()) where = want_allow ? Dnf{} : Dnf{{}};
    SECUREOS_RETURN_IF_ERROR(AddKernelRules(ctx.get(), nr, action, *where, want_allow));
  }
  SECUREOS_ASSIGN_OR_RETURN(code_, Export(ctx.get()));
  program_.len = static_cast<unsigned short>(code_.size());
  program_.filter = code_.data();
  return absl::OkStatus();
}

CompiledFilter::Decision CompiledFilter::Decide(int nr, const uint64_t args[6]) const {
  if (learn_ || code_.empty()) return default_;
  auto it = by_number_.find(nr);
  if (it != by_number_.end()) {
    for (auto k = it->second.rbegin(); k != it->second.rend(); ++k) {
      if (Holds(rules_[*k].condition, args)) return rules_[*k].decision;
    }
  }
  if (default_.kind != Decision::kAllow && SyscallNameOrEmpty(nr).empty()) {
    return Decision{Decision::kEnosys, ENOSYS, default_.rule};
  }
  return default_;
}

std::string CompiledFilter::SyscallName(int nr) const { return sandboxd::SyscallName(nr); }

std::string CompiledFilter::DescribeAction(const Decision& d) {
  switch (d.kind) {
    case Decision::kAllow:
      return "allowed";
    case Decision::kKill:
      return "killed";
    case Decision::kLog:
      return "logged";
    case Decision::kEnosys:
      return "ENOSYS (unknown to the profile)";
    case Decision::kErrno:
      break;
  }
  const char* name = ::strerrorname_np(d.errno_value);
  return name != nullptr ? absl::StrCat("errno ", name) : absl::StrCat("errno ", d.errno_value);
}

}  // namespace secureos::sandboxd
