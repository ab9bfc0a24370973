#include "containerd-lite/oci_mounts.h"

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "containerd-lite/rootfs_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
namespace sbx = sandboxd::v1;

class OciMountsTest : public BundleDirTest {
 protected:
  // The mounts of `spec` over the rootfs (read-only as root.readonly says) into fs_ and
  // report_.
  void Translate(const oci::v1::Spec& spec, bool pid_namespace = true) {
    fs_.Clear();
    report_ = OciReport();
    RootfsView view = BindRootfs(rootfs_, spec.root().readonly(), &fs_, &report_);
    TranslateMounts(spec.mounts(), dir_, pid_namespace, &view, &fs_, &report_);
  }

  std::string TranslateError(const oci::v1::Spec& spec, bool pid_namespace = true) {
    Translate(spec, pid_namespace);
    return ErrorOf(report_);
  }

  sbx::Filesystem fs_;
  OciReport report_;
};

TEST_F(OciMountsTest, CrunMounts) {
  Translate(CrunSpec());
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_EQ(EntryAt(fs_, "/proc")->kind(), sbx::MOUNT_KIND_PROC);
  EXPECT_EQ(EntryAt(fs_, "/dev")->kind(), sbx::MOUNT_KIND_DEV);
  EXPECT_EQ(EntryAt(fs_, "/dev/shm")->kind(), sbx::MOUNT_KIND_TMPFS);
  EXPECT_EQ(EntryAt(fs_, "/dev/shm")->size(), "65536k");
  EXPECT_EQ(EntryAt(fs_, "/dev/shm")->mode(), "1777");
  EXPECT_EQ(EntryAt(fs_, "/dev/pts"), nullptr);
  EXPECT_EQ(EntryAt(fs_, "/dev/mqueue"), nullptr);
  EXPECT_EQ(EntryAt(fs_, "/sys")->source(), "/sys");
  EXPECT_EQ(EntryAt(fs_, "/sys/fs/cgroup"), nullptr);
  EXPECT_THAT(report_.notes(), Contains(HasSubstr("config.json: mounts[4]: not mounted")));
  EXPECT_THAT(report_.notes(), Contains(HasSubstr("config.json: mounts[1]: a tmpfs on /dev is "
                                                  "sandboxd's minimal /dev")));
}

TEST_F(OciMountsTest, UnsupportedMountTypeAndOptions) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* overlay = spec.add_mounts();
  overlay->set_destination("/data");
  overlay->set_type("overlay");
  overlay->set_source("overlay");
  spec.mutable_mounts(1)->add_options("shared");
  spec.mutable_mounts(3)->set_options(4, "size=50%");
  spec.mutable_mounts(5)->mutable_options()->RemoveLast();  // sysfs without "ro"
  spec.mutable_mounts(3)->add_options("suid");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[7].type: \"overlay\" is not supported by "
                               "containerd-lite"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[1].options[4]: \"shared\": mount "
                               "propagation other than private is not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[3].options[4]: \"size=50%\": size must be"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[3].options[5]: \"suid\": "));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[5].options: only a read-only sysfs is "
                               "supported"));
}

TEST_F(OciMountsTest, ProcNeedsAPidNamespace) {
  EXPECT_THAT(TranslateError(CrunSpec(), /*pid_namespace=*/false),
              HasSubstr("config.json: mounts[0]: a private /proc needs a pid namespace"));
}

TEST_F(OciMountsTest, DevptsOnlyInsideDev) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_mounts(2)->set_destination("/pts");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: mounts[2]: devpts is only available as /dev/pts"));
}

TEST_F(OciMountsTest, BindSources) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* missing = spec.add_mounts();
  missing->set_destination("/data");
  missing->set_type("bind");
  missing->set_source("/no/such/dir");
  oci::v1::Mount* device = spec.add_mounts();
  device->set_destination("/null");
  device->set_type("none");
  device->set_source("/dev/null");
  device->add_options("rbind");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[7].source: /no/such/dir: No such file"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[8].source: \"/dev/null\" is a device"));
}

TEST_F(OciMountsTest, MountPointInReadOnlyRootfs) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* m = spec.add_mounts();
  m->set_destination("/usr/share/data");
  m->set_type("tmpfs");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: mounts[7].destination: \"/usr/share/data\" does not exist "
                        "in the read-only rootfs"));
  spec.mutable_root()->set_readonly(false);
  Translate(spec);
  EXPECT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
}

TEST_F(OciMountsTest, CgroupWithoutSysfs) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_mounts()->DeleteSubrange(5, 1);  // sysfs
  Translate(spec);
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  ASSERT_NE(EntryAt(fs_, "/sys/fs/cgroup"), nullptr);
  EXPECT_EQ(EntryAt(fs_, "/sys/fs/cgroup")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(fs_, "/sys/fs/cgroup")->source(), "/sys/fs/cgroup");
  EXPECT_THAT(report_.notes(),
              Contains(HasSubstr("config.json: mounts[5]: sandboxd cannot mount a fresh "
                                 "cgroup: the host's /sys/fs/cgroup is bound read-only")));
}

TEST_F(OciMountsTest, DestinationMustBeBelowTheRoot) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_mounts(3)->set_destination("/");
  spec.mutable_mounts(4)->set_destination("dev/mqueue");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[3].destination: \"/\" is the root"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[4].destination: must be absolute"));
}

}  // namespace
}  // namespace secureos::ctr
