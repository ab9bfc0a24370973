#include "containerd-lite/oci_bundle.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/cap_set.h"
#include "common/fd.h"
#include "common/field_errors.h"
#include "common/process_spec.h"
#include "common/status.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "sandboxd/seccomp/oci_import.h"

namespace secureos::ctr {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
namespace sbx = sandboxd::v1;

constexpr char kConfigName[] = "config.json";
// runc's PATH for a process whose environment has none.
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr uint64_t kDefaultCpuPeriodUs = 100000;
constexpr uint64_t kRlimInfinity = ~uint64_t{0};
// A masked directory: an empty tmpfs that holds next to nothing.
constexpr char kMaskDirSize[] = "4k";
constexpr char kMaskDirMode[] = "0555";

std::string Quote(absl::string_view s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

std::string Field(absl::string_view base, int index) { return absl::StrCat(base, "[", index, "]"); }

// ---------------------------------------------------------------------------------------------
// Parsing.

// The field of `type` whose OCI (json) name is `key`, or null.
const FieldDescriptor* FieldByJsonName(const Descriptor* type, absl::string_view key) {
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

// Adds every key of `value` (a JSON object read as `type`) that `type` does not declare
// under its OCI (json) name, recursively. Protobuf's strict parser stops at the first one;
// this walk reports them all.
void FindUnsupportedKeys(const google::protobuf::Value& value, const Descriptor* type,
                         const std::string& path, FieldErrors* errors) {
  if (value.kind_case() != google::protobuf::Value::kStructValue) return;
  const auto& fields = value.struct_value().fields();
  std::vector<std::string> keys;
  for (const auto& kv : fields) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());  // A protobuf map has no order: make errors stable.
  for (const std::string& key : keys) {
    const std::string child_path = path.empty() ? key : absl::StrCat(path, ".", key);
    const FieldDescriptor* field = FieldByJsonName(type, key);
    if (field == nullptr) {
      const FieldDescriptor* by_proto_name = type->FindFieldByName(key);
      if (by_proto_name != nullptr && by_proto_name->json_name() != key) {
        errors->Add(child_path, absl::StrCat("not an OCI key (OCI spells it \"",
                                             by_proto_name->json_name(), "\")"));
      } else {
        errors->Add(child_path, "not supported by containerd-lite");
      }
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    const google::protobuf::Value& child = fields.at(key);
    if (!field->is_repeated()) {
      FindUnsupportedKeys(child, field->message_type(), child_path, errors);
      continue;
    }
    if (child.kind_case() != google::protobuf::Value::kListValue) continue;
    const auto& list = child.list_value().values();
    for (int i = 0; i < list.size(); ++i) {
      FindUnsupportedKeys(list[i], field->message_type(), Field(child_path, i), errors);
    }
  }
}

// "linux.uid_mappings[0].container_id" (protobuf's field names) ->
// "linux.uidMappings[0].containerID" (OCI's).
std::string OciFieldPath(absl::string_view proto_path) {
  const Descriptor* type = oci::v1::Spec::descriptor();
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(proto_path, '.')) {
    const size_t bracket = part.find('[');
    const absl::string_view name = part.substr(0, bracket);
    const absl::string_view index =
        bracket == absl::string_view::npos ? absl::string_view() : part.substr(bracket);
    const FieldDescriptor* field =
        type != nullptr ? type->FindFieldByName(std::string(name)) : nullptr;
    if (field == nullptr) {
      parts.emplace_back(part);
      type = nullptr;
      continue;
    }
    parts.push_back(absl::StrCat(field->json_name(), index));
    type = field->message_type();
  }
  return absl::StrJoin(parts, ".");
}

// Protobuf's parse errors look like "(linux.res.limit): invalid value ..." or
// "(linux) intelRdt: Cannot find field."; anything else is a JSON syntax error.
absl::Status TranslateParseError(absl::string_view message) {
  const absl::string_view first_line = message.substr(0, message.find('\n'));
  absl::string_view rest = first_line;
  if (!absl::ConsumePrefix(&rest, "(") || rest.find(')') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(kConfigName, ": not valid JSON: ", absl::StripAsciiWhitespace(first_line)));
  }
  const size_t close = rest.find(')');
  std::string field = OciFieldPath(rest.substr(0, close));
  rest.remove_prefix(close + 1);
  if (!absl::ConsumePrefix(&rest, ": ")) {
    absl::ConsumePrefix(&rest, " ");
    const size_t colon = rest.find(": ");
    if (colon != absl::string_view::npos) {
      field = absl::StrCat(field, ".", rest.substr(0, colon));
      rest.remove_prefix(colon + 2);
    }
  }
  std::string what(rest);
  if (what == "Cannot find field.") what = "not supported by containerd-lite";
  FieldErrors errors;
  errors.Add(field, what);
  return errors.ToConfigStatus(kConfigName, nullptr);
}

// "1.0.2", "1.1.0", "1.0.2-dev".
bool SupportedVersion(absl::string_view v) {
  if (!absl::ConsumePrefix(&v, "1.0.") && !absl::ConsumePrefix(&v, "1.1.")) return false;
  size_t digits = 0;
  while (digits < v.size() && absl::ascii_isdigit(v[digits])) ++digits;
  if (digits == 0) return false;
  v.remove_prefix(digits);
  if (v.empty()) return true;
  if (v.size() < 2 || v[0] != '-') return false;
  for (char c : v.substr(1)) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return ErrnoToStatus(errno, path);
  return std::string(buf);
}

// "/a//b/./c/" -> "/a/b/c"; nullopt (with an error on `field`) when `text` is not an
// absolute path without "..".
std::optional<std::string> NormalizeAbsolute(absl::string_view text, const std::string& field,
                                             FieldErrors* errors) {
  if (text.empty()) {
    errors->Add(field, "required");
    return std::nullopt;
  }
  if (text[0] != '/') {
    errors->Add(field, absl::StrCat("must be absolute, got ", Quote(text)));
    return std::nullopt;
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(text, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == ".." || part.find('\0') != absl::string_view::npos) {
      errors->Add(field, absl::StrCat("must not contain \"..\" or NUL bytes, got ", Quote(text)));
      return std::nullopt;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

// Whether `path` is `prefix` or lies below it (both normalized).
bool IsUnder(absl::string_view path, absl::string_view prefix) {
  if (prefix == "/") return true;
  return path == prefix || (absl::StartsWith(path, prefix) && path[prefix.size()] == '/');
}

// ---------------------------------------------------------------------------------------------
// Looking at the view the container will get.

// One mount of the view, as far as looking up paths in it goes.
struct Layer {
  enum class Kind {
    kRootfs,  // The rootfs (host_dir): top-level names bound on the root tmpfs.
    kHost,    // A host directory or file (host_dir): binds, /proc, /sys.
    kTmpfs,   // A fresh, empty tmpfs.
    kDev,     // sandboxd's minimal /dev.
  };
  std::string dest;
  Kind kind = Kind::kTmpfs;
  std::string host_dir;
  bool writable = false;   // Missing mount points can be made below it.
  bool read_only = false;  // Already read-only (readonlyPaths need nothing).
};

// What is at a path of the view.
struct Lookup {
  enum class State { kMissing, kFound, kError };
  State state = State::kMissing;
  bool dir = false;
  bool executable_file = false;
  std::string host_path;  // kRootfs and kHost layers: the object's host path.
  std::string error;      // kError.
  const Layer* layer = nullptr;
};

// Opens `rel` under `dir` with every symlink resolved inside `dir` (as sandboxd resolves
// paths inside the view), and says what it is.
Lookup ResolveUnder(const std::string& dir, const std::string& rel) {
  Lookup out;
  int raw = -1;
  if (rel.empty()) {
    raw = RetryOnEintr([&] { return ::open(dir.c_str(), O_PATH | O_CLOEXEC); });
  } else {
    UniqueFd root(RetryOnEintr(
        [&] { return ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }));
    if (root.valid()) {
      open_how how{};
      how.flags = O_PATH | O_CLOEXEC;
      how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      for (int attempt = 0; attempt < 16; ++attempt) {
        raw = static_cast<int>(RetryOnEintr([&] {
          return ::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof(how));
        }));
        if (raw >= 0 || errno != EAGAIN) break;
      }
    }
  }
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return out;
    out.state = Lookup::State::kError;
    out.error = std::string(
        ErrnoToStatus(err, absl::StrCat(dir, rel.empty() ? "" : "/", rel)).message());
    return out;
  }
  UniqueFd fd(raw);
  struct stat st;
  char link[PATH_MAX];
  const std::string self = absl::StrCat("/proc/self/fd/", fd.get());
  const ssize_t n = ::readlink(self.c_str(), link, sizeof(link) - 1);
  if (::fstat(fd.get(), &st) != 0 || n <= 0) {
    out.state = Lookup::State::kError;
    out.error = std::string(ErrnoToStatus(errno, absl::StrCat("inspect ", dir, "/", rel)).message());
    return out;
  }
  out.state = Lookup::State::kFound;
  out.dir = S_ISDIR(st.st_mode);
  out.executable_file = S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
  out.host_path.assign(link, static_cast<size_t>(n));
  return out;
}

class View {
 public:
  explicit View(const std::string& rootfs, bool readonly_root,
                std::set<std::string> top_level_names)
      : top_level_(std::move(top_level_names)) {
    Layer root;
    root.dest = "/";
    root.kind = Layer::Kind::kRootfs;
    root.host_dir = rootfs;
    root.writable = !readonly_root;
    root.read_only = readonly_root;
    layers_.push_back(std::move(root));
  }

  void Add(Layer layer) { layers_.push_back(std::move(layer)); }

  // The topmost layer that holds `path`.
  const Layer& Covering(const std::string& path) const {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
      if (IsUnder(path, it->dest)) return *it;
    }
    return layers_.front();
  }

  Lookup Find(const std::string& path) const {
    const Layer& layer = Covering(path);
    const std::string rel = path == layer.dest ? std::string()
                            : layer.dest == "/" ? path.substr(1)
                                                : path.substr(layer.dest.size() + 1);
    Lookup out;
    switch (layer.kind) {
      case Layer::Kind::kRootfs:
      case Layer::Kind::kHost:
        out = ResolveUnder(layer.host_dir, rel);
        break;
      case Layer::Kind::kTmpfs:
        if (rel.empty()) out = Found(/*dir=*/true);
        break;
      case Layer::Kind::kDev:
        if (rel.empty() || rel == "pts" || rel == "shm") {
          out = Found(true);
        } else if (rel == "null" || rel == "zero" || rel == "full" || rel == "random" ||
                   rel == "urandom" || rel == "tty" || rel == "ptmx") {
          out = Found(false);
        }
        break;
    }
    // A mount point made for a later layer is a directory even where nothing else is.
    if (out.state == Lookup::State::kMissing) {
      for (const Layer& l : layers_) {
        if (l.dest != path && IsUnder(l.dest, path)) {
          out = Found(true);
          break;
        }
      }
    }
    out.layer = &layer;
    return out;
  }

  // Whether sandboxd can make a missing mount point at `path`.
  bool CanMakeMountPoint(const std::string& path) const {
    const Layer& layer = Covering(path);
    if (layer.kind != Layer::Kind::kRootfs) return layer.writable;
    // Top-level names are made on the root tmpfs; below a rootfs name, in the rootfs.
    const std::string first(absl::string_view(path).substr(1, path.find('/', 1) - 1));
    return layer.writable || top_level_.count(first) == 0;
  }

 private:
  static Lookup Found(bool dir) {
    Lookup out;
    out.state = Lookup::State::kFound;
    out.dir = dir;
    return out;
  }

  std::set<std::string> top_level_;
  std::deque<Layer> layers_;  // A deque: Lookup::layer stays valid as layers are added.
};

// ---------------------------------------------------------------------------------------------
// Translation.

enum class MountType { kBind, kTmpfs, kDev, kProc, kSysfs, kCgroup, kDevpts, kMqueue };

const char* MountTypeName(MountType t) {
  switch (t) {
    case MountType::kBind: return "bind";
    case MountType::kTmpfs: return "tmpfs";
    case MountType::kDev: return "tmpfs on /dev";
    case MountType::kProc: return "proc";
    case MountType::kSysfs: return "sysfs";
    case MountType::kCgroup: return "cgroup";
    case MountType::kDevpts: return "devpts";
    case MountType::kMqueue: return "mqueue";
  }
  return "?";
}

// The options of one mount, once checked.
struct MountOptions {
  bool ro = false;
  bool rw = false;
  std::string size;  // tmpfs
  std::string mode;  // tmpfs
};

bool IsSize(absl::string_view s) {
  absl::string_view digits = s;
  if (!digits.empty() && absl::string_view("kKmMgG").find(digits.back()) != std::string::npos) {
    digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 15) return false;
  bool nonzero = false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

bool IsMode(absl::string_view s) {
  if (s.size() < 3 || s.size() > 4) return false;
  for (char c : s) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

// Devices sandboxd's /dev has (type c): major -> minors (-1: all).
bool IsDefaultDevice(int64_t major, int64_t minor) {
  static const auto* kDevices = new std::map<int64_t, std::set<int64_t>>{
      {1, {3, 5, 7, 8, 9}},  // null, zero, full, random, urandom
      {5, {0, 2}},           // tty, ptmx
      {136, {-1}},           // pts/*
  };
  auto it = kDevices->find(major);
  if (it == kDevices->end()) return false;
  return it->second.count(-1) > 0 || (minor >= 0 && it->second.count(minor) > 0);
}

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

absl::Status CheckIdMapping(const IdMapping& m, absl::string_view name) {
  const uint64_t limit = uint64_t{1} << 32;
  if (m.size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": size must be at least 1"));
  }
  if (uint64_t{m.container_id()} + m.size() > limit || uint64_t{m.host_id()} + m.size() > limit) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the range passes 2^32"));
  }
  return absl::OkStatus();
}

