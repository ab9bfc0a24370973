#include "monitord/audit/audit_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/status.h"
#include "monitord/audit/audit_chain.h"

namespace secureos::monitord {
namespace {

constexpr char kCurrent[] = "audit.log";
constexpr size_t kMaxReadBytes = size_t{1} << 32;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

std::string CurrentPath(const std::string& dir) { return absl::StrCat(dir, "/", kCurrent); }

// The last line of `text` (which ends with a newline), or empty.
absl::string_view LastLine(absl::string_view text) {
  if (text.size() < 2) return {};
  const size_t start = text.rfind('\n', text.size() - 2);
  return text.substr(start == absl::string_view::npos ? 0 : start + 1, text.size() - 1 - (start == absl::string_view::npos ? 0 : start + 1));
}

uint64_t FirstSeq(absl::string_view lines) {
  absl::StatusOr<RecordHeader> h = ParseRecordHeader(lines.substr(0, lines.find('\n')));
  return h.ok() ? h->seq : 0;
}

absl::Status WriteAllBytes(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "write the audit log");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> AuditLog::Files(const std::string& dir) {
  std::vector<std::string> rotated;
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  while (d != nullptr) {
    const dirent* e = ::readdir(d.get());
    if (e == nullptr) break;
    const absl::string_view name = e->d_name;
    if (absl::StartsWith(name, "audit-") && absl::EndsWith(name, ".log")) rotated.push_back(absl::StrCat(dir, "/", name));
  }
  std::sort(rotated.begin(), rotated.end());  // Zero-padded sequences: name order is age.
  if (::access(CurrentPath(dir).c_str(), F_OK) == 0) rotated.push_back(CurrentPath(dir));
  return rotated;
}

std::string AuditLog::HeadPath(const std::string& dir) { return absl::StrCat(dir, "/audit.head"); }

AuditLog::AuditLog(AuditLogOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  SECUREOS_RETURN_IF_ERROR(log->Recover());
  log->writer_ = std::thread([p = log.get()] { p->WriterLoop(); });
  return log;
}

absl::Status AuditLog::Recover() {
  const std::string path = CurrentPath(options_.dir);
  absl::MutexLock w(&write_mu_);
  SECUREOS_ASSIGN_OR_RETURN(file_, OpenFile(path, O_RDWR | O_CREAT | O_APPEND, 0600));
  SECUREOS_ASSIGN_OR_RETURN(head_, OpenFile(HeadPath(options_.dir), O_RDWR | O_CREAT, 0600));
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxReadBytes));
  uint64_t torn = 0;
  if (!text.empty() && text.back() != '\n') {
    // A crash in the middle of a write: the partial record goes; a repair record says so.
    const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    torn = text.size() - keep;
    if (::ftruncate(file_.get(), static_cast<off_t>(keep)) != 0) return ErrnoToStatus(errno, "truncate " + path);
    text.resize(keep);
  }
  file_bytes_ = text.size();
  absl::string_view last = LastLine(text);
  std::string previous_file;
  if (last.empty()) {
    // A fresh file: the chain may go on from the newest rotated one.
    std::vector<std::string> files = Files(options_.dir);
    if (files.size() >= 2) {
      SECUREOS_ASSIGN_OR_RETURN(previous_file, ReadFile(files[files.size() - 2], kMaxReadBytes));
      last = LastLine(previous_file);
    }
  }
  absl::MutexLock lock(&mu_);
  last_hash_ = std::string(kGenesisHash);
  if (!last.empty()) {
    SECUREOS_ASSIGN_OR_RETURN(RecordHeader h, ParseRecordHeader(last));
    next_seq_ = h.seq + 1;
    last_hash_ = Sha256Hex(last);
  }
  durable_seq_ = next_seq_ - 1;
  file_first_seq_ = text.empty() ? next_seq_ : FirstSeq(text);
  if (torn > 0) AppendLocked("repair", absl::StrCat("{\"torn_bytes_removed\":", torn, "}"));
  return absl::OkStatus();
}

uint64_t AuditLog::AppendLocked(absl::string_view type, absl::string_view data_json) {
  const uint64_t seq = next_seq_++;
  std::string line = FormatRecord(seq, absl::Now(), type, last_hash_, data_json);
  last_hash_ = Sha256Hex(line);
  pending_.append(line).push_back('\n');
  pending_last_seq_ = seq;
  changed_.SignalAll();
  return seq;
}

uint64_t AuditLog::Queue(absl::string_view type, absl::string_view data_json) {
  absl::MutexLock lock(&mu_);
  if (pending_.size() >= options_.max_pending_bytes) {
    ++lost_unrecorded_;
    ++stats_.lost;
    return 0;
  }
  return AppendLocked(type, data_json);
}

