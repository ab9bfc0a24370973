#include "sandboxd/task_thread.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

TEST(TaskThreadTest, EveryTaskRunsOnTheSameThreadNotTheCallers) {
  TaskThread t;
  std::set<long> tids;
  std::vector<std::thread> callers;
  absl::Mutex mu;
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&] {
      t.Run([&] {
        absl::MutexLock lock(&mu);
        tids.insert(::syscall(SYS_gettid));
      });
    });
  }
  for (auto& c : callers) c.join();
  ASSERT_EQ(tids.size(), 1u);
  EXPECT_NE(*tids.begin(), ::syscall(SYS_gettid));
}

TEST(TaskThreadTest, RunWaitsForTheTask) {
  TaskThread t;
  int value = 0;
  t.Run([&] { value = 42; });
  EXPECT_EQ(value, 42);
}

}  // namespace
}  // namespace secureos::sandboxd
