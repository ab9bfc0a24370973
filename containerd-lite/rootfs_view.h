// The container's view of its files, as sandboxd will build it from a bundle, and the
// root of that view.
//
// sandboxd cannot take a directory as the new root: the root is a tmpfs (ROOT_TMPFS) with
// one entry per top-level name of the rootfs (BindRootfs). The bundle's mounts then stack
// on it. RootfsView follows that stack as layers so that a path of the container can be
// looked up (is it there, a directory, an executable file, which host object is it) before
// anything runs: for mount points, process.cwd, PATH lookup, masked and read-only paths.
// Lookups resolve symlinks the way sandboxd will inside the view: never out of a layer's
// host directory (openat2 RESOLVE_IN_ROOT).
#ifndef SECUREOS_CONTAINERD_LITE_ROOTFS_VIEW_H_
#define SECUREOS_CONTAINERD_LITE_ROOTFS_VIEW_H_

#include <deque>
#include <set>
#include <string>

#include "containerd-lite/oci_report.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

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
  std::string error;      // kError: what failed, naming the host path.
  const Layer* layer = nullptr;  // The layer that holds the path (RootfsView::Find).
};

// Opens `rel` (relative; empty: `dir` itself) under the host directory `dir` with every
// symlink resolved inside `dir`, and says what it is. A missing object (ENOENT, ENOTDIR) is
// kMissing; other failures are kError.
Lookup ResolveUnder(const std::string& dir, const std::string& rel);

class RootfsView {
 public:
  // The view of `rootfs` (a canonical host directory) alone, whose top-level names are
  // `top_level_names`; read-only when `readonly_root`.
  RootfsView(const std::string& rootfs, bool readonly_root, std::set<std::string> top_level_names);

  // Stacks a mount on the view (later layers cover earlier ones).
  void Add(Layer layer);

  // The topmost layer that holds `path` (normalized, absolute).
  const Layer& Covering(const std::string& path) const;

  // What is at `path` (normalized, absolute). A missing path that is a mount point of a
  // layer is a directory. Lookup::layer is the covering layer, valid as long as the view.
  Lookup Find(const std::string& path) const;

  // Whether sandboxd can make a missing mount point at `path`: below a writable layer, or
  // a new top-level name (made on the root tmpfs).
  bool CanMakeMountPoint(const std::string& path) const;

 private:
  std::set<std::string> top_level_;
  std::deque<Layer> layers_;  // A deque: Lookup::layer stays valid as layers are added.
};

// Appends an entry of `kind` at `target` to `fs`, for the caller to complete.
sandboxd::v1::MountEntry* AddEntry(sandboxd::v1::Filesystem* fs, sandboxd::v1::MountKind kind,
                                   const std::string& target);

// The root of the view: appends to `fs` one entry per top-level name of `rootfs`, in name
// order: a directory or file is bound (RO_BIND when `readonly`, else RW_BIND), a symlink is
// re-made as a SYMLINK with the same text; any other type is a "root.path" error, as is a
// rootfs that cannot be read. Returns the view of that root. Does not set fs->root.
RootfsView BindRootfs(const std::string& rootfs, bool readonly, sandboxd::v1::Filesystem* fs,
                      OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_ROOTFS_VIEW_H_