uint64_t AuditLog::Append(absl::string_view type, absl::string_view data_json) {
  const uint64_t seq = Queue(type, data_json);
  if (seq != 0 && options_.fsync == FsyncPolicy::kEveryRecord) {
    // Group commit, led by the appenders: whoever holds the file commits everything queued,
    // so that one waiting for it often finds its record already written.
    absl::MutexLock w(&write_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (durable_seq_ >= seq) return seq;
    }
    CommitLocked();
  }
  return seq;
}

absl::Status AuditLog::RotateIfNeeded(size_t incoming) {
  if (file_bytes_ == 0 || file_bytes_ + incoming <= options_.max_file_bytes) return absl::OkStatus();
  if (::fdatasync(file_.get()) != 0) return ErrnoToStatus(errno, "sync the audit log");
  const std::string rotated = absl::StrFormat("%s/audit-%020d.log", options_.dir, file_first_seq_);
  if (::rename(CurrentPath(options_.dir).c_str(), rotated.c_str()) != 0) return ErrnoToStatus(errno, "rotate to " + rotated);
  SECUREOS_ASSIGN_OR_RETURN(file_, OpenFile(CurrentPath(options_.dir), O_WRONLY | O_CREAT | O_APPEND, 0600));
  file_bytes_ = 0;
  return absl::OkStatus();
}

bool AuditLog::CommitLocked() {
  std::string batch;
  uint64_t last_seq;
  std::string last_hash;
  {
    absl::MutexLock lock(&mu_);
    if (pending_.empty()) return !stats_.failing;
    batch.swap(pending_);
    last_seq = pending_last_seq_;
    last_hash = last_hash_;
  }
  const absl::Time start = absl::Now();
  const uint64_t first = FirstSeq(batch);
  absl::Status s = RotateIfNeeded(batch.size());
  if (s.ok() && file_bytes_ == 0) file_first_seq_ = first;
  if (s.ok()) s = WriteAllBytes(file_.get(), batch);
  if (s.ok() && options_.fsync != FsyncPolicy::kNone && ::fdatasync(file_.get()) != 0) {
    s = ErrnoToStatus(errno, "sync the audit log");
  }
  if (!s.ok()) {
    // A failed write may have left part of the batch: cut the file back, so that the retry
    // writes whole records after whole records.
    if (file_.valid() && ::ftruncate(file_.get(), static_cast<off_t>(file_bytes_)) != 0) {
      s = Annotate(s, absl::StrCat("and cutting it back failed: ", std::strerror(errno)));
    }
    bool first_failure;
    {
      absl::MutexLock lock(&mu_);
      batch.append(pending_);
      pending_.swap(batch);
      first_failure = !stats_.failing;
      stats_.failing = true;
      changed_.SignalAll();
    }
    if (first_failure && options_.on_error) options_.on_error(s);
    return false;
  }
  file_bytes_ += batch.size();
  // Rewritten in place (fixed width: one small write, no rename, no metadata for the log's
  // sync to carry) and not synced: after a power loss it may lag the log, never lead it.
  const std::string head = FormatHead(last_seq, last_hash);
  (void)!::pwrite(head_.get(), head.data(), head.size(), 0);
  absl::MutexLock lock(&mu_);
  stats_.records += static_cast<uint64_t>(std::count(batch.begin(), batch.end(), '\n'));
  ++stats_.commits;
  stats_.last_commit = absl::Now() - start;
  stats_.max_commit = std::max(stats_.max_commit, stats_.last_commit);
  stats_.all_commits += stats_.last_commit;
  stats_.failing = false;
  durable_seq_ = last_seq;
  if (lost_unrecorded_ > 0) {
    AppendLocked("lost", absl::StrCat("{\"records\":", lost_unrecorded_, ",\"reason\":\"the audit log could not be written\"}"));
    lost_unrecorded_ = 0;
  }
  changed_.SignalAll();
  return true;
}

void AuditLog::WriterLoop() {
  for (;;) {
    bool stop;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !pending_.empty() || stopping_; };
      mu_.Await(absl::Condition(&ready));
      // Batched: gather for one period (group commit); failing: retry once a period.
      if (!stopping_ && (options_.fsync != FsyncPolicy::kEveryRecord || stats_.failing)) {
        auto stop_now = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&stop_now), options_.batch);
      }
      stop = stopping_;
    }
    absl::MutexLock w(&write_mu_);
    const bool ok = CommitLocked();
    if (stop) {
      if (ok) CommitLocked();  // What a final "lost" record added.
      return;
    }
  }
}

absl::Status AuditLog::Flush() {
  absl::MutexLock w(&write_mu_);
  if (CommitLocked()) return absl::OkStatus();
  return absl::UnavailableError("the audit log cannot be written (see the audit-failure alert)");
}

AuditStats AuditLog::stats() const {
  absl::MutexLock lock(&mu_);
  AuditStats s = stats_;
  s.durable_seq = durable_seq_;
  return s;
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  if (writer_.joinable()) writer_.join();
}

}  // namespace secureos::monitord
