// SourceSubscriber against a real capd (local: it starts the daemon): every event in order,
// resuming after its cursor, and after kill -9 and a restart of capd a gap record and the new
// run's events within a second.
#include "monitord/source_subscriber.h"

#include <signal.h>

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/capd.grpc.pb.h"
#include "tests/process.h"

namespace secureos::monitord {
namespace {

namespace cv1 = ::secureos::common::v1;

class SourceSubscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::WriteFileOrDie(root_ / "etc/secureos/capd.conf",
                         "server { socket_mode: \"0660\" event_ring_capacity: 1024 shutdown_timeout_ms: 2000 }\n"
                         "drift_check_interval_seconds: 60\ngrantable_capabilities: \"cap_kill\"\n");
    StartCapd();
  }
  void TearDown() override {
    subscriber_.reset();
    test::StopDaemons({&capd_});
  }
  void StartCapd() {
    absl::StatusOr<test::Child> c = test::StartDaemon(root_, "capd");
    ASSERT_TRUE(c.ok()) << c.status();
    capd_.emplace(std::move(*c));
  }
  void Reload() {
    auto stub = capd::v1::Capd::NewStub(
        grpc::CreateChannel("unix:" + (root_ / "run/secureos/capd.sock"), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    cv1::ReloadResponse r;
    ASSERT_TRUE(stub->Reload(&ctx, {}, &r).ok());
  }
  void Subscribe(StreamCursor from) {
    auto s = SourceSubscriber::Start("capd", root_ / "run/secureos/capd.sock", std::move(from),
                                     [this](const cv1::SubscribeResponse& r) {
                                       absl::MutexLock lock(&mu_);
                                       records_.push_back(r);
                                     });
    ASSERT_TRUE(s.ok()) << s.status();
    subscriber_ = std::move(*s);
  }
  // Waits until `n` records arrived.
  std::vector<cv1::SubscribeResponse> AtLeast(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (records_.size() >= n || absl::Now() > deadline) return records_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  test::TempRoot root_;
  std::optional<test::Child> capd_;
  std::unique_ptr<SourceSubscriber> subscriber_;
  absl::Mutex mu_;
  std::vector<cv1::SubscribeResponse> records_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SourceSubscriberTest, EverythingInOrderThenResumeAfterTheCursor) {
  Subscribe({});
  Reload();
  Reload();
  std::vector<cv1::SubscribeResponse> got = AtLeast(3);  // Started, reloaded, reloaded.
  ASSERT_GE(got.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].has_event());
    EXPECT_EQ(got[i].event().sequence(), i + 1);
  }
  const StreamCursor cursor = subscriber_->status().cursor;
  EXPECT_EQ(cursor.sequence, got.size());
  // A new subscriber from that cursor gets only what came after it.
  subscriber_.reset();
  {
    absl::MutexLock lock(&mu_);
    records_.clear();
  }
  Reload();
  Subscribe(cursor);
  got = AtLeast(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event().sequence(), cursor.sequence + 1);
  EXPECT_EQ(got[0].event().kind(), cv1::EVENT_KIND_CONFIG_RELOADED);
}

TEST_F(SourceSubscriberTest, ARestartedDaemonIsFollowedAgainWithinASecondAndTheGapRecorded) {
  Subscribe({});
  ASSERT_GE(AtLeast(1).size(), 1u);
  const std::string old_epoch = subscriber_->status().cursor.epoch;
  capd_->Signal(SIGKILL);
  ASSERT_TRUE(capd_->Wait(absl::Seconds(10)).has_value());
  capd_.reset();
  absl::SleepFor(absl::Seconds(2));  // Long enough for gRPC's default backoff to grow.
  ::unlink((root_ / "run/secureos/capd.sock").c_str());
  const size_t before = AtLeast(0).size();
  StartCapd();
  const absl::Time up = absl::Now();
  std::vector<cv1::SubscribeResponse> got = AtLeast(before + 2);
  const absl::Duration took = absl::Now() - up;
  ASSERT_GE(got.size(), before + 2);
  EXPECT_LT(took, absl::Seconds(1)) << "re-subscribed after " << took;
  ASSERT_TRUE(got[before].has_lost());
  EXPECT_EQ(got[before].lost().count(), 0u);  // Unknown: the old run's unread events are gone.
  ASSERT_TRUE(got[before + 1].has_event());
  EXPECT_NE(got[before + 1].event().epoch(), old_epoch);
  EXPECT_EQ(got[before + 1].event().sequence(), 1u);
  EXPECT_GE(subscriber_->status().reconnects, 1u);
}

TEST_F(SourceSubscriberTest, WhatACleanlyStoppedDaemonPublishedUnreadIsCountedExactly) {
  Subscribe({});
  ASSERT_GE(AtLeast(1).size(), 1u);
  subscriber_.reset();  // Its reader goes away...
  const StreamCursor cursor = [&] {
    absl::MutexLock lock(&mu_);
    return StreamCursor{records_.back().event().epoch(), records_.back().event().sequence()};
  }();
  {
    absl::MutexLock lock(&mu_);
    records_.clear();
  }
  Reload();  // ...while capd publishes three more events, stops (a fourth), and starts again.
  Reload();
  Reload();
  test::StopDaemons({&capd_});
  capd_.reset();
  StartCapd();
  Subscribe(cursor);
  std::vector<cv1::SubscribeResponse> got = AtLeast(2);
  ASSERT_GE(got.size(), 2u);
  ASSERT_TRUE(got[0].has_lost());
  EXPECT_EQ(got[0].lost().epoch(), cursor.epoch);
  EXPECT_EQ(got[0].lost().from_sequence(), cursor.sequence + 1);
  EXPECT_EQ(got[0].lost().count(), 4u);
  ASSERT_TRUE(got[1].has_event());
  EXPECT_EQ(got[1].event().kind(), cv1::EVENT_KIND_DAEMON_STARTED);
  EXPECT_EQ(got[1].event().lifecycle().previous().last_sequence(), cursor.sequence + 4);
  EXPECT_EQ(subscriber_->status().lost_events, 4u);

  // Read to its end, a cleanly stopped run leaves no gap at all.
  Reload();
  AtLeast(3);
  test::StopDaemons({&capd_});
  capd_.reset();
  StartCapd();
  got = AtLeast(5);  // + reloaded, stopping, and the next run's started.
  ASSERT_GE(got.size(), 5u);
  EXPECT_EQ(got[3].event().kind(), cv1::EVENT_KIND_DAEMON_STOPPING);
  ASSERT_TRUE(got[4].has_event()) << "no lost record between two runs read to the end";
  EXPECT_EQ(got[4].event().kind(), cv1::EVENT_KIND_DAEMON_STARTED);
  EXPECT_EQ(subscriber_->status().lost_records, 1u);
}

}  // namespace
}  // namespace secureos::monitord