class Translator {
 public:
  Translator(const Bundle& bundle, const IdMapping& uid_map, const IdMapping& gid_map)
      : bundle_(bundle), oci_(bundle.spec), uid_map_(uid_map), gid_map_(gid_map) {}

  absl::StatusOr<sbx::SandboxSpec> Run(std::vector<std::string>* notes) {
    Namespaces();
    Identity();
    Hostname();
    Filesystem();
    Process();
    Resources();
    Seccomp();
    if (notes != nullptr) *notes = std::move(notes_);
    SECUREOS_RETURN_IF_ERROR(errors_.ToConfigStatus(kConfigName, nullptr));
    return std::move(spec_);
  }

 private:
  void Note(absl::string_view field, absl::string_view text) {
    notes_.push_back(absl::StrCat(kConfigName, ": ", field, ": ", text));
  }

  // linux.namespaces -> namespaces and network.
  void Namespaces() {
    std::set<std::string> seen;
    sbx::Namespaces* ns = spec_.mutable_namespaces();
    for (int i = 0; i < oci_.linux().namespaces_size(); ++i) {
      const oci::v1::Namespace& n = oci_.linux().namespaces(i);
      const std::string field = Field("linux.namespaces", i);
      if (!n.path().empty()) {
        errors_.Add(field + ".path",
                    absl::StrCat("joining an existing namespace (", Quote(n.path()),
                                 ") is not supported by containerd-lite: every container gets "
                                 "new namespaces"));
      }
      if (!seen.insert(n.type()).second) {
        errors_.Add(field + ".type", absl::StrCat(Quote(n.type()), " is listed twice"));
        continue;
      }
      const std::string& t = n.type();
      if (t == "pid") {
        ns->set_pid(true);
      } else if (t == "network") {
        ns->set_net(true);
      } else if (t == "mount") {
        ns->set_mount(true);
      } else if (t == "ipc") {
        ns->set_ipc(true);
      } else if (t == "uts") {
        ns->set_uts(true);
      } else if (t == "user") {
        ns->set_user(true);
      } else if (t == "cgroup") {
        ns->set_cgroup(true);
      } else if (t == "time") {
        ns->set_time(true);
      } else {
        errors_.Add(field + ".type",
                    t.empty() ? std::string("required")
                              : absl::StrCat("unknown namespace type ", Quote(t),
                                             " (pid, network, mount, ipc, uts, user, cgroup, "
                                             "time)"));
      }
    }
    if (!ns->mount()) {
      errors_.Add("linux.namespaces",
                  "a mount namespace is required: containerd-lite always gives the container a "
                  "view of its own root (add {\"type\": \"mount\"})");
    }
    if (!ns->user()) {
      Note("linux.namespaces",
           "no user namespace in the bundle: containerd-lite adds one (container ids map to "
           "its id range)");
      ns->set_user(true);
    }
    spec_.set_network(ns->net() ? sbx::NETWORK_MODE_LOOPBACK : sbx::NETWORK_MODE_HOST);
  }

