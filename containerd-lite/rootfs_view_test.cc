#include "containerd-lite/rootfs_view.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace sbx = sandboxd::v1;

using RootfsViewTest = BundleDirTest;

TEST_F(RootfsViewTest, TopLevelNamesInNameOrder) {
  sbx::Filesystem fs;
  OciReport report;
  BindRootfs(rootfs_, /*readonly=*/true, &fs, &report);
  ASSERT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  EXPECT_THAT(Targets(fs), ElementsAre("/bin", "/etc", "/lib", "/proc", "/tmp", "/usr"));
  EXPECT_EQ(fs.entries(0).kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(fs.entries(0).source(), rootfs_ + "/bin");
  EXPECT_EQ(fs.entries(2).kind(), sbx::MOUNT_KIND_SYMLINK);
  EXPECT_EQ(fs.entries(2).source(), "usr/lib");

  fs.Clear();
  BindRootfs(rootfs_, /*readonly=*/false, &fs, &report);
  EXPECT_EQ(fs.entries(0).kind(), sbx::MOUNT_KIND_RW_BIND);
}

TEST_F(RootfsViewTest, OtherTypesAtTheTopAreRefused) {
  ASSERT_EQ(::mkfifo((rootfs_ + "/fifo").c_str(), 0600), 0);
  sbx::Filesystem fs;
  OciReport report;
  BindRootfs(rootfs_, true, &fs, &report);
  EXPECT_THAT(ErrorOf(report), HasSubstr("config.json: root.path: the rootfs entry \"/fifo\" is "
                                         "not a directory, file or symlink"));
  EXPECT_EQ(EntryAt(fs, "/fifo"), nullptr);
}

TEST_F(RootfsViewTest, SymlinksResolveInsideTheRootfs) {
  ASSERT_EQ(::symlink("/bin/busybox", (rootfs_ + "/abs").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../usr/bin", (rootfs_ + "/up").c_str()), 0);
  const Lookup abs = ResolveUnder(rootfs_, "abs");
  EXPECT_EQ(abs.state, Lookup::State::kFound);
  EXPECT_TRUE(abs.executable_file);
  EXPECT_EQ(abs.host_path, rootfs_ + "/bin/busybox");
  // The host has /usr/bin; the rootfs has /usr only.
  EXPECT_EQ(ResolveUnder(rootfs_, "up").state, Lookup::State::kMissing);
  EXPECT_EQ(ResolveUnder(rootfs_, "etc/passwd/x").state, Lookup::State::kMissing);
  const Lookup root = ResolveUnder(rootfs_, "");
  EXPECT_TRUE(root.dir);
  EXPECT_EQ(root.host_path, rootfs_);
}

TEST_F(RootfsViewTest, LayersAndMountPoints) {
  RootfsView view(rootfs_, /*readonly_root=*/true, {"bin", "etc", "lib", "proc", "tmp", "usr"});
  view.Add(Layer{"/dev", Layer::Kind::kDev, "", false, /*read_only=*/true});
  view.Add(Layer{"/mnt/a", Layer::Kind::kTmpfs, "", /*writable=*/true, false});
  EXPECT_EQ(view.Covering("/dev/null").dest, "/dev");
  EXPECT_EQ(view.Covering("/devx").dest, "/");
  const Lookup null = view.Find("/dev/null");
  EXPECT_EQ(null.state, Lookup::State::kFound);
  EXPECT_FALSE(null.dir);
  EXPECT_EQ(null.layer->dest, "/dev");
  EXPECT_EQ(view.Find("/dev/nope").state, Lookup::State::kMissing);
  EXPECT_TRUE(view.Find("/mnt").dir);  // The mount point of a later layer.
  EXPECT_EQ(view.Find("/mnt/a/b").state, Lookup::State::kMissing);
  EXPECT_TRUE(view.Find("/etc/passwd").state == Lookup::State::kFound);

  EXPECT_FALSE(view.CanMakeMountPoint("/dev/x"));   // sandboxd's /dev.
  EXPECT_FALSE(view.CanMakeMountPoint("/usr/x"));   // In the read-only rootfs.
  EXPECT_TRUE(view.CanMakeMountPoint("/data"));     // A new name on the root tmpfs.
  EXPECT_TRUE(view.CanMakeMountPoint("/mnt/a/x"));  // In a tmpfs.
}

}  // namespace
}  // namespace secureos::ctr
