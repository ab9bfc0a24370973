#include "common/event_ring.h"

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace secureos {
namespace {

using common::v1::Event;

Event Named(const std::string& message) {
  Event e;
  e.set_message(message);
  return e;
}

TEST(EventRingTest, StampsSourceEpochTimeAndSequenceFromOne) {
  EventRing ring("capd", 8);
  EXPECT_EQ(ring.next_sequence(), 1u);
  EXPECT_EQ(ring.Publish(Named("a")), 1u);
  EXPECT_EQ(ring.Publish(Named("b")), 2u);
  EventRing::Batch b = ring.Read(1, 10, absl::ZeroDuration());
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_FALSE(b.lost.has_value());
  EXPECT_EQ(b.events[0]->source(), "capd");
  EXPECT_EQ(b.events[0]->epoch(), ring.epoch());
  EXPECT_EQ(b.events[0]->sequence(), 1u);
  EXPECT_GT(b.events[0]->time().seconds(), 0);
  EXPECT_EQ(b.events[1]->message(), "b");
  EXPECT_EQ(b.next_cursor, 3u);
  EXPECT_EQ(ring.epoch().size(), 16u);
  EXPECT_NE(EventRing("capd", 8).epoch(), ring.epoch());
}

TEST(EventRingTest, AnOverwrittenGapIsOneLostRecordWithTheExactCount) {
  EventRing ring("svcd", 4);
  for (int i = 1; i <= 10; ++i) ring.Publish(Named(absl::StrCat(i)));
  EXPECT_EQ(ring.oldest_sequence(), 7u);
  EventRing::Batch b = ring.Read(1, 100, absl::ZeroDuration());
  ASSERT_TRUE(b.lost.has_value());
  EXPECT_EQ(b.lost->from_sequence(), 1u);
  EXPECT_EQ(b.lost->count(), 6u);
  ASSERT_EQ(b.events.size(), 4u);
  EXPECT_EQ(b.events.front()->sequence(), 7u);
  EXPECT_EQ(b.events.back()->sequence(), 10u);
  // A reader that is caught up loses nothing.
  b = ring.Read(b.next_cursor, 100, absl::ZeroDuration());
  EXPECT_FALSE(b.lost.has_value());
  EXPECT_TRUE(b.events.empty());
}

TEST(EventRingTest, ReadRespectsMaxEvents) {
  EventRing ring("x", 16);
  for (int i = 0; i < 10; ++i) ring.Publish(Named("e"));
  EventRing::Batch b = ring.Read(3, 4, absl::ZeroDuration());
  ASSERT_EQ(b.events.size(), 4u);
  EXPECT_EQ(b.events[0]->sequence(), 3u);
  EXPECT_EQ(b.next_cursor, 7u);
}

TEST(EventRingTest, CloseWakesAWaitingReader) {
  EventRing ring("x", 16);
  std::atomic<bool> closed{false};
  std::thread reader([&] {
    EventRing::Batch b = ring.Read(1, 10, absl::Hours(1));
    closed = b.closed;
  });
  ring.Close();
  reader.join();
  EXPECT_TRUE(closed);
}

TEST(EventRingTest, AWaitingReaderGetsTheNextPublishedEvent) {
  EventRing ring("x", 16);
  EventRing::Batch got;
  std::thread reader([&] { got = ring.Read(1, 10, absl::Hours(1)); });
  ring.Publish(Named("wake"));
  reader.join();
  ASSERT_EQ(got.events.size(), 1u);
  EXPECT_EQ(got.events[0]->message(), "wake");
}

// Four publishers race a consumer that is slower than they are. Every sequence must reach
// the consumer exactly once, either as an event or inside exactly one lost record, and each
// publisher's own events must arrive in the order it published them.
TEST(EventRingTest, ConcurrentPublishersAndASlowConsumerAccountForEverySequence) {
  constexpr int kPublishers = 4;
  constexpr int kPerPublisher = 20000;
  constexpr uint64_t kTotal = kPublishers * kPerPublisher;
  EventRing ring("x", 64);
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&ring, p] {
      for (int i = 0; i < kPerPublisher; ++i) ring.Publish(Named(absl::StrCat(p, ":", i)));
    });
  }
  uint64_t cursor = 1, delivered = 0, lost = 0, lost_records = 0;
  std::map<int, int> last_seen;
  int reads = 0;
  while (cursor <= kTotal) {
    EventRing::Batch b = ring.Read(cursor, 16, absl::Milliseconds(100));
    if (b.lost.has_value()) {
      ASSERT_EQ(b.lost->from_sequence(), cursor);
      ASSERT_GT(b.lost->count(), 0u);
      cursor += b.lost->count();
      lost += b.lost->count();
      ++lost_records;
    }
    for (const auto& e : b.events) {
      ASSERT_EQ(e->sequence(), cursor);
      std::vector<std::string> parts = absl::StrSplit(e->message(), ':');
      int p, i;
      ASSERT_TRUE(absl::SimpleAtoi(parts[0], &p) && absl::SimpleAtoi(parts[1], &i));
      if (last_seen.count(p)) {
        ASSERT_GT(i, last_seen[p]);
      }
      last_seen[p] = i;
      ++cursor;
      ++delivered;
    }
    ASSERT_EQ(b.next_cursor, cursor);
    // Be slow on purpose so that the ring overruns this reader.
    if (++reads % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (auto& t : publishers) t.join();
  EXPECT_EQ(delivered + lost, kTotal);
  EXPECT_EQ(ring.next_sequence(), kTotal + 1);
  EXPECT_GT(lost_records, 0u) << "the consumer was never overrun; the test proves nothing";
  EXPECT_GT(delivered, 0u);
}

}  // namespace
}  // namespace secureos
