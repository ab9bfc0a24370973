#include "sandboxd/cgroup/cgroup_layout.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos::sandboxd {
namespace {

constexpr CgroupController kAllControllers[] = {
    CgroupController::kMemory, CgroupController::kCpu, CgroupController::kCpuacct,
    CgroupController::kPids};

// The fields of one mountinfo line this library needs.
struct MountLine {
  std::string id;
  std::string parent_id;
  std::string device;       // "major:minor"; the same for every mount of one hierarchy.
  std::string mount_point;  // Unescaped.
  std::string fs_type;
  std::string super_options;
};

// mountinfo escapes space, tab, newline and backslash as a backslash and three octal digits.
std::string Unescape(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '3' &&
        in[i + 2] >= '0' && in[i + 2] <= '7' && in[i + 3] >= '0' && in[i + 3] <= '7') {
      out.push_back(static_cast<char>((in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 +
                                      (in[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// Fields: id parent major:minor root mount_point options [optional...] - type source super.
std::optional<MountLine> ParseLine(absl::string_view line) {
  std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
  auto dash = std::find(f.begin(), f.end(), "-");
  if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) {
    return std::nullopt;
  }
  if (f[4].empty() || f[4][0] != '/') return std::nullopt;
  return MountLine{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                   Unescape(f[4]), std::string(dash[1]), std::string(dash[3])};
}

bool IsAtOrUnder(absl::string_view path, absl::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (absl::StartsWith(path, dir) && path[dir.size()] == '/');
}

std::optional<CgroupController> ControllerByName(absl::string_view name) {
  for (CgroupController c : kAllControllers) {
    if (CgroupControllerName(c) == name) return c;
  }
  return std::nullopt;
}

// `m` is hidden when another mount sits on or above its mount point without being one of
// its ancestors: that mount was stacked later over `m` or over a directory above it. (The
// order of mountinfo lines is not mount order, so the tree is used, not the line order.)
bool Hidden(const MountLine& m, const std::vector<MountLine>& all,
            const absl::flat_hash_map<absl::string_view, absl::string_view>& parent_of) {
  absl::flat_hash_set<absl::string_view> ancestors;
  absl::string_view id = m.parent_id;
  while (ancestors.insert(id).second) {  // Stops on a cycle, too.
    auto it = parent_of.find(id);
    if (it == parent_of.end()) break;
    id = it->second;
  }
  return std::any_of(all.begin(), all.end(), [&](const MountLine& other) {
    return other.id != m.id && !ancestors.contains(other.id) &&
           IsAtOrUnder(m.mount_point, other.mount_point);
  });
}

// The hierarchies of the visible cgroup mounts, first mount of each hierarchy only.
std::vector<CgroupHierarchy> VisibleHierarchies(const std::vector<MountLine>& all) {
  std::vector<CgroupHierarchy> out;
  std::vector<absl::string_view> devices;
  absl::flat_hash_map<absl::string_view, absl::string_view> parent_of;
  for (const MountLine& m : all) parent_of[m.id] = m.parent_id;
  for (const MountLine& m : all) {
    int version = m.fs_type == "cgroup2" ? 2 : m.fs_type == "cgroup" ? 1 : 0;
    if (version == 0 || Hidden(m, all, parent_of)) continue;
    bool seen = std::find(devices.begin(), devices.end(), m.device) != devices.end() ||
                (version == 2 && std::any_of(out.begin(), out.end(), [](const auto& h) {
                   return h.version == 2;
                 }));
    if (seen) continue;
    CgroupHierarchy h;
    h.version = version;
    h.mount_point = m.mount_point;
    for (absl::string_view option : absl::StrSplit(m.super_options, ',')) {
      std::optional<CgroupController> c = ControllerByName(option);
      if (version == 1 && c) h.controllers.push_back(*c);
    }
    if (version == 1 && h.controllers.empty()) continue;  // name=systemd, devices...
    devices.push_back(m.device);
    out.push_back(std::move(h));
  }
  return out;
}

// Fills the v2 hierarchy's controllers from its root's cgroup.controllers (cpuacct is a v1
// name only, never listed there).
absl::Status ReadV2Controllers(const CgroupLayout::FileReader& read_file, CgroupHierarchy* h) {
  std::string path = absl::StrCat(h->mount_point == "/" ? "" : h->mount_point,
                                  "/cgroup.controllers");
  absl::StatusOr<std::string> text = read_file(path);
  if (!text.ok()) return Annotate(text.status(), "reading cgroup2 controllers");
  for (absl::string_view name : absl::StrSplit(*text, absl::ByAnyChar(" \n"),
                                               absl::SkipEmpty())) {
    std::optional<CgroupController> c = ControllerByName(name);
    if (c && *c != CgroupController::kCpuacct) h->controllers.push_back(*c);
  }
  return absl::OkStatus();
}

// The kernel binds a controller to one hierarchy; should the text claim one twice, the
// first claim wins, so that Find() is unambiguous and there are at most kMaxHierarchies.
void DropDuplicateClaims(std::vector<CgroupHierarchy>* hierarchies) {
  std::vector<CgroupHierarchy> kept;
  for (CgroupHierarchy& h : *hierarchies) {
    auto claimed = [&](CgroupController c) {
      return std::any_of(kept.begin(), kept.end(),
                         [&](const CgroupHierarchy& k) { return k.Holds(c); });
    };
    h.controllers.erase(std::remove_if(h.controllers.begin(), h.controllers.end(), claimed),
                        h.controllers.end());
    if (h.version == 2 || !h.controllers.empty()) kept.push_back(std::move(h));
  }
  *hierarchies = std::move(kept);
}

}  // namespace

absl::string_view CgroupControllerName(CgroupController controller) {
  switch (controller) {
    case CgroupController::kMemory:
      return "memory";
    case CgroupController::kCpu:
      return "cpu";
    case CgroupController::kCpuacct:
      return "cpuacct";
    case CgroupController::kPids:
      return "pids";
  }
  return "unknown";
}

bool CgroupHierarchy::Holds(CgroupController controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

absl::StatusOr<CgroupLayout> CgroupLayout::Discover() {
  SECUREOS_ASSIGN_OR_RETURN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  return FromMountinfo(mountinfo, [](const std::string& path) { return ReadFile(path); });
}

absl::StatusOr<CgroupLayout> CgroupLayout::FromMountinfo(absl::string_view mountinfo,
                                                         const FileReader& read_file) {
  std::vector<MountLine> mounts;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::optional<MountLine> m = ParseLine(line);
    if (!m) {
      return absl::InvalidArgumentError(
          absl::StrCat("mountinfo line ", line_number, ": malformed: \"", line, "\""));
    }
    mounts.push_back(std::move(*m));
  }
  CgroupLayout layout;
  layout.hierarchies_ = VisibleHierarchies(mounts);
  for (CgroupHierarchy& h : layout.hierarchies_) {
    if (h.version == 2) SECUREOS_RETURN_IF_ERROR(ReadV2Controllers(read_file, &h));
  }
  DropDuplicateClaims(&layout.hierarchies_);
  return layout;
}

const CgroupHierarchy* CgroupLayout::Find(CgroupController controller) const {
  for (const CgroupHierarchy& h : hierarchies_) {
    if (h.Holds(controller)) return &h;
  }
  return nullptr;
}

std::string CgroupHierarchy::BaseDir() const {
  return base == "/" ? mount_point : absl::StrCat(mount_point, base);
}

CgroupLayout CgroupLayout::WithBases(const std::vector<std::string>& bases) const {
  CgroupLayout out = *this;
  for (size_t i = 0; i < out.hierarchies_.size() && i < bases.size(); ++i) {
    out.hierarchies_[i].base = bases[i];
  }
  return out;
}

bool CgroupLayout::unified() const {
  return hierarchies_.size() == 1 && hierarchies_[0].version == 2;
}

std::string CgroupLayout::Describe() const {
  std::vector<std::string> parts;
  for (CgroupController c : kAllControllers) {
    const CgroupHierarchy* h = Find(c);
    parts.push_back(h == nullptr ? absl::StrCat(CgroupControllerName(c), ": none")
                                 : absl::StrCat(CgroupControllerName(c), ": v", h->version,
                                                " ", h->BaseDir()));
  }
  auto v2 = std::find_if(hierarchies_.begin(), hierarchies_.end(),
                         [](const CgroupHierarchy& h) { return h.version == 2; });
  parts.push_back(v2 == hierarchies_.end() ? "cgroup2: none"
                                           : absl::StrCat("cgroup2: ", v2->BaseDir()));
  return absl::StrJoin(parts, "; ");
}

}  // namespace secureos::sandboxd
