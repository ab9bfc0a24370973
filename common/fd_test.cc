#include "common/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace secureos {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int NewPipe(int* write_end) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  *write_end = p[1];
  return p[0];
}

TEST(UniqueFdTest, ClosesExactlyOnceWhenDestroyed) {
  int w;
  int r = NewPipe(&w);
  {
    UniqueFd a(r);
    EXPECT_TRUE(a.valid());
    EXPECT_EQ(a.get(), r);
  }
  EXPECT_FALSE(IsOpen(r));
  ::close(w);
}

TEST(UniqueFdTest, MoveTransfersOwnership) {
  int w;
  int r = NewPipe(&w);
  UniqueFd a(r);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the contract under test.
  EXPECT_EQ(b.get(), r);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), r);
  EXPECT_TRUE(IsOpen(r));
  c = UniqueFd(w);  // Assigning closes what c owned.
  EXPECT_FALSE(IsOpen(r));
  EXPECT_TRUE(IsOpen(w));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnershipAndResetCloses) {
  int w;
  int r = NewPipe(&w);
  UniqueFd a(r);
  EXPECT_EQ(a.Release(), r);
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(IsOpen(r));
  a.Reset(r);
  a.Reset();
  EXPECT_FALSE(IsOpen(r));
  ::close(w);
}

TEST(FdIoTest, OpenFileIsCloexecAndErrorsNameThePath) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/f";
  auto fd = OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_TRUE(WriteAll(fd->get(), "hello, world").ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello, world");
  auto missing = OpenFile(path + ".missing", O_RDONLY);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path + ".missing"), absl::string_view::npos);
}

TEST(FdIoTest, ReadAllEnforcesItsLimit) {
  int w;
  int r = NewPipe(&w);
  UniqueFd reader(r);
  ASSERT_TRUE(WriteAll(w, std::string(100, 'x')).ok());
  ::close(w);
  EXPECT_EQ(ReadAll(r, 10).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(FdTest, ReadFileAtReadsRelativeToAnOpenDirectory) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/readat";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_TRUE(WriteAll(OpenFile(dir + "/f", O_WRONLY | O_CREAT, 0644)->get(), "content").ok());
  absl::StatusOr<UniqueFd> d = OpenFile(dir, O_PATH | O_DIRECTORY);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*ReadFileAt(d->get(), "f"), "content");
  EXPECT_EQ(ReadFileAt(d->get(), "missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos
