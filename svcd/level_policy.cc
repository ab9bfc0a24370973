#include "svcd/level_policy.h"

#include <sys/resource.h>

#include "absl/strings/str_cat.h"

namespace secureos::svcd {
namespace {

constexpr uint32_t kDefaultPids = 512;
constexpr uint64_t kDefaultNofile = 1024;

bool Absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

void CheckPaths(const char* field, const google::protobuf::RepeatedPtrField<std::string>& paths,
                int level, int min_level, FieldErrors* errors) {
  if (paths.empty()) return;
  if (level < min_level) {
    errors->Add(field, absl::StrCat("from level ", min_level, " on (level ", level,
                                    " keeps the host's filesystem as it is)"));
    return;
  }
  for (int i = 0; i < paths.size(); ++i) {
    if (!Absolute(paths[i]) || paths[i] == "/") {
      errors->Add(absl::StrCat(field, "[", i, "]"),
                  absl::StrCat("an absolute path other than /, got \"", paths[i], "\""));
    }
  }
}

void CheckNetwork(v1::Network network, int level, FieldErrors* errors) {
  if (network == v1::NETWORK_UNSPECIFIED) return;
  if (!v1::Network_IsValid(network)) {
    errors->Add("overrides.network", "not a network mode");
  } else if (!Sandboxed(level)) {
    errors->Add("overrides.network", "levels 3-5 only (levels 1-2 use the host's network)");
  } else if (network == v1::NETWORK_HOST && level >= 4) {
    errors->Add("overrides.network", absl::StrCat("level ", level, " allows loopback at most"));
  }
}

void CheckRoot(const v1::ServiceDefinition& d, uid_t uid, bool allow_root, FieldErrors* errors) {
  const int level = static_cast<int>(d.level());
  if (d.run_as_root() && Sandboxed(level)) {
    errors->Add("run_as_root", "levels 1-2 only (at 3-5 root is root inside a user namespace)");
  }
  if (uid != 0) {
    if (d.run_as_root()) errors->Add("run_as_root", "set, but user is not root");
    return;
  }
  if (!Sandboxed(level)) {
    if (!d.run_as_root()) {
      errors->Add("user", "root on the host: say so with run_as_root: true (and svcd's config must allow_root)");
    } else if (!allow_root) {
      errors->Add("run_as_root", "svcd's configuration does not allow_root");
    }
  } else if (level == 3 && !d.overrides().user_namespace()) {
    errors->Add("user", "root at level 3 needs overrides.user_namespace (never root on the host)");
  }
}

void CheckCapabilities(const v1::ServiceDefinition& d, FieldErrors* errors) {
  if (d.capabilities().empty()) return;
  if (d.level() == 5) errors->Add("capabilities", "level 5 keeps none");
  if (d.level() == 3 && !d.overrides().user_namespace()) {
    errors->Add("capabilities", "at level 3 only inside a user namespace: set overrides.user_namespace");
  }
}

}  // namespace

void CheckLevel(const v1::ServiceDefinition& d, uid_t uid, bool allow_root, FieldErrors* errors) {
  const int level = static_cast<int>(d.level());
  if (level < kMinLevel || level > kMaxLevel) {
    errors->Add("level", absl::StrCat("required, 1 to 5, got ", d.level()));
    return;
  }
  CheckRoot(d, uid, allow_root, errors);
  CheckCapabilities(d, errors);
  if (!d.supplementary_groups().empty() && Sandboxed(level)) {
    errors->Add("supplementary_groups", "levels 1-2 only");
  }
  const v1::LevelOverrides& o = d.overrides();
  CheckNetwork(o.network(), level, errors);
  CheckPaths("overrides.read_write_paths", o.read_write_paths(), level, 2, errors);
  CheckPaths("overrides.read_only_paths", o.read_only_paths(), level, 2, errors);
  if (o.user_namespace() && level != 3) {
    errors->Add("overrides.user_namespace",
                level < 3 ? "levels 3-5 only" : absl::StrCat("level ", level, " always has one"));
  }
  if (!o.seccomp_profile().empty()) {
    if (!Sandboxed(level)) {
      errors->Add("overrides.seccomp_profile", "levels 3-5 only");
    } else if (!Absolute(o.seccomp_profile())) {
      errors->Add("overrides.seccomp_profile", "must be an absolute path");
    }
  }
}

std::string LevelSummary(int level) {
  switch (level) {
    case 1:
      return "host process (capd): its user, no_new_privs, only the granted capabilities, "
             "everything else dropped from all five sets";
    case 2:
      return "level 1 + private /tmp, read-only /usr /etc /boot, rlimits, cgroup memory/CPU/pids limits";
    case 3:
      return "level 2 + sandboxd: mount, pid, ipc and uts namespaces, the host's / read-only, "
             "seccomp \"default\"";
    case 4:
      return "level 3 + user and network namespaces (loopback only), seccomp \"strict\"";
    case 5:
      return "level 4 + an empty root with only the system directories and declared paths, "
             "no capabilities at all";
    default:
      return "not a level";
  }
}

common::v1::ResourceLimits EffectiveLimits(const v1::ServiceDefinition& def) {
  common::v1::ResourceLimits l = def.limits();
  if (def.level() < 2) return l;
  if (!l.has_pids()) l.set_pids(kDefaultPids);
  bool nofile = false, core = false;
  for (const auto& r : l.rlimits()) {
    nofile = nofile || r.resource() == common::v1::RLIMIT_RESOURCE_NOFILE;
    core = core || r.resource() == common::v1::RLIMIT_RESOURCE_CORE;
  }
  if (!nofile) {
    auto* r = l.add_rlimits();
    r->set_resource(common::v1::RLIMIT_RESOURCE_NOFILE);
    r->set_soft(kDefaultNofile);
    r->set_hard(kDefaultNofile);
  }
  if (!core) {
    auto* r = l.add_rlimits();
    r->set_resource(common::v1::RLIMIT_RESOURCE_CORE);
    r->set_soft(0);
    r->set_hard(0);
  }
  return l;
}

const std::vector<std::string>& ProtectedSystemPaths() {
  static const std::vector<std::string> kPaths = {"/usr", "/etc", "/boot", "/efi"};
  return kPaths;
}

LevelExpectations ExpectationsFor(const v1::ServiceDefinition& def, uid_t uid, const CapSet& caps) {
  LevelExpectations e;
  const int level = static_cast<int>(def.level());
  e.level = level;
  e.caps = caps;
  e.all_five_sets = !Sandboxed(level);
  const common::v1::ResourceLimits limits = EffectiveLimits(def);
  if (limits.has_memory_bytes()) e.memory_bytes = limits.memory_bytes();
  if (limits.has_cpu_millis()) e.cpu_millis = limits.cpu_millis();
  if (limits.has_pids()) e.pids = limits.pids();
  if (level >= 2) {
    e.new_namespaces.push_back("mnt");
    // Level 5's root is an empty tmpfs with no /tmp at all (sandboxd's level preset), which
    // is stricter than a private one: nothing of the host's /tmp either way.
    e.private_tmp = level < 5;
    e.read_only_mounts = {"/usr"};
  }
  if (level >= 3) {
    e.new_namespaces.insert(e.new_namespaces.end(), {"pid", "ipc", "uts"});
    e.seccomp_filter = true;
    e.read_only_mounts.insert(e.read_only_mounts.begin(), "/");
  }
  const bool user_ns = level >= 4 || (level == 3 && def.overrides().user_namespace());
  if (user_ns) e.new_namespaces.push_back("user");
  const v1::Network net = def.overrides().network();
  if (level >= 4 || (level == 3 && (net == v1::NETWORK_NONE || net == v1::NETWORK_LOOPBACK))) {
    e.new_namespaces.push_back("net");
  }
  if (!user_ns) e.host_uid = uid;
  return e;
}

}  // namespace secureos::svcd
