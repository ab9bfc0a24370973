// The audit log: every event and alert monitord sees, as hash-chained JSON lines
// (audit_chain.h) in <dir>/audit.log, rotated by size to <dir>/audit-<first seq>.log, with
// <dir>/audit.head naming the last record written.
//
// Durability (FsyncPolicy):
//   kEveryRecord  Append returns once its record is on disk; appenders that arrive while a
//                 write is in flight share the next one (group commit).
//   kBatched      Append returns at once; a writer thread writes what is queued and syncs it
//                 every `batch` (group commit of everything queued).
//   kNone         like kBatched without the sync: the kernel writes when it wants.
// The head file follows each commit (rewritten in place, fixed width, not synced: after a
// power loss it may be older than the log, never newer).
//
// Failures are never silent: when a write or sync fails (disk full), records stay queued (up
// to max_pending_bytes; beyond that new ones are only counted), `on_error` is called once
// for the episode (monitord raises an alert), writes are retried every `batch`, and once
// they succeed a "lost" record with the count comes first. A torn last record (a crash in
// the middle of a write) is cut off at Open and a "repair" record says how many bytes.
//
// Thread-safe.
#ifndef SECUREOS_MONITORD_AUDIT_AUDIT_LOG_H_
#define SECUREOS_MONITORD_AUDIT_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/fd.h"

namespace secureos::monitord {

enum class FsyncPolicy { kEveryRecord, kBatched, kNone };

struct AuditLogOptions {
  std::string dir;  // Exists.
  FsyncPolicy fsync = FsyncPolicy::kBatched;
  absl::Duration batch = absl::Milliseconds(20);
  uint64_t max_file_bytes = 64 << 20;     // Rotation.
  size_t max_pending_bytes = 64 << 20;    // Held while writes fail.
  std::function<void(const absl::Status&)> on_error;  // Once per failing episode; may be null.
};

struct AuditStats {
  uint64_t records = 0;       // Written (committed).
  uint64_t durable_seq = 0;   // The last sequence written (and synced, per policy).
  uint64_t lost = 0;          // Counted, never written (the queue was full while writes failed).
  uint64_t commits = 0;
  absl::Duration last_commit;  // Time of the last write + sync.
  absl::Duration max_commit;   // The longest one.
  absl::Duration all_commits;  // Their sum.
  bool failing = false;
};

class AuditLog {
 public:
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(AuditLogOptions options);
  // Commits what is queued, then stops the writer.
  ~AuditLog();

  // Queues a record of `type` ("event", "alert", ...) with `data_json` (one JSON object on one
  // line); its sequence, or 0 when it was only counted as lost. With kEveryRecord it returns
  // once the record is on disk (or the write failed: then it stays queued).
  uint64_t Append(absl::string_view type, absl::string_view data_json);
  // As Append, but never waits, whatever the policy: the writer commits the record (at once
  // with kEveryRecord, together with whatever else is queued by then; within a period with
  // kBatched). stats().durable_seq tells when it is on disk. For a single appender that
  // must not stall on every sync (monitord's engine).
  uint64_t Queue(absl::string_view type, absl::string_view data_json);
  // Writes and syncs (per policy) everything queued now.
  absl::Status Flush();

  AuditStats stats() const;
  // The files of the log, oldest first, and the head file's path (for verify).
  static std::vector<std::string> Files(const std::string& dir);
  static std::string HeadPath(const std::string& dir);

 private:
  explicit AuditLog(AuditLogOptions options);
  absl::Status Recover();
  void WriterLoop();
  // Writes the queued bytes; false after a failure (they stay queued).
  bool CommitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status RotateIfNeeded(size_t incoming) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  uint64_t AppendLocked(absl::string_view type, absl::string_view data_json) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AuditLogOptions options_;
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // The file: one commit at a time.
  UniqueFd file_ ABSL_GUARDED_BY(write_mu_);
  UniqueFd head_ ABSL_GUARDED_BY(write_mu_);
  uint64_t file_bytes_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint64_t file_first_seq_ ABSL_GUARDED_BY(write_mu_) = 0;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::string pending_ ABSL_GUARDED_BY(mu_);     // Formatted lines, queued.
  uint64_t pending_last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::string last_hash_ ABSL_GUARDED_BY(mu_);   // Of the last line formatted.
  uint64_t durable_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t lost_unrecorded_ ABSL_GUARDED_BY(mu_) = 0;
  AuditStats stats_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_AUDIT_AUDIT_LOG_H_
