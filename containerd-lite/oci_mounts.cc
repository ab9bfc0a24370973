#include "containerd-lite/oci_mounts.h"

#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "common/absolute_path.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "containerd-lite/oci_mount_options.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// Places the mounts of one bundle, one at a time.
class MountTranslator {
 public:
  MountTranslator(const std::string& bundle_dir, bool pid_namespace, RootfsView* view,
                  sbx::Filesystem* fs, OciReport* report)
      : bundle_dir_(bundle_dir), pid_namespace_(pid_namespace), view_(view), fs_(fs),
        report_(report) {}

  // The mount `m`, named `field` ("mounts[3]").
  void Translate(const oci::v1::Mount& m, const std::string& field) {
    std::optional<std::string> dest =
        NormalizeAbsolutePath(m.destination(), field + ".destination", report_->errors());
    if (!dest) return;
    if (*dest == "/") {
      report_->Error(field + ".destination", "\"/\" is the root: set root.path instead");
      return;
    }
    std::optional<MountType> type = ClassifyMount(m, *dest, field, report_);
    if (!type) return;
    MountOptions options;
    if (!CheckMountOptions(m, *type, field, &options, report_)) return;
    std::optional<Layer> layer = Place(m, *type, *dest, options, field);
    if (layer) view_->Add(std::move(*layer));
  }

 private:
  // Adds the entries of a checked mount; the layer it puts on the view, if any.
  std::optional<Layer> Place(const oci::v1::Mount& m, MountType type, const std::string& dest,
                             const MountOptions& options, const std::string& field) {
    switch (type) {
      case MountType::kBind: return Bind(m, dest, options.ro, field);
      case MountType::kTmpfs: return Tmpfs(dest, options, field);
      case MountType::kDev: return Dev(dest, field);
      case MountType::kProc: return Proc(dest, field);
      case MountType::kSysfs:
      case MountType::kCgroup: return HostFs(type, dest, field);
      case MountType::kDevpts: CheckDevpts(dest, field); break;
      case MountType::kMqueue:
        report_->Note(field, absl::StrCat("not mounted: sandboxd has no mqueue filesystem; POSIX "
                                          "message queues still work through mq_open(3) in the "
                                          "container's IPC namespace, they are only not listed "
                                          "under ",
                                          dest));
        break;
    }
    return std::nullopt;
  }

  // Refuses a mount whose mount point is missing where sandboxd cannot make it.
  bool CheckMountPoint(const std::string& dest, const std::string& field) {
    const Lookup found = view_->Find(dest);
    if (found.state == Lookup::State::kFound) return true;
    if (found.state == Lookup::State::kError) {
      report_->Error(field + ".destination", found.error);
      return false;
    }
    if (view_->CanMakeMountPoint(dest)) return true;
    const Layer& layer = *found.layer;
    const std::string where = layer.kind == Layer::Kind::kRootfs ? "the read-only rootfs"
                              : layer.kind == Layer::Kind::kDev
                                  ? "sandboxd's /dev (read-only once made, only its own "
                                    "entries can be mounted over)"
                                  : absl::StrCat("the read-only mount at ", layer.dest);
    report_->Error(field + ".destination",
                   absl::StrCat(Quote(dest), " does not exist in ", where,
                                ", and sandboxd cannot make the mount point there"));
    return false;
  }

  // The canonical host path of a bind's source (relative: to the bundle), not a device.
  std::optional<std::string> BindSource(const oci::v1::Mount& m, const std::string& field) {
    if (m.source().empty()) {
      report_->Error(field + ".source", "required for a bind");
      return std::nullopt;
    }
    const std::string abs =
        m.source()[0] == '/' ? m.source() : absl::StrCat(bundle_dir_, "/", m.source());
    absl::StatusOr<std::string> real = RealPath(abs);
    if (!real.ok()) {
      report_->Error(field + ".source", real.status().message());
      return std::nullopt;
    }
    struct stat st;
    if (::stat(real->c_str(), &st) != 0) {
      report_->Error(field + ".source", ErrnoToStatus(errno, *real).message());
      return std::nullopt;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      report_->Error(field + ".source",
                     absl::StrCat(Quote(m.source()),
                                  " is a device: sandboxd's binds are nodev (the view's /dev "
                                  "has the default devices)"));
      return std::nullopt;
    }
    return *std::move(real);
  }

