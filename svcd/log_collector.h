// Service logs: each service's stdout and stderr, captured by svcd and kept as size-rotated
// files, "<log_dir>/<name>.log" (current), "<name>.log.1" (newest rotated) ... ".N".
//
// How: every service writes into a FIFO of its own, <fifo_dir>/<name>.fifo, that capd or
// sandboxd opens for it as fds 1 and 2. svcd holds the FIFO open read-write (so it never
// sees end of file while services come and go) and one thread drains every FIFO into its log.
// capd and sandboxd open a FIFO read-write for the service, so the pipe always has a reader
// and the service's writes never fail (nor raise SIGPIPE) while svcd restarts: what it writes
// meanwhile waits in the pipe (1 MiB; then its writes block) until the next svcd opens the
// same FIFO again and drains it. Writes of up to PIPE_BUF bytes (4096) stay whole lines
// in the log even when stdout and stderr interleave.
//
// Files are filled up to max_bytes with whole lines: of what is read at once, the lines that
// still fit go to the current file, then it rotates: ".N-1" becomes ".N" (the oldest beyond
// files_kept is removed), the current file becomes ".1", a new one is started. A line longer
// than max_bytes is cut at max_bytes. With files_kept 0 the current file starts over.
//
// Thread-safe.
#ifndef SECUREOS_SVCD_LOG_COLLECTOR_H_
#define SECUREOS_SVCD_LOG_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/child_watch.h"
#include "common/fd.h"

namespace secureos::svcd {

class LogCollector {
 public:
  struct Options {
    std::string fifo_dir;   // Made 0700 when missing.
    std::string log_dir;    // Made 0750 when missing.
    uint64_t max_bytes = 10 << 20;
    uint32_t files_kept = 3;
  };

  static absl::StatusOr<std::unique_ptr<LogCollector>> Start(Options options);
  // Stops draining. The FIFOs stay: running services keep writing into them for the next
  // svcd to drain.
  ~LogCollector();

  // Rotation settings from now on (configuration reload).
  void SetLimits(uint64_t max_bytes, uint32_t files_kept);

  // Makes (or, after an svcd restart, reopens) the FIFO of `service` and drains it from now
  // on; returns its path, for the launcher's stdout_path/stderr_path. Idempotent.
  absl::StatusOr<std::string> Open(const std::string& service);
  // Drains what is left, stops, and removes the FIFO (the service was removed).
  void Close(const std::string& service);

  // Streams the log of `service`: from `tail_bytes` before the end (at a line start, reaching
  // into the newest rotated file when the current one is shorter), then, with `follow`, what
  // is written from then on, across rotations, until `write` returns false or `cancelled()`.
  // NOT_FOUND when the service has no log.
  absl::Status Read(const std::string& service, uint64_t tail_bytes, bool follow,
                    const std::function<bool(absl::string_view)>& write,
                    const std::function<bool()>& cancelled);

  // Path of the current log file of `service`.
  std::string LogPath(const std::string& service) const;

 private:
  struct Stream {
    std::string name;
    UniqueFd fifo;      // O_RDWR | O_NONBLOCK.
    UniqueFd file;      // The current log, O_APPEND.
    uint64_t size = 0;  // Of the current log.
    uint64_t key = 0;
  };

  LogCollector(Options options, WatchSet set);
  void Loop();
  void Drain(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Append(Stream& s, absl::string_view data) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Rotate(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OpenLogFile(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  WatchSet set_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  absl::CondVar written_;  // Signalled after every append and rotation.
  uint64_t max_bytes_ ABSL_GUARDED_BY(mu_);
  uint32_t files_kept_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Stream*> by_key_ ABSL_GUARDED_BY(mu_);
  // Rotations so far per service: a follower that sees it change reopens the log.
  std::map<std::string, uint64_t> rotations_ ABSL_GUARDED_BY(mu_);
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_LOG_COLLECTOR_H_