  // process.user and the id maps.
  void Identity() {
    for (auto [map, out] : {std::pair{&uid_map_, spec_.add_uid_map()},
                            std::pair{&gid_map_, spec_.add_gid_map()}}) {
      out->set_inside(map->container_id());
      out->set_outside(map->host_id());
      out->set_count(map->size());
    }
    const oci::v1::User& user = oci_.process().user();
    auto check = [&](uint32_t id, const IdMapping& m, const char* field, const char* what) {
      if (id < m.container_id() || id - m.container_id() >= m.size()) {
        errors_.Add(field, absl::StrCat(id, " is not mapped by the container's ", what,
                                        " range (", m.container_id(), "-",
                                        uint64_t{m.container_id()} + m.size() - 1, ")"));
      }
    };
    check(user.uid(), uid_map_, "process.user.uid", "uid");
    check(user.gid(), gid_map_, "process.user.gid", "gid");
    spec_.set_uid(user.uid());
    spec_.set_gid(user.gid());
    if (!user.additional_gids().empty()) {
      errors_.Add("process.user.additionalGids",
                  absl::StrCat("[", absl::StrJoin(user.additional_gids(), ", "),
                               "]: supplementary groups are not supported (sandboxd clears "
                               "them)"));
    }
    if (user.has_umask()) {
      errors_.Add("process.user.umask",
                  absl::StrCat(user.umask(), ": not supported (sandboxd sets no umask of its "
                                             "own, the process inherits sandboxd's)"));
    }
  }

  void Hostname() {
    if (oci_.hostname().empty()) return;
    if (!spec_.namespaces().uts()) {
      errors_.Add("hostname", absl::StrCat(Quote(oci_.hostname()),
                                           " needs a uts namespace in linux.namespaces"));
      return;
    }
    spec_.set_hostname(oci_.hostname());
  }

  // ---- Filesystem.

  void Filesystem() {
    sbx::Filesystem* fs = spec_.mutable_filesystem();
    fs->set_root(sbx::Filesystem::ROOT_TMPFS);
    const bool readonly = oci_.root().readonly();
    std::set<std::string> names = RootfsEntries(readonly);
    view_ = std::make_unique<View>(bundle_.rootfs, readonly, std::move(names));
    for (int i = 0; i < oci_.mounts_size(); ++i) AddMount(i);
    for (int i = 0; i < oci_.linux().readonly_paths_size(); ++i) AddReadonlyPath(i);
    for (int i = 0; i < oci_.linux().masked_paths_size(); ++i) AddMaskedPath(i);
    if (fs->entries_size() > kMaxViewEntries) {
      errors_.Add("mounts", absl::StrCat("the container's view needs ", fs->entries_size(),
                                         " sandboxd filesystem entries (top-level names of the "
                                         "rootfs, mounts, readonlyPaths, maskedPaths), more "
                                         "than sandboxd's ",
                                         kMaxViewEntries));
    }
  }

  sbx::MountEntry* AddEntry(sbx::MountKind kind, const std::string& target) {
    sbx::MountEntry* e = spec_.mutable_filesystem()->add_entries();
    e->set_kind(kind);
    e->set_target(target);
    return e;
  }

