// The audit log and its verification: each fsync policy writes a chain that verifies; an
// edited byte, a deleted line, two swapped lines and a truncated file are caught; rotation
// and reopening continue the chain; a torn tail is repaired.
#include "monitord/audit/audit_log.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "monitord/audit/audit_chain.h"

namespace secureos::monitord {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/audit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditLog> Open(FsyncPolicy policy, uint64_t max_file_bytes = 64 << 20) {
    AuditLogOptions o;
    o.dir = dir_;
    o.fsync = policy;
    o.batch = absl::Milliseconds(5);
    o.max_file_bytes = max_file_bytes;
    auto log = AuditLog::Open(o);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  void Fill(AuditLog& log, int n, int from = 0) {
    for (int i = from; i < from + n; ++i) {
      ASSERT_GT(log.Append("event", absl::StrCat("{\"n\":", i, ",\"message\":\"record ", i, "\"}")), 0u);
    }
  }

  VerifyReport Verify() { return VerifyChain(AuditLog::Files(dir_), Read(AuditLog::HeadPath(dir_))); }

  std::string current() const { return dir_ + "/audit.log"; }
  std::string dir_;
};

TEST_F(AuditLogTest, EachPolicyWritesAChainThatVerifies) {
  for (FsyncPolicy policy : {FsyncPolicy::kEveryRecord, FsyncPolicy::kBatched, FsyncPolicy::kNone}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto log = Open(policy);
    Fill(*log, 50);
    ASSERT_TRUE(log->Flush().ok());
    EXPECT_EQ(log->stats().records, 50u);
    log.reset();
    VerifyReport r = Verify();
    EXPECT_TRUE(r.ok()) << absl::StrJoin(r.problems, "\n");
    EXPECT_EQ(r.records, 50u);
    const std::vector<std::string> lines = absl::StrSplit(Read(current()), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 50u);
    EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("{\"seq\":1,\"time\":\"")));
    EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("\"type\":\"event\",\"prev\":\"", kGenesisHash, "\",\"data\":{\"n\":0")));
    EXPECT_THAT(lines[1], HasSubstr(absl::StrCat("\"prev\":\"", Sha256Hex(lines[0]), "\"")));
  }
}

TEST_F(AuditLogTest, EveryRecordReturnsOnceTheRecordIsOnDisk) {
  auto log = Open(FsyncPolicy::kEveryRecord);
  ASSERT_EQ(log->Append("alert", "{\"rule\":\"x\"}"), 1u);
  EXPECT_THAT(Read(current()), HasSubstr("\"type\":\"alert\""));  // No Flush needed.
}

TEST_F(AuditLogTest, QueuedRecordsAreCommittedByTheWriter) {
  auto log = Open(FsyncPolicy::kEveryRecord);
  uint64_t last = 0;
  for (int i = 0; i < 2000; ++i) last = log->Queue("event", absl::StrCat("{\"n\":", i, "}"));
  ASSERT_EQ(last, 2000u);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (log->stats().durable_seq < last && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(log->stats().durable_seq, last);
  EXPECT_THAT(Read(current()), HasSubstr("{\"n\":1999}"));
}

TEST_F(AuditLogTest, VerifyCatchesAnEditedByte) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 10); }
  std::string text = Read(current());
  text[text.find("record 4")] = 'R';
  Write(current(), text);
  VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(absl::StrJoin(r.problems, "\n"), HasSubstr("audit.log:6: prev does not match the record before it"));
}

TEST_F(AuditLogTest, VerifyCatchesAnEditOfTheLastRecordThroughTheHead) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 10); }
  std::string text = Read(current());
  text[text.rfind("record 9")] = 'R';
  Write(current(), text);
  EXPECT_THAT(absl::StrJoin(Verify().problems, "\n"), HasSubstr("record 10 differs from the one the head recorded"));
}

TEST_F(AuditLogTest, VerifyCatchesADeletedLine) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 10); }
  std::vector<std::string> lines = absl::StrSplit(Read(current()), '\n', absl::SkipEmpty());
  lines.erase(lines.begin() + 3);
  Write(current(), absl::StrJoin(lines, "\n") + "\n");
  const std::string problems = absl::StrJoin(Verify().problems, "\n");
  EXPECT_THAT(problems, HasSubstr("audit.log:4: record 5 where 4 was expected"));
  EXPECT_THAT(problems, HasSubstr("audit.log:4: prev does not match"));
}

