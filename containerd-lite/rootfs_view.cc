#include "containerd-lite/rootfs_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fd.h"
#include "common/status.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// An O_PATH fd of `rel` under `dir` with symlinks resolved inside `dir`, or -1 (errno set).
int OpenUnder(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return RetryOnEintr([&] { return ::open(dir.c_str(), O_PATH | O_CLOEXEC); });
  UniqueFd root(
      RetryOnEintr([&] { return ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }));
  if (!root.valid()) return -1;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int raw = -1;
  for (int attempt = 0; attempt < 16; ++attempt) {
    raw = static_cast<int>(RetryOnEintr(
        [&] { return ::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof(how)); }));
    if (raw >= 0 || errno != EAGAIN) break;
  }
  return raw;
}

// What the open `fd` (of `rel` under `dir`) is.
Lookup Describe(int fd, const std::string& dir, const std::string& rel) {
  Lookup out;
  struct stat st;
  char link[PATH_MAX];
  const std::string self = absl::StrCat("/proc/self/fd/", fd);
  const ssize_t n = ::readlink(self.c_str(), link, sizeof(link) - 1);
  if (::fstat(fd, &st) != 0 || n <= 0) {
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

Lookup Found(bool dir) {
  Lookup out;
  out.state = Lookup::State::kFound;
  out.dir = dir;
  return out;
}

// What is at `rel` (relative to layer.dest; empty: dest itself) in `layer` alone.
Lookup FindInLayer(const Layer& layer, const std::string& rel) {
  switch (layer.kind) {
    case Layer::Kind::kRootfs:
    case Layer::Kind::kHost:
      return ResolveUnder(layer.host_dir, rel);
    case Layer::Kind::kTmpfs:
      if (rel.empty()) return Found(/*dir=*/true);
      break;
    case Layer::Kind::kDev:
      if (rel.empty() || rel == "pts" || rel == "shm") return Found(true);
      if (rel == "null" || rel == "zero" || rel == "full" || rel == "random" ||
          rel == "urandom" || rel == "tty" || rel == "ptmx") {
        return Found(false);
      }
      break;
  }
  return Lookup();
}

// The names in the open rootfs `dir` but "." and ".."; false after a read error (added to
// `report`), with the names read so far.
bool ReadNames(DIR* dir, const std::string& rootfs, std::set<std::string>* names,
               OciReport* report) {
  errno = 0;
  while (const dirent* d = ::readdir(dir)) {
    const std::string name = d->d_name;
    if (name != "." && name != "..") names->insert(name);
  }
  if (errno != 0) {
    report->Error("root.path", ErrnoToStatus(errno, "read " + rootfs).message());
    return false;
  }
  return true;
}

// The entry of the root for the top-level `name` of the open rootfs `dir`.
void AddTopLevelEntry(DIR* dir, const std::string& rootfs, const std::string& name,
                      bool readonly, sbx::Filesystem* fs, OciReport* report) {
  struct stat st;
  const std::string target = "/" + name;
  if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    report->Error("root.path", ErrnoToStatus(errno, absl::StrCat(rootfs, target)).message());
    return;
  }
  if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
    AddEntry(fs, readonly ? sbx::MOUNT_KIND_RO_BIND : sbx::MOUNT_KIND_RW_BIND, target)
        ->set_source(rootfs + target);
  } else if (S_ISLNK(st.st_mode)) {
    char text[PATH_MAX];
    const ssize_t n = ::readlinkat(::dirfd(dir), name.c_str(), text, sizeof(text));
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof(text))) {
      report->Error("root.path",
                    ErrnoToStatus(errno, absl::StrCat("readlink ", rootfs, target)).message());
      return;
    }
    AddEntry(fs, sbx::MOUNT_KIND_SYMLINK, target)->set_source(std::string(text, n));
  } else {
    report->Error("root.path", absl::StrCat("the rootfs entry ", Quote(target),
                                            " is not a directory, file or symlink: only those "
                                            "can be placed at the top of sandboxd's root"));
  }
}

}  // namespace

Lookup ResolveUnder(const std::string& dir, const std::string& rel) {
  const int raw = OpenUnder(dir, rel);
  if (raw < 0) {
    const int err = errno;
    Lookup out;
    if (err == ENOENT || err == ENOTDIR) return out;
    out.state = Lookup::State::kError;
    out.error = std::string(
        ErrnoToStatus(err, absl::StrCat(dir, rel.empty() ? "" : "/", rel)).message());
    return out;
  }
  UniqueFd fd(raw);
  return Describe(fd.get(), dir, rel);
}

RootfsView::RootfsView(const std::string& rootfs, bool readonly_root,
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

void RootfsView::Add(Layer layer) { layers_.push_back(std::move(layer)); }

const Layer& RootfsView::Covering(const std::string& path) const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (IsUnder(path, it->dest)) return *it;
  }
  return layers_.front();
}

Lookup RootfsView::Find(const std::string& path) const {
  const Layer& layer = Covering(path);
  const std::string rel = path == layer.dest ? std::string()
                          : layer.dest == "/" ? path.substr(1)
                                              : path.substr(layer.dest.size() + 1);
  Lookup out = FindInLayer(layer, rel);
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

bool RootfsView::CanMakeMountPoint(const std::string& path) const {
  const Layer& layer = Covering(path);
  if (layer.kind != Layer::Kind::kRootfs) return layer.writable;
  // Top-level names are made on the root tmpfs; below a rootfs name, in the rootfs.
  const std::string first(absl::string_view(path).substr(1, path.find('/', 1) - 1));
  return layer.writable || top_level_.count(first) == 0;
}

sbx::MountEntry* AddEntry(sbx::Filesystem* fs, sbx::MountKind kind, const std::string& target) {
  sbx::MountEntry* e = fs->add_entries();
  e->set_kind(kind);
  e->set_target(target);
  return e;
}

RootfsView BindRootfs(const std::string& rootfs, bool readonly, sbx::Filesystem* fs,
                      OciReport* report) {
  std::set<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(rootfs.c_str()), &::closedir);
  if (dir == nullptr) {
    report->Error("root.path", ErrnoToStatus(errno, rootfs).message());
  } else if (ReadNames(dir.get(), rootfs, &names, report)) {
    for (const std::string& name : names) {
      AddTopLevelEntry(dir.get(), rootfs, name, readonly, fs, report);
    }
  }
  return RootfsView(rootfs, readonly, std::move(names));
}

}  // namespace secureos::ctr