  std::optional<Layer> Bind(const oci::v1::Mount& m, const std::string& dest, bool ro,
                            const std::string& field) {
    std::optional<std::string> source = BindSource(m, field);
    if (!source || !CheckMountPoint(dest, field)) return std::nullopt;
    AddEntry(fs_, ro ? sbx::MOUNT_KIND_RO_BIND : sbx::MOUNT_KIND_RW_BIND, dest)
        ->set_source(*source);
    return Layer{dest, Layer::Kind::kHost, *source, /*writable=*/!ro, /*read_only=*/ro};
  }

  std::optional<Layer> Tmpfs(const std::string& dest, const MountOptions& options,
                             const std::string& field) {
    if (!CheckMountPoint(dest, field)) return std::nullopt;
    sbx::MountEntry* e = AddEntry(fs_, sbx::MOUNT_KIND_TMPFS, dest);
    e->set_size(options.size);
    e->set_mode(options.mode);
    return Layer{dest, Layer::Kind::kTmpfs, "", /*writable=*/true, /*read_only=*/false};
  }

  std::optional<Layer> Dev(const std::string& dest, const std::string& field) {
    if (!CheckMountPoint(dest, field)) return std::nullopt;
    AddEntry(fs_, sbx::MOUNT_KIND_DEV, dest);
    report_->Note(field, "a tmpfs on /dev is sandboxd's minimal /dev (null, zero, full, random, "
                         "urandom, tty, pts, shm, fd links: the runtime-spec's default "
                         "devices), read-only once made; its size and mode are sandboxd's");
    return Layer{dest, Layer::Kind::kDev, "", /*writable=*/false, /*read_only=*/true};
  }

  std::optional<Layer> Proc(const std::string& dest, const std::string& field) {
    if (!pid_namespace_) {
      report_->Error(field, "a private /proc needs a pid namespace in linux.namespaces");
      return std::nullopt;
    }
    if (!CheckMountPoint(dest, field)) return std::nullopt;
    AddEntry(fs_, sbx::MOUNT_KIND_PROC, dest);
    // The same kernel's procfs, for readonly/masked paths.
    return Layer{dest, Layer::Kind::kHost, "/proc", /*writable=*/false, /*read_only=*/false};
  }

  // sysfs or cgroup: the host's, bound read-only.
  std::optional<Layer> HostFs(MountType type, const std::string& dest, const std::string& field) {
    const std::string host = type == MountType::kSysfs ? "/sys" : "/sys/fs/cgroup";
    const Lookup there = view_->Find(dest);
    if (there.state == Lookup::State::kFound && there.layer->read_only &&
        there.host_path == host) {
      // Already exactly that (crun's /sys/fs/cgroup after its /sys): binds are recursive.
    } else {
      if (!CheckMountPoint(dest, field)) return std::nullopt;
      AddEntry(fs_, sbx::MOUNT_KIND_RO_BIND, dest)->set_source(host);
    }
    report_->Note(field, absl::StrCat("sandboxd cannot mount a fresh ", MountTypeName(type),
                                      ": the host's ", host, " is bound read-only instead",
                                      type == MountType::kSysfs
                                          ? " (class/net lists the host's interfaces)"
                                          : " (the host's cgroup tree, not a cgroup-namespaced "
                                            "view)"));
    return Layer{dest, Layer::Kind::kHost, host, /*writable=*/false, /*read_only=*/true};
  }

  // sandboxd's /dev has its own new devpts instance: nothing to add, but only there.
  void CheckDevpts(const std::string& dest, const std::string& field) {
    const Layer& covering = view_->Covering(dest);
    if (dest != "/dev/pts" || covering.kind != Layer::Kind::kDev || covering.dest != "/dev") {
      report_->Error(field, absl::StrCat("devpts is only available as /dev/pts of a tmpfs on "
                                         "/dev (sandboxd's /dev), not at ",
                                         Quote(dest)));
    }
  }

  const std::string& bundle_dir_;
  const bool pid_namespace_;
  RootfsView* view_;
  sbx::Filesystem* fs_;
  OciReport* report_;
};

}  // namespace

void TranslateMounts(const google::protobuf::RepeatedPtrField<oci::v1::Mount>& mounts,
                     const std::string& bundle_dir, bool pid_namespace, RootfsView* view,
                     sbx::Filesystem* fs, OciReport* report) {
  MountTranslator translator(bundle_dir, pid_namespace, view, fs, report);
  for (int i = 0; i < mounts.size(); ++i) translator.Translate(mounts[i], Field("mounts", i));
}

}  // namespace secureos::ctr