  // One entry per top-level name of the rootfs; returns the names.
  std::set<std::string> RootfsEntries(bool readonly) {
    std::set<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(bundle_.rootfs.c_str()), &::closedir);
    if (dir == nullptr) {
      errors_.Add("root.path", ErrnoToStatus(errno, bundle_.rootfs).message());
      return names;
    }
    errno = 0;
    while (const dirent* d = ::readdir(dir.get())) {
      const std::string name = d->d_name;
      if (name != "." && name != "..") names.insert(name);
    }
    if (errno != 0) {
      errors_.Add("root.path", ErrnoToStatus(errno, "read " + bundle_.rootfs).message());
      return names;
    }
    for (const std::string& name : names) {
      struct stat st;
      const std::string target = "/" + name;
      if (::fstatat(::dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        errors_.Add("root.path",
                    ErrnoToStatus(errno, absl::StrCat(bundle_.rootfs, target)).message());
        continue;
      }
      if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
        AddEntry(readonly ? sbx::MOUNT_KIND_RO_BIND : sbx::MOUNT_KIND_RW_BIND, target)
            ->set_source(bundle_.rootfs + target);
      } else if (S_ISLNK(st.st_mode)) {
        char text[PATH_MAX];
        const ssize_t n = ::readlinkat(::dirfd(dir.get()), name.c_str(), text, sizeof(text));
        if (n <= 0 || n >= static_cast<ssize_t>(sizeof(text))) {
          errors_.Add("root.path",
                      ErrnoToStatus(errno, absl::StrCat("readlink ", bundle_.rootfs, target))
                          .message());
          continue;
        }
        AddEntry(sbx::MOUNT_KIND_SYMLINK, target)->set_source(std::string(text, n));
      } else {
        errors_.Add("root.path",
                    absl::StrCat("the rootfs entry ", Quote(target),
                                 " is not a directory, file or symlink: only those can be "
                                 "placed at the top of sandboxd's root"));
      }
    }
    return names;
  }

  std::optional<MountType> ClassifyMount(const oci::v1::Mount& m, const std::string& dest,
                                         const std::string& field) {
    const std::string& t = m.type();
    const bool bind_option = std::any_of(m.options().begin(), m.options().end(),
                                         [](const std::string& o) { return o == "bind" || o == "rbind"; });
    if (t == "bind" || ((t.empty() || t == "none") && bind_option)) return MountType::kBind;
    if (t == "tmpfs") return dest == "/dev" ? MountType::kDev : MountType::kTmpfs;
    if (t == "proc") return MountType::kProc;
    if (t == "sysfs") return MountType::kSysfs;
    if (t == "cgroup" || t == "cgroup2") return MountType::kCgroup;
    if (t == "devpts") return MountType::kDevpts;
    if (t == "mqueue") return MountType::kMqueue;
    errors_.Add(field + ".type",
                t.empty() ? std::string("required (or a bind/rbind option for a bind)")
                          : absl::StrCat(Quote(t),
                                         " is not supported by containerd-lite (bind, tmpfs, "
                                         "proc, sysfs, devpts, mqueue, cgroup)"));
    return std::nullopt;
  }

  // Checks every option of mounts[index]; false when one is refused.
  bool CheckOptions(const oci::v1::Mount& m, MountType type, const std::string& field,
                    MountOptions* out) {
    bool ok = true;
    const std::string type_name = MountTypeName(type);
    for (int j = 0; j < m.options_size(); ++j) {
      const std::string& o = m.options(j);
      const std::string of = Field(field + ".options", j);
      auto refuse = [&](absl::string_view why) {
        errors_.Add(of, absl::StrCat(Quote(o), ": ", why));
        ok = false;
      };
      const size_t eq = o.find('=');
      const std::string key = o.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : o.substr(eq + 1);
      if (o == "nosuid" || o == "nodev" || o == "private" || o == "rprivate" || o == "relatime") {
        continue;  // Always so in sandboxd.
      }
      if (o == "strictatime" || o == "noatime" || o == "atime" || o == "nodiratime" ||
          o == "diratime" || o == "norelatime" || o == "lazytime" || o == "nolazytime") {
        Note(of, absl::StrCat(Quote(o), " is not applied (sandboxd's mounts keep the kernel's "
                                        "default, relatime)"));
      } else if (o == "noexec") {
        if (type == MountType::kTmpfs || type == MountType::kBind) {
          Note(of, absl::StrCat("noexec is not applied: sandboxd's ", type_name,
                                " mounts allow exec (nosuid,nodev only)"));
        }
        // proc, /dev and devpts are noexec in sandboxd; sysfs, cgroupfs and mqueue hold
        // nothing executable.
      } else if (o == "exec") {
        if (type != MountType::kTmpfs && type != MountType::kBind) {
          refuse(absl::StrCat("sandboxd's ", type_name, " is always noexec"));
        }
      } else if (o == "suid" || o == "dev") {
        refuse("sandboxd's mounts are always nosuid,nodev");
      } else if (o == "shared" || o == "rshared" || o == "slave" || o == "rslave" ||
                 o == "unbindable" || o == "runbindable") {
        refuse("mount propagation other than private is not supported (sandboxd's mounts are "
               "all private)");
      } else if (o == "ro") {
        out->ro = true;
      } else if (o == "rw") {
        out->rw = true;
      } else if (o == "bind" || o == "rbind") {
        if (type != MountType::kBind) {
          refuse(absl::StrCat("not an option of ", type_name));
        } else if (o == "bind") {
          Note(of, "binds are recursive in sandboxd (submounts of the source are included)");
        }
      } else if ((type == MountType::kTmpfs || type == MountType::kDev) && key == "size" &&
                 eq != std::string::npos) {
        if (IsSize(value)) {
          out->size = value;
        } else {
          refuse("size must be a number of bytes with an optional k, m or g suffix");
        }
      } else if ((type == MountType::kTmpfs || type == MountType::kDev) && key == "mode" &&
                 eq != std::string::npos) {
        if (IsMode(value)) {
          out->mode = value;
        } else {
          refuse("mode must be 3 or 4 octal digits");
        }
      } else if (type == MountType::kDevpts && o == "newinstance") {
        continue;  // sandboxd's devpts is a new instance.
      } else if (type == MountType::kDevpts && (key == "ptmxmode" || key == "mode") &&
                 eq != std::string::npos) {
        const std::string want = key == "ptmxmode" ? "0666" : "0620";
        if (value != want && "0" + value != want) {
          Note(of, absl::StrCat(Quote(o), " is not applied: sandboxd's devpts has ", key, "=",
                                want));
        }
      } else if (type == MountType::kDevpts && (key == "gid" || key == "uid") &&
                 eq != std::string::npos) {
        Note(of, absl::StrCat(Quote(o),
                              " is not applied: in a user namespace sandboxd's devpts keeps "
                              "the kernel's owner (the opener's ids)"));
      } else {
        refuse(absl::StrCat("unknown or unsupported option of ", type_name));
      }
    }
    if (out->ro && out->rw) {
      errors_.Add(field + ".options", "both ro and rw");
      return false;
    }
    switch (type) {
      case MountType::kTmpfs:
        if (out->ro) {
          errors_.Add(field + ".options", "a read-only tmpfs is not supported by sandboxd");
          ok = false;
        }
        break;
      case MountType::kDev:
        if (out->rw) {
          errors_.Add(field + ".options", "rw: sandboxd's /dev is read-only once made");
          ok = false;
        }
        break;
      case MountType::kProc:
      case MountType::kDevpts:
        if (out->ro) {
          errors_.Add(field + ".options",
                      absl::StrCat("a read-only ", type_name,
                                   " is not supported (use linux.readonlyPaths for parts of "
                                   "/proc)"));
          ok = false;
        }
        break;
      case MountType::kSysfs:
      case MountType::kCgroup:
        if (!out->ro) {
          errors_.Add(field + ".options",
                      absl::StrCat("only a read-only ", type_name,
                                   " is supported (the host's, bound read-only): add \"ro\""));
          ok = false;
        }
        break;
      case MountType::kBind:
      case MountType::kMqueue:
        break;
    }
    return ok;
  }

  // Refuses a mount whose mount point is missing where sandboxd cannot make it.
  bool CheckMountPoint(const std::string& dest, const std::string& field) {
    const Lookup found = view_->Find(dest);
    if (found.state == Lookup::State::kFound) return true;
    if (found.state == Lookup::State::kError) {
      errors_.Add(field + ".destination", found.error);
      return false;
    }
    if (view_->CanMakeMountPoint(dest)) return true;
    const Layer& layer = *found.layer;
    const std::string where = layer.kind == Layer::Kind::kRootfs ? "the read-only rootfs"
                              : layer.kind == Layer::Kind::kDev
                                  ? "sandboxd's /dev (read-only once made, only its own "
                                    "entries can be mounted over)"
                                  : absl::StrCat("the read-only mount at ", layer.dest);
    errors_.Add(field + ".destination",
                absl::StrCat(Quote(dest), " does not exist in ", where,
                             ", and sandboxd cannot make the mount point there"));
    return false;
  }

  void AddMount(int index) {
    const oci::v1::Mount& m = oci_.mounts(index);
    const std::string field = Field("mounts", index);
    std::optional<std::string> dest =
        NormalizeAbsolute(m.destination(), field + ".destination", &errors_);
    if (!dest) return;
    if (*dest == "/") {
      errors_.Add(field + ".destination", "\"/\" is the root: set root.path instead");
      return;
    }
    std::optional<MountType> type = ClassifyMount(m, *dest, field);
    if (!type) return;
    MountOptions options;
    if (!CheckOptions(m, *type, field, &options)) return;

    Layer layer;
    layer.dest = *dest;
    switch (*type) {
      case MountType::kBind: {
        if (m.source().empty()) {
          errors_.Add(field + ".source", "required for a bind");
          return;
        }
        const std::string abs =
            m.source()[0] == '/' ? m.source() : absl::StrCat(bundle_.dir, "/", m.source());
        absl::StatusOr<std::string> real = RealPath(abs);
        if (!real.ok()) {
          errors_.Add(field + ".source", real.status().message());
          return;
        }
        struct stat st;
        if (::stat(real->c_str(), &st) != 0) {
          errors_.Add(field + ".source", ErrnoToStatus(errno, *real).message());
          return;
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
          errors_.Add(field + ".source",
                      absl::StrCat(Quote(m.source()),
                                   " is a device: sandboxd's binds are nodev (the view's /dev "
                                   "has the default devices)"));
          return;
        }
        if (!CheckMountPoint(*dest, field)) return;
        AddEntry(options.ro ? sbx::MOUNT_KIND_RO_BIND : sbx::MOUNT_KIND_RW_BIND, *dest)
            ->set_source(*real);
        layer.kind = Layer::Kind::kHost;
        layer.host_dir = *real;
        layer.writable = !options.ro;
        layer.read_only = options.ro;
        break;
      }
      case MountType::kTmpfs: {
        if (!CheckMountPoint(*dest, field)) return;
        sbx::MountEntry* e = AddEntry(sbx::MOUNT_KIND_TMPFS, *dest);
        e->set_size(options.size);
        e->set_mode(options.mode);
        layer.kind = Layer::Kind::kTmpfs;
        layer.writable = true;
        break;
      }
      case MountType::kDev:
        if (!CheckMountPoint(*dest, field)) return;
        AddEntry(sbx::MOUNT_KIND_DEV, *dest);
        Note(field, "a tmpfs on /dev is sandboxd's minimal /dev (null, zero, full, random, "
                    "urandom, tty, pts, shm, fd links: the runtime-spec's default devices), "
                    "read-only once made; its size and mode are sandboxd's");
        layer.kind = Layer::Kind::kDev;
        layer.read_only = true;
        break;
      case MountType::kProc:
        if (!spec_.namespaces().pid()) {
          errors_.Add(field, "a private /proc needs a pid namespace in linux.namespaces");
          return;
        }
        if (!CheckMountPoint(*dest, field)) return;
        AddEntry(sbx::MOUNT_KIND_PROC, *dest);
        layer.kind = Layer::Kind::kHost;
        layer.host_dir = "/proc";  // The same kernel's procfs, for readonly/masked paths.
        break;
      case MountType::kSysfs:
      case MountType::kCgroup: {
        const std::string host = *type == MountType::kSysfs ? "/sys" : "/sys/fs/cgroup";
        const Lookup there = view_->Find(*dest);
        if (there.state == Lookup::State::kFound && there.layer->read_only &&
            there.host_path == host) {
          // Already exactly that (crun's /sys/fs/cgroup after its /sys): binds are recursive.
        } else {
          if (!CheckMountPoint(*dest, field)) return;
          AddEntry(sbx::MOUNT_KIND_RO_BIND, *dest)->set_source(host);
        }
        Note(field, absl::StrCat(
                        "sandboxd cannot mount a fresh ", MountTypeName(*type),
                        ": the host's ", host, " is bound read-only instead",
                        *type == MountType::kSysfs
                            ? " (class/net lists the host's interfaces)"
                            : " (the host's cgroup tree, not a cgroup-namespaced view)"));
        layer.kind = Layer::Kind::kHost;
        layer.host_dir = host;
        layer.read_only = true;
        break;
      }
      case MountType::kDevpts: {
        const Layer& covering = view_->Covering(*dest);
        if (*dest != "/dev/pts" || covering.kind != Layer::Kind::kDev || covering.dest != "/dev") {
          errors_.Add(field, absl::StrCat("devpts is only available as /dev/pts of a tmpfs on "
                                          "/dev (sandboxd's /dev), not at ",
                                          Quote(*dest)));
        }
        return;  // sandboxd's /dev has its own new devpts instance.
      }
      case MountType::kMqueue:
        Note(field, absl::StrCat(
                        "not mounted: sandboxd has no mqueue filesystem; POSIX message queues "
                        "still work through mq_open(3) in the container's IPC namespace, they "
                        "are only not listed under ",
                        *dest));
        return;
    }
    view_->Add(std::move(layer));
  }

  // Normalizes linux.<list>[index]; nullopt after an error.
  std::optional<std::string> ListedPath(const std::string& field, const std::string& text) {
    std::optional<std::string> path = NormalizeAbsolute(text, field, &errors_);
    if (path && *path == "/") {
      errors_.Add(field, "\"/\" is the root: use root.readonly");
      return std::nullopt;
    }
    return path;
  }

  void AddReadonlyPath(int index) {
    const std::string field = Field("linux.readonlyPaths", index);
    std::optional<std::string> path = ListedPath(field, oci_.linux().readonly_paths(index));
    if (!path) return;
    const Lookup found = view_->Find(*path);
    if (found.state == Lookup::State::kError) {
      errors_.Add(field, found.error);
      return;
    }
    if (found.state == Lookup::State::kMissing) {
      Note(field, absl::StrCat(*path, " does not exist in the container: nothing to make "
                                      "read-only (skipped, as runc does)"));
      return;
    }
    const Layer& layer = *found.layer;
    if (layer.read_only) return;  // Already read-only.
    if (found.host_path.empty()) {
      errors_.Add(field, absl::StrCat(Quote(*path), " is on the fresh ", layer.dest,
                                      " mount: sandboxd cannot make part of a tmpfs read-only"));
      return;
    }
    AddEntry(sbx::MOUNT_KIND_RO_BIND, *path)->set_source(found.host_path);
  }

  void AddMaskedPath(int index) {
    const std::string field = Field("linux.maskedPaths", index);
    std::optional<std::string> path = ListedPath(field, oci_.linux().masked_paths(index));
    if (!path) return;
    const Lookup found = view_->Find(*path);
    if (found.state == Lookup::State::kError) {
      errors_.Add(field, found.error);
      return;
    }
    if (found.state == Lookup::State::kMissing) {
      Note(field, absl::StrCat(*path, " does not exist in the container: nothing to mask "
                                      "(skipped, as runc does)"));
      return;
    }
    if (found.dir) {
      sbx::MountEntry* e = AddEntry(sbx::MOUNT_KIND_TMPFS, *path);
      e->set_size(kMaskDirSize);
      e->set_mode(kMaskDirMode);
    } else {
      AddEntry(sbx::MOUNT_KIND_FILE, *path);  // Empty, read-only.
    }
  }

  // ---- Process.

  void Process() {
    const oci::v1::Process& p = oci_.process();
    if (p.terminal()) {
      Note("process.terminal",
           "true: containerd-lite gives no terminal; stdin is /dev/null, stdout and stderr go "
           "to files or to the Run stream");
    }
    std::optional<std::string> cwd = NormalizeAbsolute(p.cwd(), "process.cwd", &errors_);
    if (cwd && view_ != nullptr) {
      const Lookup found = view_->Find(*cwd);
      if (found.state == Lookup::State::kError) {
        errors_.Add("process.cwd", found.error);
      } else if (found.state == Lookup::State::kMissing) {
        errors_.Add("process.cwd", absl::StrCat(Quote(*cwd),
                                                " does not exist in the container (sandboxd "
                                                "does not create it)"));
      } else if (!found.dir) {
        errors_.Add("process.cwd", absl::StrCat(Quote(*cwd), " is not a directory"));
      }
      spec_.mutable_filesystem()->set_cwd(*cwd);
    }
    for (const std::string& a : p.args()) spec_.add_argv(a);
    if (!p.args().empty() && cwd) ResolveProgram(*cwd);
    for (const std::string& e : p.env()) spec_.add_env(e);
    FieldErrors argv_env;
    CheckArgvEnv(spec_.argv(), spec_.env(), &argv_env);
    for (const FieldErrors::Error& e : argv_env.errors()) {
      std::string f = e.field;
      if (absl::StartsWith(f, "argv")) f = "process.args" + f.substr(4);
      if (absl::StartsWith(f, "env")) f = "process.env" + f.substr(3);
      errors_.Add(f, e.message);
    }
    Capabilities();
    Rlimits();
  }

  // args[0] as execvp(3) would find it, made absolute.
  void ResolveProgram(const std::string& cwd) {
    const std::string program = spec_.argv(0);
    if (program.empty() || program[0] == '/') return;
    if (program.find('/') != std::string::npos) {
      FieldErrors ignored;
      std::optional<std::string> abs =
          NormalizeAbsolute(absl::StrCat(cwd, "/", program), "process.args[0]", &ignored);
      if (!abs) return;  // CheckArgvEnv reports it.
      spec_.set_argv(0, *abs);
      Note("process.args[0]",
           absl::StrCat(Quote(program), " runs as ", Quote(*abs),
                        " (relative to process.cwd; sandboxd execs absolute paths, so the "
                        "program sees that as argv[0])"));
      return;
    }
    std::string path = kDefaultPath;
    bool has_path = false;
    for (const std::string& e : oci_.process().env()) {
      if (absl::StartsWith(e, "PATH=")) {
        path = e.substr(5);
        has_path = true;
      }
    }
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      if (dir.empty() || dir[0] != '/') continue;
      FieldErrors ignored;
      std::optional<std::string> candidate =
          NormalizeAbsolute(absl::StrCat(dir, "/", program), "", &ignored);
      if (!candidate || view_ == nullptr) continue;
      const Lookup found = view_->Find(*candidate);
      if (found.state == Lookup::State::kFound && found.executable_file) {
        spec_.set_argv(0, *candidate);
        Note("process.args[0]",
             absl::StrCat(Quote(program), " runs as ", Quote(*candidate),
                          " (found in PATH; sandboxd execs absolute paths, so the program "
                          "sees that as argv[0])"));
        return;
      }
    }
    errors_.Add("process.args[0]",
                absl::StrCat(Quote(program), " is not an executable file in any directory of ",
                             has_path ? "the PATH of process.env" : "the default PATH", " (",
                             path, ") inside the container"));
  }

  void Capabilities() {
    const oci::v1::Capabilities& c = oci_.process().capabilities();
    const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> sets[] = {
        {"bounding", &c.bounding()},       {"effective", &c.effective()},
        {"inheritable", &c.inheritable()}, {"permitted", &c.permitted()},
        {"ambient", &c.ambient()},
    };
    CapSet all;
    std::vector<CapSet> each;
    for (const auto& [name, list] : sets) {
      CapSet set;
      for (int i = 0; i < list->size(); ++i) {
        const std::string field = Field(absl::StrCat("process.capabilities.", name), i);
        absl::StatusOr<CapSet> cap = CapSet::Parse(list->Get(i));
        if (!cap.ok() || list->Get(i).empty() ||
            list->Get(i).find_first_of(",=+- ") != std::string::npos) {
          errors_.Add(field, absl::StrCat(Quote(list->Get(i)), " is not a capability name"));
          continue;
        }
        set = set.Union(*cap);
      }
      all = all.Union(set);
      each.push_back(set);
    }
    spec_.set_capabilities(all.ToString());
    if (!all.empty() && std::any_of(each.begin(), each.end(),
                                    [&](const CapSet& s) { return s != all; })) {
      Note("process.capabilities",
           absl::StrCat("sandboxd holds one set: the union (", all.ToString(),
                        ") in the bounding, permitted, effective, inheritable and ambient sets "
                        "inside the user namespace; capd must authorize it"));
    }
  }

  void Rlimits() {
    std::set<std::string> seen;
    for (int i = 0; i < oci_.process().rlimits_size(); ++i) {
      const oci::v1::Rlimit& r = oci_.process().rlimits(i);
      const std::string field = Field("process.rlimits", i);
      auto it = RlimitTypes().find(r.type());
      if (it == RlimitTypes().end()) {
        errors_.Add(field + ".type",
                    r.type().empty() ? std::string("required")
                    : IsOtherLinuxRlimit(r.type())
                        ? absl::StrCat(Quote(r.type()),
                                       " is not supported by sandboxd (RLIMIT_AS, CPU, FSIZE, "
                                       "NOFILE, NPROC, STACK, CORE)")
                        : absl::StrCat("unknown rlimit type ", Quote(r.type())));
        continue;
      }
      if (!seen.insert(r.type()).second) {
        errors_.Add(field + ".type", absl::StrCat(Quote(r.type()), " is listed twice"));
        continue;
      }
      if (!r.has_hard() || !r.has_soft()) {
        if (!r.has_hard()) errors_.Add(field + ".hard", "required");
        if (!r.has_soft()) errors_.Add(field + ".soft", "required");
        continue;
      }
      common::v1::Rlimit out;
      out.set_resource(it->second);
      if (r.hard() == kRlimInfinity && r.soft() == kRlimInfinity) {
        out.set_infinity(true);
      } else if (r.hard() == kRlimInfinity) {
        errors_.Add(field, absl::StrCat("a finite soft limit (", r.soft(),
                                        ") under an infinite hard limit cannot be expressed in "
                                        "sandboxd (both infinite or both finite)"));
        continue;
      } else {
        out.set_hard(r.hard());
        out.set_soft(r.soft());
        if (!CheckRlimit(out, field, &errors_)) continue;
      }
      *spec_.mutable_limits()->add_rlimits() = out;
    }
  }

  // ---- Resources.

  void Resources() {
    const oci::v1::Resources& r = oci_.linux().resources();
    common::v1::ResourceLimits* limits = spec_.mutable_limits();
    auto refuse_set = [&](bool set, const char* field, const std::string& value) {
      if (set) {
        errors_.Add(field, absl::StrCat(value, ": not supported by containerd-lite (sandboxd "
                                               "sets memory.limit, cpu.quota/period and "
                                               "pids.limit)"));
      }
    };
    const oci::v1::Memory& mem = r.memory();
    if (mem.has_limit()) {
      if (mem.limit() > 0) {
        limits->set_memory_bytes(static_cast<uint64_t>(mem.limit()));
      } else if (mem.limit() < -1) {
        errors_.Add("linux.resources.memory.limit",
                    absl::StrCat(mem.limit(), ": must be positive, or -1 (unlimited)"));
      }
    }
    refuse_set(mem.has_reservation(), "linux.resources.memory.reservation",
               absl::StrCat(mem.reservation()));
    refuse_set(mem.has_swap() && mem.swap() != -1, "linux.resources.memory.swap",
               absl::StrCat(mem.swap()));
    refuse_set(mem.has_kernel(), "linux.resources.memory.kernel", absl::StrCat(mem.kernel()));
    refuse_set(mem.has_kernel_tcp(), "linux.resources.memory.kernelTCP",
               absl::StrCat(mem.kernel_tcp()));
    refuse_set(mem.has_swappiness(), "linux.resources.memory.swappiness",
               absl::StrCat(mem.swappiness()));
    refuse_set(mem.has_disable_oom_killer(), "linux.resources.memory.disableOOMKiller",
               mem.disable_oom_killer() ? "true" : "false");
    refuse_set(mem.has_use_hierarchy(), "linux.resources.memory.useHierarchy",
               mem.use_hierarchy() ? "true" : "false");
    refuse_set(mem.has_check_before_update(), "linux.resources.memory.checkBeforeUpdate",
               mem.check_before_update() ? "true" : "false");

    const oci::v1::Cpu& cpu = r.cpu();
    if (cpu.has_quota() && cpu.quota() > 0) {
      const uint64_t period = cpu.has_period() ? cpu.period() : kDefaultCpuPeriodUs;
      if (period == 0) {
        errors_.Add("linux.resources.cpu.period", "must be positive");
      } else {
        const unsigned __int128 millis =
            static_cast<unsigned __int128>(cpu.quota()) * 1000 / period;
        if (millis == 0) {
          errors_.Add("linux.resources.cpu.quota",
                      absl::StrCat(cpu.quota(), " per ", period,
                                   " us is less than a thousandth of a CPU"));
        } else if (millis > UINT32_MAX) {
          errors_.Add("linux.resources.cpu.quota", absl::StrCat(cpu.quota(), ": too large"));
        } else {
          limits->set_cpu_millis(static_cast<uint32_t>(millis));
        }
      }
    } else if (cpu.has_quota() && cpu.quota() < -1) {
      errors_.Add("linux.resources.cpu.quota",
                  absl::StrCat(cpu.quota(), ": must be positive, or -1 (unlimited)"));
    }
    refuse_set(cpu.has_shares(), "linux.resources.cpu.shares", absl::StrCat(cpu.shares()));
    refuse_set(cpu.has_burst(), "linux.resources.cpu.burst", absl::StrCat(cpu.burst()));
    refuse_set(cpu.has_realtime_runtime(), "linux.resources.cpu.realtimeRuntime",
               absl::StrCat(cpu.realtime_runtime()));
    refuse_set(cpu.has_realtime_period(), "linux.resources.cpu.realtimePeriod",
               absl::StrCat(cpu.realtime_period()));
    refuse_set(!cpu.cpus().empty(), "linux.resources.cpu.cpus", Quote(cpu.cpus()));
    refuse_set(!cpu.mems().empty(), "linux.resources.cpu.mems", Quote(cpu.mems()));
    refuse_set(cpu.has_idle(), "linux.resources.cpu.idle", absl::StrCat(cpu.idle()));

    if (r.pids().has_limit()) {
      const int64_t pids = r.pids().limit();
      if (pids > static_cast<int64_t>(UINT32_MAX) || pids < -1) {
        errors_.Add("linux.resources.pids.limit",
                    absl::StrCat(pids, ": must be 1-", UINT32_MAX, ", or 0 or -1 (unlimited)"));
      } else if (pids > 0) {
        limits->set_pids(static_cast<uint32_t>(pids));
      }
    }
    Devices();
  }

  void Devices() {
    const auto& rules = oci_.linux().resources().devices();
    for (int i = 0; i < rules.size(); ++i) {
      const oci::v1::DeviceRule& d = rules[i];
      const std::string field = Field("linux.resources.devices", i);
      const std::string type = d.type().empty() ? "a" : d.type();
      if (type != "a" && type != "c" && type != "b") {
        errors_.Add(field + ".type", absl::StrCat(Quote(d.type()), ": must be a, c or b"));
        continue;
      }
      if (d.access().find_first_not_of("rwm") != std::string::npos) {
        errors_.Add(field + ".access",
                    absl::StrCat(Quote(d.access()), ": only the letters r, w and m"));
        continue;
      }
      if (!d.allow()) continue;  // Nothing beyond the default devices exists in the view.
      const bool defaults_only = type == "c" && d.has_major() && d.major() >= 0 &&
                                 IsDefaultDevice(d.major(), d.has_minor() ? d.minor() : -1);
      if (!defaults_only) {
        errors_.Add(field, absl::StrCat(
                               "allowing ", type, " ",
                               d.has_major() ? absl::StrCat(d.major()) : std::string("*"), ":",
                               d.has_minor() ? absl::StrCat(d.minor()) : std::string("*"),
                               " is not supported: the container's /dev is sandboxd's minimal "
                               "set (c 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:2, 136:*)"));
      }
    }
  }

  // ---- seccomp.

  void Seccomp() {
    if (!oci_.linux().has_seccomp()) {
      Note("linux.seccomp",
           "absent: sandboxd's \"default\" profile applies (an OCI runtime would run the "
           "process without a filter)");
      return;
    }
    const oci::v1::Seccomp& s = oci_.linux().seccomp();
    for (int i = 0; i < s.flags_size(); ++i) {
      const std::string field = Field("linux.seccomp.flags", i);
      const std::string& f = s.flags(i);
      if (f == "SECCOMP_FILTER_FLAG_TSYNC" || f == "SECCOMP_FILTER_FLAG_LOG") continue;
      if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
        Note(field, "SECCOMP_FILTER_FLAG_SPEC_ALLOW is not applied (the kernel's speculative "
                    "store bypass mitigation stays on)");
        continue;
      }
      errors_.Add(field, absl::StrCat(Quote(f), " is not supported by containerd-lite"));
    }
    for (int i = 0; i < s.architectures_size(); ++i) {
      if (s.architectures(i) != "SCMP_ARCH_X86_64") {
        Note(Field("linux.seccomp.architectures", i),
             absl::StrCat(s.architectures(i),
                          ": sandboxd filters the native architecture only and kills a "
                          "process that makes a syscall of another"));
      }
    }
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    auto printed = google::protobuf::util::MessageToJsonString(s, &json, print);
    if (!printed.ok()) {
      errors_.Add("linux.seccomp", printed.message().ToString());
      return;
    }
    absl::StatusOr<sbx::SeccompProfile> imported =
        sandboxd::ImportOciProfile(json, sandboxd::RunningKernelRelease());
    if (!imported.ok()) {
      for (absl::string_view part : absl::StrSplit(imported.status().message(), "; ")) {
        const size_t colon = part.find(": ");
        if (colon == absl::string_view::npos) {
          errors_.Add("linux.seccomp", part);
        } else {
          errors_.Add(absl::StrCat("linux.seccomp.", part.substr(0, colon)),
                      part.substr(colon + 2));
        }
      }
      return;
    }
    spec_.mutable_seccomp()->set_oci_json(json);
  }

  const Bundle& bundle_;
  const oci::v1::Spec& oci_;
  const IdMapping& uid_map_;
  const IdMapping& gid_map_;
  std::unique_ptr<View> view_;
  sbx::SandboxSpec spec_;
  FieldErrors errors_;
  std::vector<std::string> notes_;
};

}  // namespace

