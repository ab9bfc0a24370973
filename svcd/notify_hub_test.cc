#include "svcd/notify_hub.h"

#include <stdlib.h>

#include <cstdlib>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

// What sd_notify(3) does: one datagram to $NOTIFY_SOCKET.
bool Send(const std::string& path, const std::string& text) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const bool ok = ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                           sizeof(addr)) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

TEST(NotifyMessage, ParsesWhatSdNotifySends) {
  NotifyMessage m = ParseNotifyMessage("READY=1\nSTATUS=serving on :80\nMAINPID=7\nX=y");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.watchdog);
  EXPECT_EQ(m.status, "serving on :80");
  NotifyMessage w = ParseNotifyMessage("WATCHDOG=1");
  EXPECT_TRUE(w.watchdog);
  EXPECT_FALSE(w.ready);
  EXPECT_TRUE(ParseNotifyMessage("WATCHDOG=trigger").watchdog_trigger);
  EXPECT_TRUE(ParseNotifyMessage("STOPPING=1").stopping);
  EXPECT_FALSE(ParseNotifyMessage("READY=0").ready);
}

class NotifyHubTest : public ::testing::Test {
 protected:
  // Under /tmp: Bazel's TEST_TMPDIR is too long for a socket path.
  void SetUp() override {
    char tmpl[] = "/tmp/notify-hub-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    dir_ = top_ + "/sockets";
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + top_).c_str()), 0); }
  std::vector<NotifyMessage> WaitFor(size_t count) {
    for (int i = 0; i < 300; ++i) {
      {
        absl::MutexLock l(&mu_);
        if (got_.size() >= count) return got_;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    absl::MutexLock l(&mu_);
    return got_;
  }
  NotifyHub::Handler Handler() {
    return [this](const NotifyMessage& m) {
      absl::MutexLock l(&mu_);
      got_.push_back(m);
    };
  }
  std::string top_;
  std::string dir_;
  absl::Mutex mu_;
  std::vector<NotifyMessage> got_;
};

TEST_F(NotifyHubTest, MessagesArriveWithTheServiceAndTheSendersPid) {
  auto hub = NotifyHub::Start(dir_, Handler());
  ASSERT_TRUE(hub.ok()) << hub.status();
  auto web = (*hub)->Open("web");
  auto db = (*hub)->Open("db");
  ASSERT_TRUE(web.ok() && db.ok());
  EXPECT_EQ(*web, dir_ + "/web.sock");
  struct stat st;
  ASSERT_EQ(::stat(web->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  ASSERT_TRUE(Send(*web, "READY=1\nSTATUS=up"));
  ASSERT_TRUE(Send(*db, "WATCHDOG=1"));
  std::vector<NotifyMessage> got = WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  for (const NotifyMessage& m : got) {
    EXPECT_EQ(m.pid, ::getpid());
    EXPECT_EQ(m.uid, ::getuid());
    if (m.service == "web") {
      EXPECT_TRUE(m.ready);
      EXPECT_EQ(m.status, "up");
    } else {
      EXPECT_EQ(m.service, "db");
      EXPECT_TRUE(m.watchdog);
    }
  }
  EXPECT_EQ((*hub)->Open("web").value(), *web);  // Idempotent.
  (*hub)->Close("web");
  EXPECT_NE(::access(web->c_str(), F_OK), 0);
  EXPECT_FALSE(Send(*web, "READY=1"));
}

TEST_F(NotifyHubTest, TheSamePathWorksAfterARestart) {
  std::string path;
  {
    auto hub = NotifyHub::Start(dir_, Handler());
    ASSERT_TRUE(hub.ok());
    path = (*hub)->Open("s").value();
  }
  auto hub = NotifyHub::Start(dir_, Handler());
  ASSERT_TRUE(hub.ok());
  ASSERT_EQ((*hub)->Open("s").value(), path);
  ASSERT_TRUE(Send(path, "READY=1"));
  ASSERT_EQ(WaitFor(1).size(), 1u);
}

TEST_F(NotifyHubTest, TooLongAPathIsRefused) {
  auto hub = NotifyHub::Start(dir_ + "/" + std::string(100, 'x'), Handler());
  ASSERT_TRUE(hub.ok());
  EXPECT_EQ((*hub)->Open("s").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace secureos::svcd
