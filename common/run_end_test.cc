// The previous run's end: saved, taken once, absent after a crash.
#include "common/run_end.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(RunEndTest, SavedThenTakenOnce) {
  const std::string dir = ::testing::TempDir() + "/run-end/state";
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(TakeRunEnd(dir).has_value());  // A first start.
  ASSERT_TRUE(SaveRunEnd(dir, "abc123", 4242).ok());
  std::optional<common::v1::RunEnd> end = TakeRunEnd(dir);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->epoch(), "abc123");
  EXPECT_EQ(end->last_sequence(), 4242u);
  // Taken: a run that then crashes leaves nothing for its successor.
  EXPECT_FALSE(TakeRunEnd(dir).has_value());
}

TEST(RunEndTest, AnUnreadableFileIsNoEnd) {
  const std::string dir = ::testing::TempDir() + "/run-end-bad";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/events.end") << "epoch: \"x\" last_sequence: nonsense\n"; }
  EXPECT_FALSE(TakeRunEnd(dir).has_value());
  EXPECT_FALSE(std::filesystem::exists(dir + "/events.end"));
}

}  // namespace
}  // namespace secureos
