// The audit log's record format and hash chain: JSON lines, each carrying the SHA-256 of the
// line before it, so that an edited byte, a removed line and two swapped lines break the chain
// where they are. A truncation at a line boundary leaves a valid chain; the head file (the last
// sequence and hash, rewritten at every commit) is what reveals it.
//
//   {"seq":1,"time":"2026-12-04T12:00:00.000000Z","type":"event","prev":"000...000","data":{...}}
//
// seq counts records across rotations from 1; prev of the very first record is 64 zeros, and
// the first record of a rotated-to file continues the chain of the file before it.
#ifndef SECUREOS_MONITORD_AUDIT_AUDIT_CHAIN_H_
#define SECUREOS_MONITORD_AUDIT_AUDIT_CHAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace secureos::monitord {

// 64 zeros: the prev of the first record.
inline constexpr absl::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lower-case hex SHA-256 of `bytes` (OpenSSL's libcrypto).
std::string Sha256Hex(absl::string_view bytes);

// One line (without its newline): `data_json` must be a JSON object on one line.
std::string FormatRecord(uint64_t seq, absl::Time time, absl::string_view type, absl::string_view prev,
                         absl::string_view data_json);

// The parts of a line: what the chain needs, and what readers of the records need.
struct RecordHeader {
  uint64_t seq = 0;
  std::string prev;
  std::string type;       // "event", "alert", "lost", ...
  absl::string_view data;  // The data object's JSON: a view into the parsed line.
};
// INVALID_ARGUMENT when the line is not a record (naming what is missing).
absl::StatusOr<RecordHeader> ParseRecordHeader(absl::string_view line);

// The head file's content: "seq hash\n".
std::string FormatHead(uint64_t seq, absl::string_view hash);
absl::StatusOr<std::pair<uint64_t, std::string>> ParseHead(absl::string_view text);

// What `secctl monitor audit verify` reports.
struct VerifyReport {
  uint64_t records = 0;
  uint64_t files = 0;
  std::vector<std::string> problems;  // "audit.log:17: prev does not match line 16 (edited, removed or reordered)".
  bool ok() const { return problems.empty(); }
};

// Checks the chain through `files` (oldest first) and against the head file text (empty when
// there is none).
VerifyReport VerifyChain(const std::vector<std::string>& files, absl::string_view head_text);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_AUDIT_AUDIT_CHAIN_H_
