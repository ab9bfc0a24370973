// ApplyFsPlan: runs in the child between clone and exec. Everything here is a raw syscall on
// data the plan owns or on stack buffers; no allocation, no locks, no libc state.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "common/fd.h"
#include "sandboxd/fs/fs_plan.h"

namespace secureos::sandboxd {
namespace {

// Paths of the staging tmpfs (the process root between the two pivots).
constexpr char kStaging[] = "/tmp";
constexpr char kStagingOldRoot[] = "/tmp/oldroot";
constexpr char kOldRoot[] = "/oldroot";
constexpr char kNewRoot[] = "/newroot";
constexpr char kScratch[] = "/m";  // Where a tmpfs, proc or dev is made before it is moved.
constexpr char kFsName[] = "sandbox";

constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

struct Context {
  const FsPlan* plan;
  const char** failed_step;
  int old_root = -1;  // The host tree, under the staging root.
  int new_root = -1;  // The view being built.
};

// Records the failed step and returns errno, which the failing call just set.
int Fail(const Context& ctx, const char* step) {
  const int err = errno != 0 ? errno : EIO;
  *ctx.failed_step = step;
  return err;
}

void CloseFd(int fd) {
  if (fd >= 0) close(fd);  // Never retried: the descriptor is gone even on EINTR.
}

// openat2 scoped to `root`. EAGAIN is the kernel's answer to a concurrent rename or mount
// during a scoped lookup; trying again is what it asks for.
int OpenIn(int root, const char* path, uint64_t flags) {
  open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = flags | O_PATH | O_CLOEXEC;
  how.resolve = kResolve;
  for (int attempt = 0;; ++attempt) {
    int fd = static_cast<int>(
        RetryOnEintr([&] { return syscall(SYS_openat2, root, path, &how, sizeof(how)); }));
    if (fd >= 0 || errno != EAGAIN || attempt == 16) return fd;
  }
}

int OpenTree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(syscall(SYS_open_tree, dirfd, path, flags | OPEN_TREE_CLOEXEC));
}

int MoveMount(int from_dirfd, const char* from, int to_dirfd, const char* to, unsigned flags) {
  return static_cast<int>(syscall(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags));
}

int SetAttr(int dirfd, const char* path, unsigned flags, uint64_t attr_set) {
  mount_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attr_set = attr_set;
  return static_cast<int>(syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr)));
}

// Moves the mount at `scratch` (in the staging root) onto the O_PATH fd `target`.
int MoveScratchTo(int target) {
  return MoveMount(AT_FDCWD, kScratch, target, "", MOVE_MOUNT_T_EMPTY_PATH);
}

