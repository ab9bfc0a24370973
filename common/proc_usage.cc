#include "common/proc_usage.h"

#include <dirent.h>
#include <errno.h>

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos {

absl::StatusOr<int64_t> ParseResidentKib(absl::string_view status_text) {
  for (absl::string_view line : absl::StrSplit(status_text, '\n')) {
    if (!absl::ConsumePrefix(&line, "VmRSS:")) continue;
    int64_t kib = 0;
    if (!absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(line), " kB"), &kib)) {
      return absl::InternalError(absl::StrCat("unexpected VmRSS line: \"", line, "\""));
    }
    return kib;
  }
  return absl::InternalError("no VmRSS line in /proc status");
}

absl::StatusOr<int64_t> ReadResidentKib(pid_t pid, const std::string& proc) {
  SECUREOS_ASSIGN_OR_RETURN(std::string status, ReadFile(absl::StrCat(proc, "/", pid, "/status")));
  return ParseResidentKib(status);
}

absl::StatusOr<int> CountOpenFds(pid_t pid, const std::string& proc) {
  const std::string path = absl::StrCat(proc, "/", pid, "/fd");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  if (dir == nullptr) return ErrnoToStatus(errno, "opendir " + path);
  int n = 0;
  while (const dirent* e = ::readdir(dir.get())) n += e->d_name[0] != '.';
  return n;
}

}  // namespace secureos
