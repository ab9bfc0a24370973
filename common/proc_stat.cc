#include "common/proc_stat.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"

namespace secureos {

absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat_text) {
  // comm (field 2) may contain spaces and parentheses: count from the last ')'.
  size_t close = stat_text.rfind(')');
  if (close == absl::string_view::npos) return absl::InternalError("malformed /proc stat");
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat_text.substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); start time is field 22.
  uint64_t start;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &start)) {
    return absl::InternalError("malformed /proc stat: no start time");
  }
  return start;
}

absl::StatusOr<char> ParseState(absl::string_view stat_text) {
  size_t close = stat_text.rfind(')');
  if (close == absl::string_view::npos || close + 2 >= stat_text.size()) {
    return absl::InternalError("malformed /proc stat: no state");
  }
  return stat_text[close + 2];
}

absl::StatusOr<char> ReadState(pid_t pid, const std::string& proc) {
  absl::StatusOr<std::string> stat = ReadFile(absl::StrCat(proc, "/", pid, "/stat"));
  if (!stat.ok()) return stat.status();
  return ParseState(*stat);
}

absl::StatusOr<uint64_t> ReadStartTime(pid_t pid, const std::string& proc) {
  absl::StatusOr<std::string> stat = ReadFile(absl::StrCat(proc, "/", pid, "/stat"));
  if (!stat.ok()) return stat.status();
  return ParseStartTime(*stat);
}

}  // namespace secureos
