// containerd-lite's subordinate id pools (/etc/subuid-style text): arbitrary text never
// crashes ParseSubIdLines, and what it accepts is what its contract promises: counts of at
// least 1, no range reaching 4294967295 or wrapping, no two ranges overlapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/string_view.h"
#include "containerd-lite/id_range_pool.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<secureos::ctr::SubIdRange>> ranges =
      secureos::ctr::ParseSubIdLines(text, "fuzz.subuid");
  if (!ranges.ok()) return 0;
  for (size_t i = 0; i < ranges->size(); ++i) {
    const uint64_t start = (*ranges)[i].range.start, count = (*ranges)[i].range.count;
    if (count == 0 || start + count > 4294967295ull) std::abort();
    for (size_t j = 0; j < i; ++j) {
      const uint64_t other = (*ranges)[j].range.start, other_count = (*ranges)[j].range.count;
      if (start < other + other_count && other < start + count) std::abort();
    }
  }
  return 0;
}