absl::StatusOr<oci::v1::Spec> ParseOciConfig(absl::string_view json) {
  const google::protobuf::StringPiece text(json.data(), json.size());
  google::protobuf::Value tree;
  auto parsed = google::protobuf::util::JsonStringToMessage(text, &tree);
  if (!parsed.ok()) return TranslateParseError(parsed.message().ToString());
  if (tree.kind_case() != google::protobuf::Value::kStructValue) {
    return absl::InvalidArgumentError(absl::StrCat(kConfigName, ": must be a JSON object"));
  }
  FieldErrors unsupported;
  FindUnsupportedKeys(tree, oci::v1::Spec::descriptor(), "", &unsupported);
  SECUREOS_RETURN_IF_ERROR(unsupported.ToConfigStatus(kConfigName, nullptr));

  oci::v1::Spec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  parsed = google::protobuf::util::JsonStringToMessage(text, &spec, options);
  if (!parsed.ok()) return TranslateParseError(parsed.message().ToString());
  return spec;
}

absl::StatusOr<Bundle> LoadBundle(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("bundle directory: required");
  Bundle bundle;
  SECUREOS_ASSIGN_OR_RETURN(bundle.dir, RealPath(dir));
  struct stat st;
  if (::stat(bundle.dir.c_str(), &st) != 0) return ErrnoToStatus(errno, bundle.dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(bundle.dir, ": not a directory"));
  }
  const std::string config_path = absl::StrCat(bundle.dir, "/", kConfigName);
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path, kMaxConfigBytes));
  SECUREOS_ASSIGN_OR_RETURN(bundle.spec, ParseOciConfig(text));
  const oci::v1::Spec& spec = bundle.spec;

  FieldErrors errors;
  if (spec.oci_version().empty()) {
    errors.Add("ociVersion", "required");
  } else if (!SupportedVersion(spec.oci_version())) {
    errors.Add("ociVersion", absl::StrCat(Quote(spec.oci_version()),
                                          " is not supported: containerd-lite reads "
                                          "runtime-spec 1.0.x and 1.1.x"));
  }
  if (!spec.has_process()) {
    errors.Add("process", "required");
  } else {
    if (spec.process().args().empty()) {
      errors.Add("process.args", "required: at least the program to run");
    }
    if (spec.process().cwd().empty()) {
      errors.Add("process.cwd", "required");
    } else if (spec.process().cwd()[0] != '/') {
      errors.Add("process.cwd",
                 absl::StrCat("must be absolute, got ", Quote(spec.process().cwd())));
    }
  }
  if (spec.root().path().empty()) {
    errors.Add("root.path", "required");
  } else {
    const std::string& path = spec.root().path();
    const std::string abs = path[0] == '/' ? path : absl::StrCat(bundle.dir, "/", path);
    absl::StatusOr<std::string> rootfs = RealPath(abs);
    if (!rootfs.ok()) {
      errors.Add("root.path", absl::StrCat(Quote(path), ": ", rootfs.status().message()));
    } else if (::stat(rootfs->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      errors.Add("root.path", absl::StrCat(Quote(path), " (", *rootfs, ") is not a directory"));
    } else {
      bundle.rootfs = *rootfs;
    }
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToConfigStatus(kConfigName, nullptr));
  return bundle;
}

bool DeclaresUserNamespace(const oci::v1::Spec& spec) {
  return std::any_of(spec.linux().namespaces().begin(), spec.linux().namespaces().end(),
                     [](const oci::v1::Namespace& n) { return n.type() == "user"; });
}

absl::StatusOr<sandboxd::v1::SandboxSpec> ToSandboxSpec(const Bundle& bundle,
                                                        const IdMapping& uid_map,
                                                        const IdMapping& gid_map,
                                                        std::vector<std::string>* notes) {
  SECUREOS_RETURN_IF_ERROR(CheckIdMapping(uid_map, "uid_map"));
  SECUREOS_RETURN_IF_ERROR(CheckIdMapping(gid_map, "gid_map"));
  if (bundle.rootfs.empty()) {
    return absl::InvalidArgumentError("bundle: not loaded (no rootfs): use LoadBundle");
  }
  Translator translator(bundle, uid_map, gid_map);
  return translator.Run(notes);
}

}  // namespace secureos::ctr
