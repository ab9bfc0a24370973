// The audit log on a full disk, for real: a 64 KiB tmpfs (needs root: tagged local). Writes
// fail, the failure is reported once, records queue, and once space is back a "lost" record
// (when some were only counted) and the queued ones are written, and the chain verifies.
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "monitord/audit/audit_chain.h"
#include "monitord/audit/audit_log.h"

namespace secureos::monitord {
namespace {

class AuditDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit-full-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k"), 0) << strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  bool mounted_ = false;
};

TEST_F(AuditDiskFullTest, FailuresAreReportedQueuedAndNeverSilent) {
  std::atomic<int> errors{0};
  std::string first_error;
  AuditLogOptions o;
  o.dir = dir_;
  o.fsync = FsyncPolicy::kBatched;
  o.batch = absl::Milliseconds(5);
  o.max_pending_bytes = 32 << 10;
  o.on_error = [&](const absl::Status& s) {
    if (errors++ == 0) first_error = std::string(s.message());
  };
  auto log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string data = absl::StrCat("{\"pad\":\"", std::string(400, 'x'), "\"}");
  uint64_t written = 0, lost = 0;
  for (int i = 0; i < 400; ++i) {
    ((*log)->Append("event", data) > 0 ? written : lost)++;
    if (i % 20 == 0) (void)(*log)->Flush();
  }
  EXPECT_FALSE((*log)->Flush().ok());
  EXPECT_EQ(errors.load(), 1) << "reported once per episode";
  EXPECT_THAT(first_error, ::testing::HasSubstr("No space left on device"));
  EXPECT_TRUE((*log)->stats().failing);
  EXPECT_GT(lost, 0u);
  EXPECT_EQ((*log)->stats().lost, lost);
  // Space comes back: the queue drains, a lost record counts what was dropped.
  ASSERT_EQ(::mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT | MS_NOSUID | MS_NODEV, "size=4m"), 0);
  ASSERT_TRUE((*log)->Flush().ok());
  ASSERT_TRUE((*log)->Flush().ok());  // The lost record, queued by the first.
  EXPECT_FALSE((*log)->stats().failing);
  log->reset();
  std::string text;
  for (const std::string& f : AuditLog::Files(dir_)) {
    std::ifstream in(f);
    text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_THAT(text, ::testing::HasSubstr(absl::StrCat("\"type\":\"lost\"")));
  EXPECT_THAT(text, ::testing::HasSubstr(absl::StrCat("{\"records\":", lost, ",")));
  std::ifstream head(AuditLog::HeadPath(dir_));
  std::string head_text((std::istreambuf_iterator<char>(head)), std::istreambuf_iterator<char>());
  VerifyReport r = VerifyChain(AuditLog::Files(dir_), head_text);
  EXPECT_TRUE(r.ok()) << absl::StrJoin(r.problems, "\n");
  EXPECT_EQ(r.records, written + 1);  // Every accepted record, and the lost one.
}

}  // namespace
}  // namespace secureos::monitord
