#include "common/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "common/fd.h"
#include "gtest/gtest.h"

namespace secureos {
namespace {

std::string Tmp() { return std::getenv("TEST_TMPDIR"); }

int CountEntries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  ::closedir(d);
  return n;
}

TEST(AtomicFileTest, ReplacesContentWithTheModeAndLeavesNoTemporaryFile) {
  const std::string dir = Tmp() + "/atomic";
  ASSERT_TRUE(MakeDirs(dir, 0700).ok());
  const std::string path = dir + "/grants.textproto";
  ASSERT_TRUE(WriteFileAtomically(path, "old", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new content", 0640).ok());
  EXPECT_EQ(*ReadFile(path), "new content");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(CountEntries(dir), 1);
}

TEST(AtomicFileTest, AFailedWriteLeavesTheOldContent) {
  const std::string dir = Tmp() + "/atomic2";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string path = dir + "/state";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  EXPECT_FALSE(WriteFileAtomically(dir + "/missing/state", "x").ok());
  EXPECT_EQ(*ReadFile(path), "old");
}

TEST(AtomicFileTest, ProcessCrashDurabilityStillReplacesAtomically) {
  const std::string dir = Tmp() + "/atomic3";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string path = dir + "/spawns";
  ASSERT_TRUE(WriteFileAtomically(path, "old", 0600, Durability::kProcessCrash).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new", 0600, Durability::kProcessCrash).ok());
  EXPECT_EQ(*ReadFile(path), "new");
  EXPECT_EQ(CountEntries(dir), 1);
}

TEST(AtomicFileTest, MakeDirsIgnoresTheUmask) {
  ::umask(077);
  const std::string dir = Tmp() + "/a/b/c";
  ASSERT_TRUE(MakeDirs(dir, 0700).ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Parents stay traversable: a private leaf must not hide its siblings (sockets, say).
  ASSERT_EQ(::stat((Tmp() + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
}

}  // namespace
}  // namespace secureos
