// The fixture of the tests of the suite as a whole: all five daemons started for each test
// (tests/suite.h), their logs printed when it failed, and a failure when anything was left
// behind. Plus reading what the daemons publish and what monitord audits.
#ifndef SECUREOS_TESTS_SUITE_TEST_H_
#define SECUREOS_TESTS_SUITE_TEST_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "proto/common.pb.h"
#include "proto/monitord.pb.h"
#include "tests/process.h"
#include "tests/suite.h"

namespace secureos::test {

class SuiteTest : public ::testing::Test {
 protected:
  // The suite's options; a test overrides this to change them.
  virtual SuiteOptions Options() const { return {}; }
  // Runs before the daemons stop: stop services, delete containers.
  virtual void BeforeStop() {}

  void SetUp() override;
  void TearDown() override;

  RunResult Secctl(const std::vector<std::string>& args, std::optional<uid_t> uid = std::nullopt) const {
    return suite_->Secctl(args, uid);
  }

  std::unique_ptr<Suite> suite_;
};

// JSON into `out`, unknown fields ignored (secctl's output, audit records).
bool ParseJson(absl::string_view json, google::protobuf::Message* out);

// `daemon`'s events still in its ring (secctl --json events DAEMON --from 1).
std::vector<common::v1::Event> Events(const Suite& suite, const std::string& daemon);

// What monitord's audit log holds so far: its "event" and its "alert" records.
std::vector<common::v1::Event> AuditedEvents(const Suite& suite);
std::vector<monitord::v1::Alert> AuditedAlerts(const Suite& suite);

}  // namespace secureos::test

#endif  // SECUREOS_TESTS_SUITE_TEST_H_
