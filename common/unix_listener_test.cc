#include "common/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace secureos {
namespace {

// TEST_TMPDIR is too deep for sun_path's 108 bytes: sockets go in a short directory of
// their own under /tmp, removed at exit.
const std::string& ShortDir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/secureos-ul-XXXXXX";
    auto* d = new std::string(::mkdtemp(tmpl));
    std::atexit([] {
      if (std::system(("rm -rf " + *dir).c_str()) != 0) std::perror("rm -rf");
    });
    return d;
  }();
  return *dir;
}

std::string TempPath(const std::string& name) { return ShortDir() + "/" + name; }

UnixListener::Options Opts(const std::string& path, mode_t mode) {
  return UnixListener::Options{path, mode, ::geteuid(), ::getegid()};
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t m) : old_(::umask(m)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(UnixListenerTest, ModeComesFromTheConfigNotTheUmask) {
  for (mode_t umask_value : {0000, 0077, 0022}) {
    for (mode_t mode : {0600, 0660, 0666}) {
      UmaskGuard guard(umask_value);
      std::string path = TempPath("mode.sock");
      auto l = UnixListener::Open(Opts(path, mode));
      ASSERT_TRUE(l.ok()) << l.status();
      EXPECT_EQ(ModeOf(path), mode) << "umask " << std::oct << umask_value;
      EXPECT_TRUE(S_ISSOCK([&] { struct stat st; ::stat(path.c_str(), &st); return st.st_mode; }()));
    }
  }
}

TEST(UnixListenerTest, CreatedDirectoriesAre0755WhateverTheUmask) {
  UmaskGuard guard(0077);
  std::string path = TempPath("deep/er/dir.sock");
  auto l = UnixListener::Open(Opts(path, 0666));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(ModeOf(TempPath("deep")), 0755u);
  EXPECT_EQ(ModeOf(TempPath("deep/er")), 0755u);
}

TEST(UnixListenerTest, ASecondInstanceRefusesAndNamesTheFirst) {
  std::string path = TempPath("lock.sock");
  auto first = UnixListener::Open(Opts(path, 0600));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = UnixListener::Open(Opts(path, 0600));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(absl::StrCat("pid ", ::getpid())),
            absl::string_view::npos)
      << second.status();
  EXPECT_EQ(ModeOf(path), 0600u);  // The first one's socket is untouched.
}

TEST(UnixListenerTest, RemovesSocketAndLockWhenDestroyedAndAStaleSocketIsReplaced) {
  std::string path = TempPath("clean.sock");
  {
    auto l = UnixListener::Open(Opts(path, 0600));
    ASSERT_TRUE(l.ok()) << l.status();
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  EXPECT_NE(::access((path + ".lock").c_str(), F_OK), 0);
  // A stale socket from a crashed instance (no lock held) does not block a restart.
  int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(stale);
  auto l = UnixListener::Open(Opts(path, 0600));
  EXPECT_TRUE(l.ok()) << l.status();
}

TEST(UnixListenerTest, AcceptsNonBlockingCloexecConnectionsWithPeerCredentials) {
  std::string path = TempPath("accept.sock");
  auto l = UnixListener::Open(Opts(path, 0600));
  ASSERT_TRUE(l.ok()) << l.status();
  absl::Notification accepted;
  PeerCredentials seen;
  int flags = 0, fd_flags = 0;
  (*l)->Start([&](UniqueFd conn, const PeerCredentials& peer) {
    seen = peer;
    flags = ::fcntl(conn.get(), F_GETFL);
    fd_flags = ::fcntl(conn.get(), F_GETFD);
    accepted.Notify();
  });
  int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_TRUE(accepted.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ::close(c);
  EXPECT_EQ(seen.pid, ::getpid());
  EXPECT_EQ(seen.uid, ::geteuid());
  EXPECT_EQ(seen.gid, ::getegid());
  EXPECT_TRUE(flags & O_NONBLOCK);
  EXPECT_TRUE(fd_flags & FD_CLOEXEC);
  (*l)->Stop();
}

TEST(UnixListenerTest, RefusesPathsThatDoNotFitOrAreRelative) {
  EXPECT_EQ(UnixListener::Open(Opts("relative.sock", 0600)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto s = UnixListener::Open(Opts("/" + std::string(200, 'x'), 0600)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("limit is 107"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace secureos
