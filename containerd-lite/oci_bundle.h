// OCI bundles: reading <bundle>/config.json (runtime-spec 1.0.x / 1.1.x, the subset in
// proto/oci_spec.proto) and translating it into the sandboxd workload that runs it.
//
// Nothing is silently dropped. Every key of config.json is either mapped to sandboxd, or
// refused naming the field and its value, or (where sandboxd can only come close) accepted
// with a translation note that ToSandboxSpec returns and the caller shows or records. Errors
// name config.json fields with OCI's spelling and gather every problem at once:
//   INVALID_ARGUMENT "config.json: linux.intelRdt: not supported by containerd-lite;
//                     config.json: process.cwd: must be absolute, got \"tmp\""
//
// Decisions, field by field (everything `crun spec` and `crun spec --rootless` emit loads
// and translates; their only notes are the ones marked *):
//   ociVersion            1.0.x or 1.1.x, optionally with a "-suffix" ("1.0.2-dev").
//   process.terminal      * accepted: containerd-lite gives no terminal; stdin is /dev/null,
//                         stdout/stderr go to files or to the Run stream (sandboxd's stdio).
//   process.user          uid/gid -> SandboxSpec.uid/gid, ids inside the user namespace, which
//                         must lie in the container's range. additionalGids refused (sandboxd
//                         clears supplementary groups); umask refused (sandboxd sets none).
//   process.args          -> argv. args[0] without "/" is looked up, as execvp(3) would, in the
//                         PATH of process.env (runc's default PATH without one) inside the
//                         container's view; argv[0] becomes that absolute path ("sh" ->
//                         "/bin/sh"; * a note, as the program sees the new argv[0]), since
//                         sandboxd execs absolute paths only. With a "/" but relative, it is
//                         taken relative to process.cwd (* likewise noted).
//   process.env, cwd      -> env, filesystem.cwd; cwd must exist in the view (sandboxd does
//                         not create it).
//   process.capabilities  * the union of the five sets -> SandboxSpec.capabilities, which
//                         sandboxd holds in all five sets inside the user namespace (a note
//                         when the bundle's sets differ, as crun's empty inheritable does).
//                         The caller must get capd's authorization for them first.
//   process.rlimits       RLIMIT_{AS,CPU,FSIZE,NOFILE,NPROC,STACK,CORE} -> limits.rlimits;
//                         other resources, duplicates, soft > hard, a finite soft under an
//                         infinite hard are refused.
//   process.noNewPrivileges  sandboxd always sets no_new_privs, so false cannot be honoured;
//                         containerd-lite's compliance checks report it, not this file.
//   root.path             the rootfs, see "Root filesystem" below. root.readonly: the rootfs
//                         binds are read-only.
//   hostname              -> hostname (needs a uts namespace).
//   mounts                proc -> a private /proc (needs a pid namespace); tmpfs -> TMPFS
//                         (size=, mode= kept), except a tmpfs on /dev, which is sandboxd's
//                         minimal /dev (null, zero, full, random, urandom, tty, pts, shm, fd
//                         links: what the runtime-spec's default devices are); bind (type
//                         "bind", or "none"/"" with a bind/rbind option) -> RO/RW bind of the
//                         host source (relative: to the bundle); devpts on /dev/pts -> part of
//                         that /dev; sysfs and cgroup (ro only) -> read-only binds of the
//                         host's /sys and /sys/fs/cgroup; mqueue -> * not mounted (see below).
//                         Any other type is refused. Options: nosuid, nodev, private,
//                         rprivate, relatime always hold; noexec holds on proc, /dev and
//                         devpts, means nothing on sysfs, cgroupfs and mqueue (nothing there
//                         is executable) and is * not applied on tmpfs and binds; exec is
//                         accepted on tmpfs and binds only; atime options other than
//                         relatime are * not applied; suid, dev, shared/slave/unbindable
//                         propagation and unknown options are refused.
//   mqueue                * sandboxd has no mqueue filesystem and its /dev is read-only once
//                         made: the mount is skipped. POSIX message queues still work through
//                         mq_open(3) in the container's IPC namespace; they are only not
//                         listed under the destination.
//   sysfs, cgroup         * a fresh sysfs/cgroupfs cannot be mounted in sandboxd: the host's
//                         /sys and /sys/fs/cgroup are bound read-only instead (as in sandboxd's
//                         own level 3-4 views): sys/class/net shows the host's interfaces and
//                         the cgroup tree is the host's, not a namespaced one (a cgroup mount
//                         inside such a /sys needs no entry: binds are recursive). rw is
//                         refused.
//   devpts                newinstance, nosuid, noexec, mode=0620, ptmxmode=0666 hold; gid=N
//                         is * not applied (sandboxd adds gid=5 only without a user namespace,
//                         and containerd-lite always has one).
//   strictatime on /dev   * not applied.
//   linux.namespaces      pid, network, mount, ipc, uts, cgroup, time -> namespaces; user is
//                         always added (* a note when the bundle has none); mount is required;
//                         "path" (joining an existing namespace) and unknown types are
//                         refused. network -> NETWORK_MODE_LOOPBACK (lo up, as runc and crun
//                         do); without one, NETWORK_MODE_HOST. The caller applies its own
//                         network choice (CreateRequest.network) on top.
//   linux.uid/gidMappings not used here: the maps come from the arguments (containerd-lite's
//                         range pool decides host ids); the bundle's own are checked against
//                         the range policy by the caller.
//   linux.resources       memory.limit -> limits.memory_bytes (-1, 0: unlimited; swap only
//                         -1); cpu.quota/period -> cpu_millis = quota*1000/period (period
//                         default 100000; -1, 0: unlimited); pids.limit -> pids (-1, 0:
//                         unlimited); devices: deny rules hold (the view's /dev has only the
//                         default devices, which runc and crun keep allowed after the
//                         bundle's rules too, and mknod is impossible in a user namespace);
//                         allow rules hold when they name only devices that /dev has (c 1:3,
//                         1:5, 1:7, 1:8, 1:9, 5:0, 5:2, 136:*), others are refused. Every
//                         other resource field is refused.
//   linux.seccomp         serialized back to JSON into SeccompProfile.oci_json, and imported
//                         once here with sandboxd's importer so that its errors name
//                         linux.seccomp fields now. flags: TSYNC and LOG hold (sandboxd
//                         reports every refusal), SPEC_ALLOW is * not applied, others refused;
//                         architectures other than SCMP_ARCH_X86_64 are * killed by sandboxd.
//                         Absent: * sandboxd's "default" profile (OCI would run unconfined).
//   linux.maskedPaths     a directory -> an empty 4 KiB tmpfs (mode 0555), anything else -> an
//                         empty read-only file; * a path absent from the view is skipped (as
//                         runc does).
//   linux.readonlyPaths   -> a read-only bind of the same object: under a bind or the rootfs,
//                         that host path; under /proc, the host's /proc entry of that name
//                         (crun's are global files: bus, fs, irq, sysrq-trigger, and sys,
//                         whose sysctls answer for the reader's own namespaces). Already
//                         read-only places need nothing; a fresh tmpfs cannot be bound and is
//                         refused; * absent paths are skipped.
//   annotations           kept in the Bundle for the container's state; not applied.
//
// Root filesystem: sandboxd cannot take a directory as the new root (Filesystem.root is
// ROOT_HOST_READ_ONLY or ROOT_TMPFS, and an entry may not target "/"). The closest form is
// used: ROOT_TMPFS, then one entry per top-level name of the rootfs, in name order: a
// directory or file is bound (RO_BIND with root.readonly, else RW_BIND), a symlink is
// re-made as a SYMLINK with the same text (so /bin -> usr/bin keeps working); any other type
// is refused. The bundle's mounts come next, then readonlyPaths, then maskedPaths.
// Differences from a real root: new top-level names cannot be created (sandboxd makes the
// root tmpfs read-only once built), top-level names added to the rootfs after translation do
// not appear, and every bind is nosuid,nodev (setuid bits mean nothing under no_new_privs).
//
// Security notes: bind sources are host paths that sandboxd resolves at start inside the
// host root; a rootfs whose owner can swap a directory for a symlink between translation and
// start can point a bind at another host directory (read with the container's host ids). The
// bundle directory must therefore belong to the caller that asked for the container, which
// is the caller's check.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_BUNDLE_H_
#define SECUREOS_CONTAINERD_LITE_OCI_BUNDLE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "containerd-lite/oci_config.h"
#include "proto/containerd_lite.pb.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// The largest config.json read.
inline constexpr size_t kMaxConfigBytes = 4 << 20;

