#include "containerd-lite/oci_mount_options.h"

#include <initializer_list>
#include <optional>
#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

oci::v1::Mount MountOf(const std::string& type, std::initializer_list<const char*> options) {
  oci::v1::Mount m;
  m.set_type(type);
  for (const char* o : options) m.add_options(o);
  return m;
}

TEST(OciMountOptionsTest, Types) {
  OciReport report;
  auto type = [&](const oci::v1::Mount& m, const std::string& dest) {
    return ClassifyMount(m, dest, "mounts[0]", &report);
  };
  EXPECT_EQ(type(MountOf("bind", {}), "/a"), MountType::kBind);
  EXPECT_EQ(type(MountOf("none", {"rbind"}), "/a"), MountType::kBind);
  EXPECT_EQ(type(MountOf("", {"bind"}), "/a"), MountType::kBind);
  EXPECT_EQ(type(MountOf("tmpfs", {}), "/dev"), MountType::kDev);
  EXPECT_EQ(type(MountOf("tmpfs", {}), "/dev/shm"), MountType::kTmpfs);
  EXPECT_EQ(type(MountOf("cgroup2", {}), "/sys/fs/cgroup"), MountType::kCgroup);
  EXPECT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  EXPECT_EQ(type(MountOf("", {}), "/a"), std::nullopt);
  EXPECT_EQ(ErrorOf(report),
            "config.json: mounts[0].type: required (or a bind/rbind option for a bind)");
  EXPECT_STREQ(MountTypeName(MountType::kDev), "tmpfs on /dev");
}

TEST(OciMountOptionsTest, TmpfsSizeAndMode) {
  OciReport report;
  MountOptions options;
  EXPECT_TRUE(CheckMountOptions(MountOf("tmpfs", {"nosuid", "size=64k", "mode=1777", "noexec"}),
                                MountType::kTmpfs, "mounts[3]", &options, &report));
  EXPECT_EQ(options.size, "64k");
  EXPECT_EQ(options.mode, "1777");
  EXPECT_THAT(report.notes(), ElementsAre(HasSubstr("config.json: mounts[3].options[3]: noexec "
                                                    "is not applied")));
  MountOptions bad;
  EXPECT_FALSE(CheckMountOptions(MountOf("tmpfs", {"size=0", "mode=999", "ro"}), MountType::kTmpfs,
                                 "mounts[3]", &bad, &report));
  EXPECT_EQ(ErrorOf(report),
            "config.json: mounts[3].options[0]: \"size=0\": size must be a number of bytes with "
            "an optional k, m or g suffix; config.json: mounts[3].options[1]: \"mode=999\": mode "
            "must be 3 or 4 octal digits; config.json: mounts[3].options: a read-only tmpfs is "
            "not supported by sandboxd");
}

TEST(OciMountOptionsTest, ReadWriteByType) {
  OciReport report;
  MountOptions options;
  EXPECT_FALSE(CheckMountOptions(MountOf("bind", {"ro", "rw"}), MountType::kBind, "mounts[0]",
                                 &options, &report));
  MountOptions dev;
  EXPECT_FALSE(
      CheckMountOptions(MountOf("tmpfs", {"rw"}), MountType::kDev, "mounts[1]", &dev, &report));
  MountOptions proc;
  EXPECT_FALSE(
      CheckMountOptions(MountOf("proc", {"ro"}), MountType::kProc, "mounts[2]", &proc, &report));
  MountOptions sysfs;
  EXPECT_TRUE(
      CheckMountOptions(MountOf("sysfs", {"ro"}), MountType::kSysfs, "mounts[3]", &sysfs, &report));
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[0].options: both ro and rw"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[1].options: rw: sandboxd's /dev is "
                               "read-only once made"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[2].options: a read-only proc is not "
                               "supported"));
  EXPECT_THAT(error, Not(HasSubstr("mounts[3]")));
}

TEST(OciMountOptionsTest, DevptsOptions) {
  OciReport report;
  MountOptions options;
  EXPECT_TRUE(CheckMountOptions(
      MountOf("devpts", {"newinstance", "ptmxmode=0666", "mode=620", "mode=0600", "gid=5"}),
      MountType::kDevpts, "mounts[2]", &options, &report));
  EXPECT_THAT(report.notes(),
              ElementsAre("config.json: mounts[2].options[3]: \"mode=0600\" is not applied: "
                          "sandboxd's devpts has mode=0620",
                          HasSubstr("config.json: mounts[2].options[4]: \"gid=5\" is not applied")));
  EXPECT_FALSE(CheckMountOptions(MountOf("devpts", {"exec", "bind", "size=1k"}),
                                 MountType::kDevpts, "mounts[2]", &options, &report));
  EXPECT_EQ(ErrorOf(report),
            "config.json: mounts[2].options[0]: \"exec\": sandboxd's devpts is always noexec; "
            "config.json: mounts[2].options[1]: \"bind\": not an option of devpts; "
            "config.json: mounts[2].options[2]: \"size=1k\": unknown or unsupported option of "
            "devpts");
}

TEST(OciMountOptionsTest, AtimeAndPropagation) {
  OciReport report;
  MountOptions options;
  EXPECT_FALSE(CheckMountOptions(MountOf("bind", {"rprivate", "noatime", "rslave", "dev"}),
                                 MountType::kBind, "mounts[0]", &options, &report));
  EXPECT_THAT(report.notes(), ElementsAre(HasSubstr("config.json: mounts[0].options[1]: "
                                                    "\"noatime\" is not applied")));
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("mounts[0].options[2]: \"rslave\": mount propagation other than "
                               "private is not supported"));
  EXPECT_THAT(error, HasSubstr("mounts[0].options[3]: \"dev\": sandboxd's mounts are always "
                               "nosuid,nodev"));
  OciReport quiet;
  EXPECT_TRUE(CheckMountOptions(MountOf("proc", {"nosuid", "noexec", "nodev"}), MountType::kProc,
                                "mounts[0]", &options, &quiet));
  EXPECT_THAT(quiet.notes(), IsEmpty());
}

}  // namespace
}  // namespace secureos::ctr
