#include "common/run_end.h"

#include <unistd.h>

#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"

namespace secureos {
namespace {

std::string PathIn(const std::string& dir) { return dir + "/events.end"; }

}  // namespace

absl::Status SaveRunEnd(const std::string& dir, const std::string& epoch, uint64_t last_sequence) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  common::v1::RunEnd end;
  end.set_epoch(epoch);
  end.set_last_sequence(last_sequence);
  std::string text;
  google::protobuf::TextFormat::PrintToString(end, &text);
  return WriteFileAtomically(PathIn(dir), text, 0600, Durability::kPowerLoss);
}

std::optional<common::v1::RunEnd> TakeRunEnd(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadFile(PathIn(dir), 4096);
  if (!text.ok()) {
    if (!absl::IsNotFound(text.status())) {
      Log(LogLevel::kWarning, "read the previous run's end", {{"error", std::string(text.status().message())}});
    }
    return std::nullopt;
  }
  // Removed first: should this run crash, its successor must not report this end as its own.
  if (::unlink(PathIn(dir).c_str()) != 0) {
    Log(LogLevel::kWarning, "remove the previous run's end", {{"error", ErrnoToStatus(errno, PathIn(dir)).ToString()}});
    return std::nullopt;
  }
  common::v1::RunEnd end;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &end) || end.epoch().empty()) {
    Log(LogLevel::kWarning, "the previous run's end is not readable", {{"file", PathIn(dir)}});
    return std::nullopt;
  }
  return end;
}

}  // namespace secureos