// sandboxd's limit of filesystem entries (sandboxd/fs/fs_plan.h kMaxFsEntries).
inline constexpr int kMaxViewEntries = 256;

// A loaded bundle.
struct Bundle {
  std::string dir;     // The bundle directory, absolute and canonical (realpath).
  std::string rootfs;  // root.path resolved against `dir`, canonical; a directory.
  oci::v1::Spec spec;  // config.json as parsed.
};

// ParseOciConfig(json), which parses config.json text naming every unsupported key, is
// declared in oci_config.h (included above).

// Reads `<dir>/config.json` and checks what every bundle needs: ociVersion 1.0.x/1.1.x,
// root.path (relative to `dir` or absolute) a directory, process.args non-empty,
// process.cwd absolute. All problems are reported together. A missing or unreadable
// directory or config.json is the errno's code, naming the path.
absl::StatusOr<Bundle> LoadBundle(const std::string& dir);

// Whether the bundle asks for a user namespace itself (otherwise ToSandboxSpec adds one:
// ContainerState.user_namespace_added).
bool DeclaresUserNamespace(const oci::v1::Spec& spec);

// Translates a loaded bundle into the SandboxSpec that runs it (see the table above),
// with `uid_map` and `gid_map` (the container's ranges, from containerd-lite's pool) as the
// user namespace maps. Looks at the rootfs, the bind sources and the host's /proc and /sys
// (top-level names, PATH lookup, masked and read-only paths, mount points). Errors name
// every config.json field at fault at once (a bad uid_map/gid_map argument is reported
// alone, naming the argument). When `notes` is not null it receives one line per
// approximation ("config.json: process.terminal: ..."), in the order met.
// The result leaves name, timeout_ms, level and learn unset; sandboxd validates it again.
absl::StatusOr<sandboxd::v1::SandboxSpec> ToSandboxSpec(const Bundle& bundle,
                                                        const containerd_lite::v1::IdMapping& uid_map,
                                                        const containerd_lite::v1::IdMapping& gid_map,
                                                        std::vector<std::string>* notes = nullptr);

// What an exec into a container of `bundle` runs, as SandboxSpec argv, env and
// filesystem.cwd: `args` with args[0] made absolute as process.args is (looked up in the PATH
// of the environment, inside the container's view), `env` (empty: process.env), `cwd`
// (empty: process.cwd; must be a directory of the view). Errors name the ExecRequest field
// ("args[0]: ...", "cwd: ...").
absl::StatusOr<sandboxd::v1::SandboxSpec> ExecProgram(const Bundle& bundle,
                                                      const std::vector<std::string>& args,
                                                      const std::vector<std::string>& env,
                                                      const std::string& cwd);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_BUNDLE_H_
