#include "capd/proc_status.h"

#include <fcntl.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos::capd {
namespace {

absl::Status Malformed(absl::string_view key, absl::string_view value) {
  return absl::InternalError(
      absl::StrCat("unexpected /proc status line ", key, ": \"", value, "\""));
}

absl::Status ParseCaps(absl::string_view key, absl::string_view value, CapSet* out) {
  uint64_t mask;
  if (!absl::SimpleHexAtoi(value, &mask)) return Malformed(key, value);
  *out = CapSet::FromMask(mask);
  return absl::OkStatus();
}

template <typename Id, size_t N>
absl::Status ParseIds(absl::string_view key, absl::string_view value, std::array<Id, N>* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (parts.size() != N) return Malformed(key, value);
  for (size_t i = 0; i < N; ++i) {
    if (!absl::SimpleAtoi(parts[i], &(*out)[i])) return Malformed(key, value);
  }
  return absl::OkStatus();
}

absl::Status ParseLine(absl::string_view key, absl::string_view value, ProcStatus* s) {
  if (key == "Name") {
    s->name = std::string(value);
  } else if (key == "Pid") {
    if (!absl::SimpleAtoi(value, &s->pid)) return Malformed(key, value);
  } else if (key == "Uid") {
    return ParseIds(key, value, &s->uids);
  } else if (key == "Gid") {
    return ParseIds(key, value, &s->gids);
  } else if (key == "Groups") {
    for (absl::string_view g : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
      gid_t gid;
      if (!absl::SimpleAtoi(g, &gid)) return Malformed(key, value);
      s->groups.push_back(gid);
    }
  } else if (key == "CapInh") {
    return ParseCaps(key, value, &s->inheritable);
  } else if (key == "CapPrm") {
    return ParseCaps(key, value, &s->permitted);
  } else if (key == "CapEff") {
    return ParseCaps(key, value, &s->effective);
  } else if (key == "CapBnd") {
    return ParseCaps(key, value, &s->bounding);
  } else if (key == "CapAmb") {
    return ParseCaps(key, value, &s->ambient);
  } else if (key == "NoNewPrivs") {
    s->no_new_privs = value == "1";
  } else if (key == "Seccomp") {
    if (!absl::SimpleAtoi(value, &s->seccomp)) return Malformed(key, value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcStatus> ParseProcStatus(absl::string_view text) {
  ProcStatus s;
  bool saw_caps = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    SECUREOS_RETURN_IF_ERROR(ParseLine(kv.first, value, &s));
    saw_caps = saw_caps || kv.first == "CapEff";
  }
  if (!saw_caps) return absl::InternalError("no capability lines in /proc status");
  return s;
}





absl::StatusOr<ProcStatus> ReadProcStatus(pid_t pid, const std::string& proc) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("pid: must be positive, got ", pid));
  // One directory for both files: they then describe the same process even if `pid`
  // is reused in between (a gone process makes the reads fail instead).
  absl::StatusOr<UniqueFd> dir = OpenFile(absl::StrCat(proc, "/", pid), O_PATH | O_DIRECTORY);
  if (!dir.ok()) {
    if (dir.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
    }
    return dir.status();
  }
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFileAt(dir->get(), "status"));
  SECUREOS_ASSIGN_OR_RETURN(ProcStatus s, ParseProcStatus(text));
  SECUREOS_ASSIGN_OR_RETURN(std::string stat, ReadFileAt(dir->get(), "stat"));
  SECUREOS_ASSIGN_OR_RETURN(s.start_time, ParseStartTime(stat));
  return s;
}

}  // namespace secureos::capd