TEST_F(AuditLogTest, VerifyCatchesTwoSwappedLines) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 10); }
  std::vector<std::string> lines = absl::StrSplit(Read(current()), '\n', absl::SkipEmpty());
  std::swap(lines[2], lines[3]);
  Write(current(), absl::StrJoin(lines, "\n") + "\n");
  const std::string problems = absl::StrJoin(Verify().problems, "\n");
  EXPECT_THAT(problems, HasSubstr("audit.log:3: record 4 where 3 was expected"));
  EXPECT_THAT(problems, HasSubstr("audit.log:4: record 3 where 5 was expected"));
}

TEST_F(AuditLogTest, VerifyCatchesATruncatedFile) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 10); }
  std::string text = Read(current());
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  lines.resize(7);  // Whole lines gone: the chain alone still holds, the head does not.
  Write(current(), absl::StrJoin(lines, "\n") + "\n");
  EXPECT_THAT(absl::StrJoin(Verify().problems, "\n"), HasSubstr("truncated: the head says record 10 was written, the log ends at 7"));
  Write(current(), text.substr(0, text.size() - 20));  // Cut inside the last record.
  EXPECT_THAT(absl::StrJoin(Verify().problems, "\n"), HasSubstr("the last record is torn"));
}

TEST_F(AuditLogTest, RotationAndReopeningContinueTheChain) {
  {
    auto log = Open(FsyncPolicy::kBatched, /*max_file_bytes=*/2000);
    for (int i = 0; i < 40; ++i) {
      Fill(*log, 1, i);
      ASSERT_TRUE(log->Flush().ok());  // One commit each: rotation happens between them.
    }
  }
  EXPECT_GT(AuditLog::Files(dir_).size(), 3u);
  {
    auto log = Open(FsyncPolicy::kEveryRecord, 2000);
    EXPECT_EQ(log->Append("event", "{\"after\":\"reopen\"}"), 41u);
  }
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << absl::StrJoin(r.problems, "\n");
  EXPECT_EQ(r.records, 41u);
  // A rotated file removed breaks the chain where it was.
  std::filesystem::remove(AuditLog::Files(dir_)[1]);
  EXPECT_FALSE(Verify().ok());
}

TEST_F(AuditLogTest, ATornTailIsCutAndTheRepairRecorded) {
  { auto log = Open(FsyncPolicy::kBatched); Fill(*log, 5); }
  std::ofstream(current(), std::ios::app) << "{\"seq\":6,\"time\":\"2026-";  // kill -9 mid-write.
  { auto log = Open(FsyncPolicy::kEveryRecord); }
  const std::string text = Read(current());
  EXPECT_THAT(text, HasSubstr("\"seq\":6,"));
  EXPECT_THAT(text, HasSubstr("\"type\":\"repair\""));
  EXPECT_THAT(text, HasSubstr("{\"torn_bytes_removed\":22}"));
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << absl::StrJoin(r.problems, "\n");
  EXPECT_EQ(r.records, 6u);
}

TEST(AuditChainTest, RecordHeadersAndHeads) {
  const std::string line = FormatRecord(7, absl::FromUnixSeconds(0), "event", kGenesisHash, "{\"a\":1}");
  EXPECT_EQ(line, absl::StrCat("{\"seq\":7,\"time\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"event\",\"prev\":\"",
                               kGenesisHash, "\",\"data\":{\"a\":1}}"));
  auto h = ParseRecordHeader(line);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->type, "event");
  EXPECT_EQ(h->data, "{\"a\":1}");
  EXPECT_EQ(h->seq, 7u);
  EXPECT_EQ(h->prev, kGenesisHash);
  EXPECT_FALSE(ParseRecordHeader("{\"seq\":x}").ok());
  EXPECT_FALSE(ParseRecordHeader("hello").ok());
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto head = ParseHead(FormatHead(3, Sha256Hex("x")));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->first, 3u);
  EXPECT_FALSE(ParseHead("3 nothex").ok());
}

}  // namespace
}  // namespace secureos::monitord
