#include "sandboxd/filter_cache.h"

#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

v1::SeccompProfile Base(const std::string& name) {
  v1::SeccompProfile p;
  p.set_base(name);
  return p;
}

TEST(FilterCacheTest, AProfileSeenBeforeIsTheSameProgramAndOthersAreNot) {
  FilterCache cache;
  auto a = cache.Get(Base("default"), false, 4096);
  auto b = cache.Get(Base("default"), false, 4096);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  auto other_fd = cache.Get(Base("default"), false, 1024);
  auto strict = cache.Get(Base("strict"), false, 4096);
  auto learning = cache.Get(Base("default"), true, 4096);
  ASSERT_TRUE(other_fd.ok() && strict.ok() && learning.ok());
  EXPECT_NE(other_fd->get(), a->get());
  EXPECT_NE(strict->get(), a->get());
  EXPECT_NE(learning->get(), a->get());
  EXPECT_TRUE((*learning)->learning());
  EXPECT_EQ(cache.size(), 4u);
}

TEST(FilterCacheTest, ErrorsAreNotKeptAndTheLeastRecentIsDropped) {
  FilterCache cache(2);
  EXPECT_FALSE(cache.Get(Base("defualt"), false, 4096).ok());
  EXPECT_EQ(cache.size(), 0u);
  auto first = cache.Get(Base("default"), false, 4096);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(cache.Get(Base("strict"), false, 4096).ok());
  ASSERT_TRUE(cache.Get(Base("default"), false, 4096).ok());  // Now the most recent.
  ASSERT_TRUE(cache.Get(Base("default"), false, 1024).ok());  // Drops strict.
  EXPECT_EQ(cache.size(), 2u);
  auto again = cache.Get(Base("default"), false, 4096);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());  // Still cached.
}

}  // namespace
}  // namespace secureos::sandboxd
