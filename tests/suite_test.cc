#include "tests/suite_test.h"

#include <iostream>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "monitord/audit/audit_chain.h"
#include "monitord/audit/audit_log.h"

namespace secureos::test {
namespace {

// The records of one type in monitord's audit log, parsed into `M`.
template <typename M>
std::vector<M> Audited(const Suite& suite, absl::string_view type) {
  std::vector<M> out;
  for (const std::string& file : monitord::AuditLog::Files(suite.root() / "var/lib/monitord/audit")) {
    for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(file), '\n', absl::SkipEmpty())) {
      absl::StatusOr<monitord::RecordHeader> record = monitord::ParseRecordHeader(line);
      M m;
      if (record.ok() && record->type == type && ParseJson(record->data, &m)) out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace

void SuiteTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start(Options());
  ASSERT_TRUE(suite.ok()) << suite.status();
  suite_ = std::move(*suite);
}

void SuiteTest::TearDown() {
  if (suite_ == nullptr) return;
  BeforeStop();
  if (HasFailure()) std::cerr << suite_->Logs();
  EXPECT_THAT(suite_->Stop(), ::testing::IsEmpty()) << "left behind";
}

bool ParseJson(absl::string_view json, google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(std::string(json), out, o).ok();
}

std::vector<common::v1::Event> Events(const Suite& suite, const std::string& daemon) {
  std::vector<common::v1::Event> out;
  RunResult r = suite.Secctl({"--json", "events", daemon, "--from", "1"});
  EXPECT_EQ(r.exit_code, 0) << "events " << daemon << ": " << r.err;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    common::v1::SubscribeResponse record;
    if (ParseJson(line, &record) && record.has_event()) out.push_back(record.event());
  }
  return out;
}

std::vector<common::v1::Event> AuditedEvents(const Suite& suite) {
  return Audited<common::v1::Event>(suite, "event");
}

std::vector<monitord::v1::Alert> AuditedAlerts(const Suite& suite) {
  return Audited<monitord::v1::Alert>(suite, "alert");
}

}  // namespace secureos::test
