#include "common/subscribe_stream.h"

#include <vector>

#include "gtest/gtest.h"

namespace secureos {
namespace {

using common::v1::SubscribeRequest;
using common::v1::SubscribeResponse;

void PublishN(EventRing* ring, int n) {
  for (int i = 0; i < n; ++i) ring->Publish(common::v1::Event());
}

TEST(SubscribeStartTest, AbsentFromSequenceMeansOnlyNewEvents) {
  EventRing ring("x", 16);
  PublishN(&ring, 3);
  EXPECT_EQ(*SubscribeStartCursor(ring, SubscribeRequest()), 4u);
}

TEST(SubscribeStartTest, FutureSequenceIsOutOfRangeAndNamesTheField) {
  EventRing ring("x", 16);
  PublishN(&ring, 3);
  SubscribeRequest r;
  r.set_from_sequence(9);
  auto s = SubscribeStartCursor(ring, r);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(s.status().message().find("from_sequence"), absl::string_view::npos);
}

TEST(SubscribeStartTest, EpochWithoutFromSequenceIsInvalid) {
  EventRing ring("x", 16);
  SubscribeRequest r;
  r.set_epoch(ring.epoch());
  auto s = SubscribeStartCursor(ring, r);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "from_sequence: required when epoch is set");
}

TEST(SubscribeStartTest, AnotherEpochStartsAtTheOldestEventOfThisOne) {
  EventRing ring("x", 16);
  PublishN(&ring, 3);
  SubscribeRequest r;
  r.set_epoch("0000000000000000");
  r.set_from_sequence(3000);
  EXPECT_EQ(*SubscribeStartCursor(ring, r), 1u);
}

TEST(ServeSubscribeTest, StreamsLostThenEventsAndEndsWhenTheRingCloses) {
  EventRing ring("x", 4);
  PublishN(&ring, 6);
  ring.Close();
  SubscribeRequest r;
  r.set_from_sequence(1);
  std::vector<SubscribeResponse> got;
  absl::Status s = ServeSubscribe(
      ring, r, [&](const SubscribeResponse& x) { got.push_back(x); return true; },
      [] { return false; });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(got[0].has_lost());
  EXPECT_EQ(got[0].lost().count(), 2u);
  EXPECT_EQ(got[1].event().sequence(), 3u);
  EXPECT_EQ(got[4].event().sequence(), 6u);
}

TEST(ServeSubscribeTest, StopsWhenTheClientGoesAway) {
  EventRing ring("x", 16);
  PublishN(&ring, 5);
  SubscribeRequest r;
  r.set_from_sequence(1);
  int writes = 0;
  absl::Status s = ServeSubscribe(
      ring, r, [&](const SubscribeResponse&) { return ++writes < 2; }, [] { return false; });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(writes, 2);
}

}  // namespace
}  // namespace secureos
