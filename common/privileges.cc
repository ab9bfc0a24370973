#include "common/privileges.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};

absl::Status CheckGone(int cap) {
  SECUREOS_ASSIGN_OR_RETURN(std::string status, ReadFile("/proc/self/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    for (const char* key : {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"}) {
      if (!absl::StartsWith(line, key)) continue;
      uint64_t mask = 0;
      if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line.substr(7)), &mask)) {
        return absl::InternalError(absl::StrCat("cannot read ", key, " of /proc/self/status"));
      }
      if ((mask >> cap) & 1) {
        return absl::FailedPreconditionError(
            absl::StrCat("capability ", cap, " is still in ", key, " after dropping it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DropCapabilityEverywhere(int cap) {
  const cap_value_t value = cap;
  // The bounding set first: dropping from it needs CAP_SETPCAP in the effective set, which
  // may be the very capability being dropped.
  if (CAP_IS_SUPPORTED(value) && cap_get_bound(value) == 1 && cap_drop_bound(value) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("drop capability ", cap, " from the bounding set"));
  }
  if (cap_get_ambient(value) == 1 && cap_set_ambient(value, CAP_CLEAR) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("drop capability ", cap, " from the ambient set"));
  }
  std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree> caps(cap_get_proc());
  if (caps == nullptr) return ErrnoToStatus(errno, "cap_get_proc");
  for (cap_flag_t flag : {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE}) {
    if (cap_set_flag(caps.get(), flag, 1, &value, CAP_CLEAR) != 0) {
      return ErrnoToStatus(errno, "cap_set_flag");
    }
  }
  if (cap_set_proc(caps.get()) != 0) return ErrnoToStatus(errno, "cap_set_proc");
  return CheckGone(cap);
}

}  // namespace secureos
