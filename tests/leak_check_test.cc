// Resources over many calls: 10,000 RPCs spread over every unary method of all five daemons
// (each on a new connection, as secctl makes them; most with an empty request, so the error
// paths run as often as the answers), then each daemon's open descriptors must be what they
// were after a warm-up of 2,000, and its resident memory within 2 MiB of it: a leak of 210
// bytes per call fails it. Event rings and monitord's alert store are kept small, since
// refused calls publish events and fire rules, and a store still filling looks like a leak
// (measured over 60,000 more calls with them small: 0 to 320 KiB per 10,000 calls, sandboxd
// flat after 40,000, none growing faster over time). Under AddressSanitizer, whose quarantine holds freed memory on purpose, only
// descriptors are compared. Needs root (tagged local).

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/proc_usage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/raw_rpc.h"
#include "tests/suite_test.h"

namespace secureos {
namespace {

struct Usage {
  int fds_min;
  int fds_max;
  int64_t rss_kib;
};

class LeakCheckTest : public test::SuiteTest {
 protected:
  // Small event rings and alert store: refused calls publish events, which fire monitord's
  // "denied call" rules, and a ring or store still filling up would look like a leak.
  test::SuiteOptions Options() const override {
    test::SuiteOptions options;
    options.event_ring_capacity = 64;
    options.extra_config["monitord"] = "alerts_kept: 64";
    return options;
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SuiteTest::SetUp());
    for (const char* daemon : test::kDaemons) {
      const google::protobuf::ServiceDescriptor* service = test::ServiceOf(daemon);
      for (int i = 0; i < service->method_count(); ++i) {
        const google::protobuf::MethodDescriptor* m = service->method(i);
        if (!m->server_streaming() && !m->client_streaming()) calls_.push_back({daemon, m});
      }
    }
  }

  // `n` calls, round robin over every unary method of every daemon.
  void Call(int n) {
    for (int i = 0; i < n; ++i) {
      const auto& [daemon, method] = calls_[next_++ % calls_.size()];
      const test::RawReply reply = test::CallRaw(suite_->Socket(daemon), *method, "");
      ASSERT_NE(reply.code, grpc::StatusCode::UNAVAILABLE) << daemon << "." << method->name() << ": " << reply.message;
    }
  }

  // Once the calls have settled: descriptors as the fewest and most of five samples over
  // half a second (a connection being torn down, an audit file being rotated come and go).
  std::map<std::string, Usage> Measure() {
    std::map<std::string, Usage> out;
    for (int sample = 0; sample < 5; ++sample) {
      absl::SleepFor(absl::Milliseconds(100));
      for (const char* daemon : test::kDaemons) {
        const int fds = CountOpenFds(suite_->Pid(daemon)).value_or(-1);
        auto [it, first] = out.emplace(daemon, Usage{fds, fds, test::ResidentKib(suite_->Pid(daemon))});
        if (!first) {
          it->second.fds_min = std::min(it->second.fds_min, fds);
          it->second.fds_max = std::max(it->second.fds_max, fds);
        }
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, const google::protobuf::MethodDescriptor*>> calls_;
  size_t next_ = 0;
};

TEST_F(LeakCheckTest, TenThousandCallsLeaveDescriptorsAndMemoryFlat) {
  ASSERT_GT(calls_.size(), 30u);
  Call(2000);
  const std::map<std::string, Usage> warm = Measure();
  Call(10000);
  const std::map<std::string, Usage> after = Measure();
  for (const char* daemon : test::kDaemons) {
    const Usage& a = warm.at(daemon);
    const Usage& b = after.at(daemon);
    std::cerr << daemon << ": fds " << a.fds_min << "-" << a.fds_max << " -> " << b.fds_min << "-" << b.fds_max
              << ", rss " << a.rss_kib << " -> " << b.rss_kib << " KiB\n";
    EXPECT_LE(b.fds_min, a.fds_max) << daemon << " holds more descriptors after 10,000 calls";
    if (test::kResidentMemoryMeaningful) {
      EXPECT_LE(b.rss_kib - a.rss_kib, 2048) << daemon << "'s resident memory grew";
    }
  }
}

}  // namespace
}  // namespace secureos
