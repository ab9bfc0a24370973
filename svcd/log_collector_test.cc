#include "svcd/log_collector.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

off_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

class LogCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/logs", n++);
    options_.fifo_dir = dir_ + "/fifo";
    options_.log_dir = dir_ + "/log";
    options_.max_bytes = 4096;
    options_.files_kept = 2;
  }
  // Opens the service's FIFO as capd and sandboxd open it for a service: read-write, so that
  // its writes never fail for want of a reader while svcd restarts.
  int Writer(const std::string& fifo) {
    int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0) << fifo;
    return fd;
  }
  // Waits until the log holds `n` bytes in all.
  bool WaitForBytes(const std::string& name, off_t n) {
    const std::string log = options_.log_dir + "/" + name + ".log";
    for (int i = 0; i < 500; ++i) {
      off_t total = std::max<off_t>(SizeOf(log), 0) + std::max<off_t>(SizeOf(log + ".1"), 0) +
                    std::max<off_t>(SizeOf(log + ".2"), 0);
      if (total >= n) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  std::string Read(LogCollector& c, const std::string& name, uint64_t tail) {
    std::string out;
    absl::Status s = c.Read(name, tail, false, [&](absl::string_view d) { out.append(d.data(), d.size()); return true; },
                            [] { return false; });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  std::string dir_;
  LogCollector::Options options_;
};

TEST_F(LogCollectorTest, WhatTheServiceWritesReachesItsLog) {
  auto c = LogCollector::Start(options_);
  ASSERT_TRUE(c.ok()) << c.status();
  auto fifo = (*c)->Open("web");
  ASSERT_TRUE(fifo.ok()) << fifo.status();
  struct stat st;
  ASSERT_EQ(::lstat(fifo->c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int w = Writer(*fifo);
  ASSERT_EQ(::write(w, "hello\nworld\n", 12), 12);
  ASSERT_TRUE(WaitForBytes("web", 12));
  EXPECT_EQ(Slurp(options_.log_dir + "/web.log"), "hello\nworld\n");
  EXPECT_EQ(Read(**c, "web", 0 + 6), "world\n");  // A tail starts at a line.
  EXPECT_EQ(Read(**c, "web", 100), "hello\nworld\n");
  ::close(w);
  EXPECT_EQ((*c)->Read("nope", 10, false, [](absl::string_view) { return true; }, [] { return false; }).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LogCollectorTest, RotatesBySizeAndKeepsOnlyFilesKept) {
  auto c = LogCollector::Start(options_);
  ASSERT_TRUE(c.ok()) << c.status();
  int w = Writer((*c)->Open("r").value());
  const std::string line(99, 'x');
  for (int i = 0; i < 200; ++i) {  // 20000 bytes: the current file, .1, .2, and older ones dropped.
    const std::string l = absl::StrCat(line.substr(0, 95), absl::Dec(i, absl::kZeroPad4), "\n");
    ASSERT_EQ(::write(w, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  ::close(w);
  ASSERT_TRUE(WaitForBytes("r", 4096 * 2));
  absl::SleepFor(absl::Milliseconds(200));
  const std::string log = options_.log_dir + "/r.log";
  EXPECT_LE(SizeOf(log), 4096);
  EXPECT_EQ(SizeOf(log + ".1"), 4000);  // Filled with whole lines: the 40 that fit in 4096.
  EXPECT_LE(SizeOf(log + ".2"), 4096);
  EXPECT_EQ(SizeOf(log + ".3"), -1);
  EXPECT_THAT(Slurp(log), HasSubstr("0199\n"));
  // A tail longer than the current file reaches into .1, in order, from a line start.
  const std::string tail = Read(**c, "r", 6000);
  EXPECT_THAT(tail, HasSubstr("0199\n"));
  EXPECT_EQ(tail.find(line.substr(0, 95)), 0u);
  EXPECT_LT(tail.find(Slurp(log + ".1").substr(Slurp(log + ".1").size() - 100)), tail.find(Slurp(log)));
}

TEST_F(LogCollectorTest, FollowSeesNewWritesAcrossRotation) {
  auto c = LogCollector::Start(options_);
  ASSERT_TRUE(c.ok()) << c.status();
  int w = Writer((*c)->Open("f").value());
  std::string seen;
  absl::Mutex mu;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    (void)(*c)->Read("f", 1 << 20, true,
                     [&](absl::string_view d) { absl::MutexLock l(&mu); seen.append(d.data(), d.size()); return true; },
                     [&] { return stop.load(); });
  });
  absl::SleepFor(absl::Milliseconds(100));  // Following by now (the tail covers it if not).
  std::string expected;
  for (int i = 0; i < 100; ++i) {  // 10000 bytes: two rotations while followed.
    const std::string l = absl::StrCat(std::string(95, 'y'), absl::Dec(i, absl::kZeroPad4), "\n");
    expected += l;
    ASSERT_EQ(::write(w, l.data(), l.size()), static_cast<ssize_t>(l.size()));
    absl::SleepFor(absl::Milliseconds(1));
  }
  for (int i = 0; i < 300; ++i) {
    {
      absl::MutexLock l(&mu);
      if (seen.size() >= expected.size()) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop = true;
  reader.join();
  ::close(w);
  EXPECT_EQ(seen, expected);
}

TEST_F(LogCollectorTest, NothingIsLostWhileSvcdRestarts) {
  std::string fifo;
  int w;
  {
    auto c = LogCollector::Start(options_);
    ASSERT_TRUE(c.ok()) << c.status();
    fifo = (*c)->Open("s").value();
    w = Writer(fifo);
    ASSERT_EQ(::write(w, "before\n", 7), 7);
    ASSERT_TRUE(WaitForBytes("s", 7));
  }
  // svcd is down: the service keeps writing into the pipe.
  ASSERT_EQ(::write(w, "during\n", 7), 7);
  auto c = LogCollector::Start(options_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ((*c)->Open("s").value(), fifo);
  ASSERT_EQ(::write(w, "after\n", 6), 6);
  ASSERT_TRUE(WaitForBytes("s", 20));
  EXPECT_EQ(Slurp(options_.log_dir + "/s.log"), "before\nduring\nafter\n");
  ::close(w);
  (*c)->Close("s");
  EXPECT_EQ(SizeOf(fifo), -1);  // Removed with the service.
}

TEST_F(LogCollectorTest, ALogFileStartsOverWhenNoneAreKept) {
  options_.files_kept = 0;
  auto c = LogCollector::Start(options_);
  ASSERT_TRUE(c.ok()) << c.status();
  int w = Writer((*c)->Open("z").value());
  const std::string chunk(1000, 'z');
  for (int i = 0; i < 10; ++i) ASSERT_EQ(::write(w, chunk.data(), chunk.size()), 1000);
  ::close(w);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_LE(SizeOf(options_.log_dir + "/z.log"), 4096);
  EXPECT_EQ(SizeOf(options_.log_dir + "/z.log.1"), -1);
}

}  // namespace
}  // namespace secureos::svcd
