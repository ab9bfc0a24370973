#include "common/paths.h"

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(PathsTest, EverythingLivesUnderTheRoot) {
  EXPECT_EQ(UnderRoot("/", DefaultSocket("capd")), "/run/secureos/capd.sock");
  EXPECT_EQ(UnderRoot("/tmp/r", DefaultSocket("svcd")), "/tmp/r/run/secureos/svcd.sock");
  EXPECT_EQ(UnderRoot("/tmp/r/", "x"), "/tmp/r/x");
  EXPECT_EQ(ConfigPath("/", "monitord"), "/etc/secureos/monitord.conf");
  EXPECT_EQ(StateDir("/srv", "containerd-lite"), "/srv/var/lib/secureos/containerd-lite");
  EXPECT_EQ(RuntimeDir("/", "capd"), "/run/secureos/capd");
  EXPECT_EQ(kDaemonNames.size(), 5u);
}

}  // namespace
}  // namespace secureos
