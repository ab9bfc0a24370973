#include "containerd-lite/oci_linux_paths.h"

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

class OciLinuxPathsTest : public BundleDirTest {
 protected:
  // A view of the rootfs with a fresh tmpfs on /tmp and the rootfs's /etc bound read-only
  // on /ro.
  RootfsView View(bool readonly_root) {
    RootfsView view = BindRootfs(rootfs_, readonly_root, &fs_, &report_);
    view.Add(Layer{"/tmp", Layer::Kind::kTmpfs, "", /*writable=*/true, /*read_only=*/false});
    view.Add(Layer{"/ro", Layer::Kind::kHost, rootfs_ + "/etc", false, /*read_only=*/true});
    fs_.Clear();
    return view;
  }

  sbx::Filesystem fs_;
  OciReport report_;
};

TEST_F(OciLinuxPathsTest, ReadonlyPathOnATmpfsIsRefused) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->add_readonly_paths("/tmp");
  TranslateReadonlyPaths(spec.linux().readonly_paths(), View(true), &fs_, &report_);
  EXPECT_THAT(ErrorOf(report_), HasSubstr("config.json: linux.readonlyPaths[5]: \"/tmp\" is on "
                                          "the fresh /tmp mount"));
}

TEST_F(OciLinuxPathsTest, ReadonlyPaths) {
  google::protobuf::RepeatedPtrField<std::string> paths;
  for (const char* p : {"/etc", "/ro/passwd", "/nope", "/"}) *paths.Add() = p;
  TranslateReadonlyPaths(paths, View(false), &fs_, &report_);
  EXPECT_EQ(ErrorOf(report_), "config.json: linux.readonlyPaths[3]: \"/\" is the root: use "
                              "root.readonly");
  ASSERT_EQ(fs_.entries_size(), 1);  // /ro is read-only already.
  EXPECT_EQ(fs_.entries(0).kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(fs_.entries(0).target(), "/etc");
  EXPECT_EQ(fs_.entries(0).source(), rootfs_ + "/etc");
  EXPECT_THAT(report_.notes(),
              Contains("config.json: linux.readonlyPaths[2]: /nope does not exist in the "
                       "container: nothing to make read-only (skipped, as runc does)"));
}

TEST_F(OciLinuxPathsTest, MaskedPaths) {
  google::protobuf::RepeatedPtrField<std::string> paths;
  for (const char* p : {"/etc/passwd", "/lib/", "/lib/nope", "/a/../b"}) *paths.Add() = p;
  TranslateMaskedPaths(paths, View(true), &fs_, &report_);
  EXPECT_THAT(ErrorOf(report_), HasSubstr("config.json: linux.maskedPaths[3]: \"..\" is not allowed"));
  ASSERT_EQ(fs_.entries_size(), 2);
  EXPECT_EQ(fs_.entries(0).kind(), sbx::MOUNT_KIND_FILE);
  EXPECT_EQ(fs_.entries(0).target(), "/etc/passwd");
  EXPECT_EQ(fs_.entries(1).kind(), sbx::MOUNT_KIND_TMPFS);  // /lib -> usr/lib, a directory.
  EXPECT_EQ(fs_.entries(1).target(), "/lib");
  EXPECT_EQ(fs_.entries(1).size(), "4k");
  EXPECT_EQ(fs_.entries(1).mode(), "0555");
  EXPECT_THAT(report_.notes(),
              Contains("config.json: linux.maskedPaths[2]: /lib/nope does not exist in the "
                       "container: nothing to mask (skipped, as runc does)"));
}

}  // namespace
}  // namespace secureos::ctr
