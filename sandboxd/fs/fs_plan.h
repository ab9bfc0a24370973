// The workload's filesystem view: a validated plan (BuildFsPlan, in the parent) and its
// application inside the child (ApplyFsPlan, between clone and exec).
//
// BuildFsPlan checks a v1::Filesystem completely, reports every bad field at once, and
// prepares every path, mount data string and file content the child needs. ApplyFsPlan then
// only makes raw syscalls on that data: no allocation, no locks, no logging.
//
// How ApplyFsPlan builds the view (bubblewrap's two-pivot scheme, with the new mount API):
//   1. unshare(CLONE_NEWNS) (so that a caller that forgot CLONE_NEWNS still cannot touch its
//      own namespace), then "/" is made MS_REC|MS_PRIVATE: nothing propagates to the host.
//   2. A staging tmpfs is mounted on /tmp and pivot_root'ed into; the host tree stays
//      reachable at /oldroot of the staging root, complete (the staging mount left /tmp).
//   3. The new root is made at /newroot of the staging tmpfs: ROOT_HOST_READ_ONLY is a
//      recursive clone of the host tree (open_tree) made MOUNT_ATTR_RDONLY|NOSUID|NODEV with
//      AT_RECURSIVE; ROOT_TMPFS is a tmpfs (mode 0755) made read-only after the entries.
//   4. Each entry, in order. Bind sources are host paths, resolved under the host root with
//      openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). Targets are resolved the same way
//      under an fd of the new root, so a symlink (even one planted in a bind source, even
//      one pointing at "/") can only lead to a place inside the new root. Mounts are made
//      detached (open_tree) or on the staging directory /m, then attached to the resolved
//      O_PATH fd with move_mount: no mount ever goes through a path outside the new root.
//      Missing mount points are created (directories, or an empty file when the source is
//      not a directory); this needs a writable parent (a TMPFS or the ROOT_TMPFS root).
//   5. pivot_root(".", ".") inside the new root and umount2(".", MNT_DETACH) drop the staging
//      tmpfs and the whole host tree; then chdir(cwd), resolved inside the view.
//
// Mount flags: binds, tmpfs and FILE binds are nosuid,nodev (RO_BIND and FILE also
// read-only, recursively for binds); PROC is nosuid,nodev,noexec; the DEV tmpfs is
// nosuid,nodev,noexec and read-only once populated (its device binds are not nodev).
// ROOT_HOST_READ_ONLY is nodev too, so the host's /dev nodes only work through a DEV entry.
//
// Kernel facts met on the way (Linux 6.18):
//   - tmpfs refuses "nosuid"/"nodev" in mount data (EINVAL, dmesg "tmpfs: Unknown parameter
//     'nosuid'"): they are mount flags, never data.
//   - procfs in a user namespace: the mounter must be inside the pid namespace the /proc
//     shows (task_active_pid_ns: call this in the clone(CLONE_NEWPID) child, not after
//     unshare(CLONE_NEWPID) in the same process), with CAP_SYS_ADMIN over its owning user
//     namespace, and the mount namespace must already hold a fully visible procfs (no
//     overmounts hiding files; Docker-style masked /proc makes the mount fail with EPERM).
//     The host's /proc at /oldroot/proc of the staging root is that visible procfs, which is
//     why /proc is mounted before the host tree is detached. Flags locked on it (nosuid,
//     nodev, noexec) must be repeated; we always set them.
//   - Device nodes cannot be created in a user namespace (mknod EPERM), but host nodes can be
//     bind-mounted; a bind keeps working when it is not nodev.
//   - devpts "newinstance,ptmxmode=0666,mode=0620" mounts fine in a user namespace; "gid=5"
//     fails there unless gid 5 is mapped, so it is only added without a user namespace.
//   - In a user namespace the mounts inherited from the host are locked: a non-recursive
//     bind of a directory with locked submounts fails (EINVAL), hence AT_RECURSIVE clones;
//     detaching the whole old tree at once (MNT_DETACH of its parent) is allowed.
//   - pivot_root needs the new root's parent mount not to be shared (step 1) and the caller
//     not to be chrooted; with a shared "/" (systemd) it fails with EINVAL.
//   - After clone(CLONE_NEWUSER) the child keeps its parent's host ids. When the map sends
//     0 to another host id ("0 65534 1"), those ids are unmapped inside, and creating a file
//     or directory on a tmpfs it mounts fails with EOVERFLOW. The child must first become
//     uid/gid 0 of its namespace (setresgid(0,0,0), setresuid(0,0,0); caps are kept).
//   - Magic links ("/proc/self/root", which points at the staging root while the plan is
//     applied) are refused with ELOOP by RESOLVE_NO_MAGICLINKS; RESOLVE_IN_ROOT alone refuses
//     the escaping ones with EXDEV.
//
// Security notes: mounts made here are not locked against the workload. A workload that
// keeps CAP_SYS_ADMIN over its mount namespace (e.g. root in its user namespace without a
// seccomp filter on mount/umount2/mount_setattr) could unmount an overmount or remount a
// read-only bind read-write (its writes are still checked against its host ids). The
// launcher must drop that capability or filter those syscalls before exec. Without a PROC
// entry, ROOT_HOST_READ_ONLY shows the host's /proc and /sys (read-only).
#ifndef SECUREOS_SANDBOXD_FS_FS_PLAN_H_
#define SECUREOS_SANDBOXD_FS_FS_PLAN_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// Limits BuildFsPlan enforces.
inline constexpr int kMaxFsEntries = 256;
inline constexpr size_t kMaxFileContent = 64 * 1024;
inline constexpr uint64_t kDefaultTmpfsSize = 16u << 20;

