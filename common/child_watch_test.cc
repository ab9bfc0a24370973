#include "common/child_watch.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(ChildWatchTest, OutputIsCapturedUpToTheCapThenDroppedAndEndOfFileCloses) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(p[0]);
  UniqueFd write_end(p[1]);
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ASSERT_EQ(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, read_end.get(), &ev), 0);
  std::string got;
  size_t captured = 0;
  auto append = [&](const char* d, size_t n) { got.append(d, n); };
  ASSERT_EQ(::write(write_end.get(), "hello", 5), 5);
  DrainChildOutput(epoll.get(), &read_end, &captured, 8, append);
  EXPECT_EQ(got, "hello");
  EXPECT_TRUE(read_end.valid());  // Empty for now, not closed.
  ASSERT_EQ(::write(write_end.get(), "world", 5), 5);  // Would pass the cap: dropped.
  DrainChildOutput(epoll.get(), &read_end, &captured, 8, append);
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(captured, 5u);
  write_end.Reset();
  DrainChildOutput(epoll.get(), &read_end, &captured, 8, append);
  EXPECT_FALSE(read_end.valid());
}

TEST(ChildWatchTest, KeysCarryWhichStreamAndForgetOldestKeepsWhatIsHeld) {
  EXPECT_EQ(KeyOf(WatchKey(7, 2)), 7u);
  EXPECT_EQ(WhichOf(WatchKey(7, 2)), 2);
  struct Entry {
    bool held;
  };
  std::map<std::string, std::unique_ptr<Entry>> entries;
  std::deque<std::string> order = {"a", "b", "c", "d"};
  for (const char* id : {"a", "b", "c", "d"}) entries[id] = std::make_unique<Entry>(Entry{false});
  entries["a"]->held = true;
  ForgetOldest<Entry>(&order, 2, &entries, [](const Entry& e) { return e.held; });
  // Two too many: b and c go, a stays because it is held.
  EXPECT_EQ(order, (std::deque<std::string>{"a", "d"}));
  EXPECT_EQ(entries.count("b"), 0u);
  EXPECT_EQ(entries.count("c"), 0u);
  EXPECT_EQ(entries.count("a"), 1u);
}

}  // namespace
}  // namespace secureos
