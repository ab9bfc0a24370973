// Capability text (libcap names, numbers, "all"): arbitrary text never crashes CapSet::Parse,
// and an accepted set prints to text that parses back to the same set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "common/cap_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<secureos::CapSet> caps = secureos::CapSet::Parse(text);
  if (!caps.ok()) return 0;
  absl::StatusOr<secureos::CapSet> again = secureos::CapSet::Parse(caps->ToString());
  if (!again.ok() || *again != *caps) std::abort();
  return 0;
}