// One prepared entry. Every string is owned here and only read (c_str) by the child.
struct FsStep {
  enum class Kind { kRoBind, kRwBind, kTmpfs, kProc, kDev, kSymlink, kFile, kDir };
  Kind kind = Kind::kDir;
  std::string target;        // Normalized absolute path in the view: "/usr/lib".
  std::string target_rel;    // The same without the leading '/': "usr/lib".
  std::string parent_rel;    // Its parent, relative: "usr" ("." for a top-level target).
  std::string leaf;          // Its last component: "lib".
  std::string source_rel;    // Binds: the host path relative to the host root ("." for "/").
  std::string link_text;     // Symlinks: the link's text, as given.
  std::string mount_data;    // Tmpfs: TmpfsMountData(size, mode).
  std::string content;       // File: the bytes.
  std::string staging_path;  // File: where the content is written first ("/file-3").
  mode_t mode = 0;           // Dir and file.
  bool optional = false;     // Binds: a missing source skips the entry.
  std::string description;   // What *failed_step names: "bind /etc -> /etc".
};

struct FsPlan {
  bool tmpfs_root = false;  // ROOT_TMPFS; otherwise ROOT_HOST_READ_ONLY.
  std::vector<FsStep> steps;
  std::string cwd = "/";
  std::string cwd_step;      // "chdir /work".
  std::string staging_data;  // The staging tmpfs (sized for the FILE contents).
  std::string root_data;     // ROOT_TMPFS.
  std::string dev_data;      // The DEV tmpfs.
  std::string shm_data;      // DEV's /dev/shm.
  std::string devpts_data;   // DEV's /dev/pts.
};

// Validates `fs` and prepares the plan. Errors are one INVALID_ARGUMENT naming every bad
// field as the proto spells it, e.g. `filesystem.entries[2].size: "1m,exec" is not a size:
// ...`, `filesystem.entries[0].target: must be absolute`, `filesystem.entries[3]: a private
// /proc needs a pid namespace`. Targets, sources and cwd are normalized ("//" and "."
// dropped, no trailing "/"); ".." is refused. `pid_namespace`: the workload gets its own pid
// namespace (PROC needs it). `user_namespace`: it gets a user namespace (devpts options).
absl::StatusOr<FsPlan> BuildFsPlan(const v1::Filesystem& fs, bool pid_namespace,
                                   bool user_namespace);

// In the child, after clone(CLONE_NEWNS [| CLONE_NEWUSER with uid/gid maps written, then
// setresgid/setresuid(0, 0, 0)] [| CLONE_NEWPID], as pid 1 of that pid namespace) and before
// exec: builds the view as described above, pivots into it and
// chdirs to plan.cwd. No allocation, no locks, raw syscalls only; async-signal-safe. The
// umask is restored before returning. Returns 0, or an errno with *failed_step (when not
// null) pointing at a static or plan-owned string naming the step and path ("bind /etc ->
// /etc", "mount proc on /proc", "pivot_root into the new root"). On failure the mount
// namespace is left half-built: the child must exit, not exec.
int ApplyFsPlan(const FsPlan& plan, const char** failed_step);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_FS_FS_PLAN_H_