int WriteFully(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = RetryOnEintr([&] { return write(fd, data, size); });
    if (n < 0) return -1;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

// Opens directory `rel` under the new root, creating each missing component. Every prefix
// is resolved by openat2 under the new root, and each mkdirat happens in the directory the
// previous prefix resolved to, so the walk can never leave the new root.
int OpenDirCreating(const Context& ctx, const char* rel) {
  char buf[PATH_MAX];
  const size_t len = strlen(rel);
  if (len >= sizeof(buf)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, rel, len + 1);
  int fd = OpenIn(ctx.new_root, buf, O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT) return fd;
  int parent = -1;
  size_t start = 0;
  for (size_t end = 0; end <= len; ++end) {
    if (end < len && buf[end] != '/') continue;
    buf[end] = '\0';
    fd = OpenIn(ctx.new_root, buf, O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      if (mkdirat(parent >= 0 ? parent : ctx.new_root, buf + start, 0755) == 0 || errno == EEXIST) {
        fd = OpenIn(ctx.new_root, buf, O_DIRECTORY);
      }
    }
    if (end < len) buf[end] = '/';
    const int saved = errno;
    CloseFd(parent);
    errno = saved;
    if (fd < 0) return -1;
    parent = fd;
    start = end + 1;
  }
  return parent;
}

// Opens the mount point of `step` (following symlinks, inside the new root), creating it
// when missing: a directory, or an empty file when `directory` is false.
int OpenMountPoint(const Context& ctx, const FsStep& step, bool directory) {
  int fd = OpenIn(ctx.new_root, step.target_rel.c_str(), 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  int parent = OpenDirCreating(ctx, step.parent_rel.c_str());
  if (parent < 0) return -1;
  int rc;
  if (directory) {
    rc = mkdirat(parent, step.leaf.c_str(), 0755);
  } else {
    rc = RetryOnEintr([&] {
      return openat(parent, step.leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0444);
    });
    CloseFd(rc);
  }
  const int saved = errno;
  CloseFd(parent);
  if (rc < 0 && saved != EEXIST) {
    errno = saved;
    return -1;
  }
  return OpenIn(ctx.new_root, step.target_rel.c_str(), 0);
}

int ApplyBind(const Context& ctx, const FsStep& step) {
  const char* what = step.description.c_str();
  int source = OpenIn(ctx.old_root, step.source_rel.c_str(), 0);
  if (source < 0) {
    if (errno == ENOENT && step.optional) return 0;
    return Fail(ctx, what);
  }
  struct stat st;
  const bool is_dir = fstat(source, &st) == 0 && S_ISDIR(st.st_mode);
  int tree = OpenTree(source, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | AT_RECURSIVE);
  CloseFd(source);
  if (tree < 0) return Fail(ctx, what);
  uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (step.kind == FsStep::Kind::kRoBind) attr |= MOUNT_ATTR_RDONLY;
  int rc = SetAttr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, attr);
  int target = rc == 0 ? OpenMountPoint(ctx, step, is_dir) : -1;
  if (target >= 0) {
    rc = MoveMount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  }
  const int err = rc < 0 || target < 0 ? Fail(ctx, what) : 0;
  CloseFd(target);
  CloseFd(tree);
  return err;
}

// Mounts `fstype` on the scratch directory, then moves it onto the step's target.
int ApplyFreshMount(const Context& ctx, const FsStep& step, const char* fstype, unsigned long flags,
                    const char* data) {
  const char* what = step.description.c_str();
  int target = OpenMountPoint(ctx, step, true);
  if (target < 0) return Fail(ctx, what);
  int err = 0;
  if (mount(kFsName, kScratch, fstype, flags, data) < 0 || MoveScratchTo(target) < 0) {
    err = Fail(ctx, what);
  }
  CloseFd(target);
  return err;
}

struct DevNode {
  const char* host;     // Relative to the host root.
  const char* scratch;  // Where it goes while /dev is built.
  const char* step;
};

constexpr DevNode kDevNodes[] = {
    {"dev/null", "/m/null", "dev: bind the host's /dev/null"},
    {"dev/zero", "/m/zero", "dev: bind the host's /dev/zero"},
    {"dev/full", "/m/full", "dev: bind the host's /dev/full"},
    {"dev/random", "/m/random", "dev: bind the host's /dev/random"},
    {"dev/urandom", "/m/urandom", "dev: bind the host's /dev/urandom"},
    {"dev/tty", "/m/tty", "dev: bind the host's /dev/tty"},
};

struct DevLink {
  const char* text;
  const char* path;
};

constexpr DevLink kDevLinks[] = {
    {"pts/ptmx", "/m/ptmx"},          {"/proc/self/fd", "/m/fd"},
    {"/proc/self/fd/0", "/m/stdin"},  {"/proc/self/fd/1", "/m/stdout"},
    {"/proc/self/fd/2", "/m/stderr"},
};

// Device nodes cannot be made in a user namespace: the host's are bind-mounted instead.
int BindDevNode(const Context& ctx, const DevNode& node) {
  int source = OpenIn(ctx.old_root, node.host, 0);
  if (source < 0) return Fail(ctx, node.step);
  int file = RetryOnEintr([&] {
    return open(node.scratch, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  });
  int tree = file >= 0 ? OpenTree(source, "", OPEN_TREE_CLONE | AT_EMPTY_PATH) : -1;
  int err = 0;
  if (tree < 0 || SetAttr(tree, "", AT_EMPTY_PATH, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) < 0 ||
      MoveMount(tree, "", AT_FDCWD, node.scratch, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    err = Fail(ctx, node.step);
  }
  CloseFd(tree);
  CloseFd(file);
  CloseFd(source);
  return err;
}

// Builds a minimal /dev on the scratch directory.
int BuildDev(const Context& ctx) {
  const FsPlan& plan = *ctx.plan;
  if (mount(kFsName, kScratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, plan.dev_data.c_str()) <
      0) {
    return Fail(ctx, "dev: mount the /dev tmpfs");
  }
  for (const DevNode& node : kDevNodes) {
    if (int err = BindDevNode(ctx, node); err != 0) return err;
  }
  if (mkdir("/m/pts", 0755) < 0 ||
      mount("devpts", "/m/pts", "devpts", MS_NOSUID | MS_NOEXEC, plan.devpts_data.c_str()) < 0) {
    return Fail(ctx, "dev: mount devpts on /dev/pts");
  }
  if (mkdir("/m/shm", 01777) < 0 ||
      mount(kFsName, "/m/shm", "tmpfs", MS_NOSUID | MS_NODEV, plan.shm_data.c_str()) < 0) {
    return Fail(ctx, "dev: mount tmpfs on /dev/shm");
  }
  for (const DevLink& link : kDevLinks) {
    if (symlink(link.text, link.path) < 0) return Fail(ctx, "dev: symlinks ptmx, fd, stdio");
  }
  if (SetAttr(AT_FDCWD, kScratch, 0,
              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) < 0) {
    return Fail(ctx, "dev: make the /dev tmpfs read-only");
  }
  return 0;
}

int ApplyDev(const Context& ctx, const FsStep& step) {
  int target = OpenMountPoint(ctx, step, true);
  if (target < 0) return Fail(ctx, step.description.c_str());
  int err = BuildDev(ctx);
  if (err == 0 && MoveScratchTo(target) < 0) err = Fail(ctx, step.description.c_str());
  CloseFd(target);
  return err;
}

// The content goes to a file of the staging tmpfs, which is then bound read-only.
int ApplyFile(const Context& ctx, const FsStep& step) {
  const char* what = step.description.c_str();
  const char* staged = step.staging_path.c_str();
  int fd = RetryOnEintr(
      [&] { return open(staged, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600); });
  if (fd < 0) return Fail(ctx, what);
  int rc = WriteFully(fd, step.content.data(), step.content.size());
  if (rc == 0) rc = fchmod(fd, step.mode);
  CloseFd(fd);
  if (rc < 0) return Fail(ctx, what);
  int tree = OpenTree(AT_FDCWD, staged, OPEN_TREE_CLONE);
  if (tree < 0) return Fail(ctx, what);
  rc = SetAttr(tree, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  int target = rc == 0 ? OpenMountPoint(ctx, step, false) : -1;
  if (target >= 0) {
    rc = MoveMount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  }
  const int err = rc < 0 || target < 0 ? Fail(ctx, what) : 0;
  CloseFd(target);
  CloseFd(tree);
  return err;
}

int ApplySymlink(const Context& ctx, const FsStep& step) {
  int parent = OpenDirCreating(ctx, step.parent_rel.c_str());
  if (parent < 0) return Fail(ctx, step.description.c_str());
  int err = 0;
  if (symlinkat(step.link_text.c_str(), parent, step.leaf.c_str()) < 0) {
    err = Fail(ctx, step.description.c_str());
  }
  CloseFd(parent);
  return err;
}

// An existing directory is kept as it is; a new one gets the plan's mode exactly (fchmod,
// because mkdir's mode is filtered by the umask).
int ApplyDir(const Context& ctx, const FsStep& step) {
  const char* what = step.description.c_str();
  int parent = OpenDirCreating(ctx, step.parent_rel.c_str());
  if (parent < 0) return Fail(ctx, what);
  int err = 0;
  if (mkdirat(parent, step.leaf.c_str(), 0700) == 0) {
    int dir = RetryOnEintr([&] {
      return openat(parent, step.leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    });
    if (dir < 0 || fchmod(dir, step.mode) < 0) err = Fail(ctx, what);
    CloseFd(dir);
  } else if (errno == EEXIST) {
    int dir = OpenIn(ctx.new_root, step.target_rel.c_str(), O_DIRECTORY);
    if (dir < 0) err = Fail(ctx, what);
    CloseFd(dir);
  } else {
    err = Fail(ctx, what);
  }
  CloseFd(parent);
  return err;
}

int ApplyStep(const Context& ctx, const FsStep& step) {
  switch (step.kind) {
    case FsStep::Kind::kRoBind:
    case FsStep::Kind::kRwBind:
      return ApplyBind(ctx, step);
    case FsStep::Kind::kTmpfs:
      return ApplyFreshMount(ctx, step, "tmpfs", MS_NOSUID | MS_NODEV, step.mount_data.c_str());
    case FsStep::Kind::kProc:
      return ApplyFreshMount(ctx, step, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    case FsStep::Kind::kDev:
      return ApplyDev(ctx, step);
    case FsStep::Kind::kSymlink:
      return ApplySymlink(ctx, step);
    case FsStep::Kind::kFile:
      return ApplyFile(ctx, step);
    case FsStep::Kind::kDir:
      return ApplyDir(ctx, step);
  }
  errno = EINVAL;
  return Fail(ctx, step.description.c_str());
}

// Steps 1 and 2 of the header: a private namespace whose root is the staging tmpfs, with
// the host tree at /oldroot.
int EnterStaging(Context* ctx) {
  const Context& c = *ctx;
  if (unshare(CLONE_NEWNS) < 0) return Fail(c, "unshare a mount namespace");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    return Fail(c, "make / private (recursive)");
  }
  if (mount(kFsName, kStaging, "tmpfs", MS_NOSUID | MS_NODEV, c.plan->staging_data.c_str()) < 0) {
    return Fail(c, "mount the staging tmpfs on /tmp");
  }
  if (mkdir(kStagingOldRoot, 0700) < 0) return Fail(c, "mkdir /tmp/oldroot");
  if (syscall(SYS_pivot_root, kStaging, kStagingOldRoot) < 0) {
    return Fail(c, "pivot_root into the staging tmpfs");
  }
  if (chdir("/") < 0) return Fail(c, "chdir to the staging root");
  if (mkdir(kNewRoot, 0755) < 0 || mkdir(kScratch, 0700) < 0) {
    return Fail(c, "mkdir /newroot and /m in the staging tmpfs");
  }
  ctx->old_root = RetryOnEintr([] { return open(kOldRoot, O_PATH | O_DIRECTORY | O_CLOEXEC); });
  if (ctx->old_root < 0) return Fail(c, "open the host root");
  return 0;
}

int MakeNewRoot(Context* ctx) {
  const Context& c = *ctx;
  if (c.plan->tmpfs_root) {
    if (mount(kFsName, kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, c.plan->root_data.c_str()) < 0) {
      return Fail(c, "mount the tmpfs root");
    }
  } else {
    int tree = OpenTree(c.old_root, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) return Fail(c, "clone the host root");
    int err = 0;
    if (SetAttr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0) {
      err = Fail(c, "make the host root read-only");
    } else if (MoveMount(tree, "", AT_FDCWD, kNewRoot, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      err = Fail(c, "attach the host root");
    }
    CloseFd(tree);
    if (err != 0) return err;
  }
  ctx->new_root = RetryOnEintr([] { return open(kNewRoot, O_PATH | O_DIRECTORY | O_CLOEXEC); });
  if (ctx->new_root < 0) return Fail(c, "open the new root");
  return 0;
}

// Step 5: the new root becomes "/", with the staging tmpfs and the host tree detached.
int EnterNewRoot(const Context& ctx) {
  if (ctx.plan->tmpfs_root && SetAttr(ctx.new_root, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0) {
    return Fail(ctx, "make the tmpfs root read-only");
  }
  if (fchdir(ctx.new_root) < 0) return Fail(ctx, "chdir to the new root");
  // pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
  // detaches it (and the host tree under it), leaving no directory for the old root behind.
  if (syscall(SYS_pivot_root, ".", ".") < 0) return Fail(ctx, "pivot_root into the new root");
  if (umount2(".", MNT_DETACH) < 0) return Fail(ctx, "detach the old root");
  if (chdir("/") < 0) return Fail(ctx, "chdir /");
  if (chdir(ctx.plan->cwd.c_str()) < 0) return Fail(ctx, ctx.plan->cwd_step.c_str());
  return 0;
}

int Apply(Context* ctx) {
  if (int err = EnterStaging(ctx); err != 0) return err;
  if (int err = MakeNewRoot(ctx); err != 0) return err;
  for (const FsStep& step : ctx->plan->steps) {
    if (int err = ApplyStep(*ctx, step); err != 0) return err;
  }
  return EnterNewRoot(*ctx);
}

}  // namespace

int ApplyFsPlan(const FsPlan& plan, const char** failed_step) {
  const char* ignored = nullptr;
  Context ctx;
  ctx.plan = &plan;
  ctx.failed_step = failed_step != nullptr ? failed_step : &ignored;
  *ctx.failed_step = nullptr;
  const mode_t old_umask = umask(0);
  errno = 0;
  const int err = Apply(&ctx);
  CloseFd(ctx.old_root);
  CloseFd(ctx.new_root);
  umask(old_umask);
  return err;
}

}  // namespace secureos::sandboxd
