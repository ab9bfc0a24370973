// A set of Linux capabilities, as the 64-bit mask the kernel uses in capget(2) and
// /proc/<pid>/status (bit N = capability N), with libcap for names and text.
#ifndef SECUREOS_COMMON_CAP_SET_H_
#define SECUREOS_COMMON_CAP_SET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos {

// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int LastCap();

class CapSet {
 public:
  CapSet() = default;
  static CapSet FromMask(uint64_t mask) { return CapSet(mask); }
  // Every capability the running kernel knows.
  static CapSet All();

  // Parses what users already write:
  //   - capabilities(7) names, comma- or space-separated: "cap_net_bind_service,cap_kill"
  //     (case-insensitive, as libcap's cap_from_name reads them);
  //   - cap_from_text(3) strings: "cap_net_bind_service,cap_kill+ep", "=ep" (every
  //     capability named with any flag is in the set);
  //   - "" for the empty set.
  // INVALID_ARGUMENT names the bad token ("unknown capability \"cap_fly\"").
  static absl::StatusOr<CapSet> Parse(absl::string_view text);

  uint64_t mask() const { return mask_; }
  bool empty() const { return mask_ == 0; }
  bool Has(int cap) const { return cap >= 0 && cap < 64 && (mask_ >> cap) & 1; }
  bool IsSubsetOf(const CapSet& other) const { return (mask_ & ~other.mask_) == 0; }
  CapSet Minus(const CapSet& other) const { return CapSet(mask_ & ~other.mask_); }
  CapSet Union(const CapSet& other) const { return CapSet(mask_ | other.mask_); }
  bool operator==(const CapSet& other) const { return mask_ == other.mask_; }
  bool operator!=(const CapSet& other) const { return mask_ != other.mask_; }

  // Capability numbers in ascending order.
  std::vector<int> Numbers() const;
  // libcap names ("cap_kill"), ascending by number.
  std::vector<std::string> Names() const;
  // The libcap name of capability number `cap` (0-63), or its number as text.
  static const std::string& Name(int cap);
  // "cap_kill,cap_net_bind_service", or "" for the empty set.
  std::string ToString() const;
  // 16 hex digits, as in /proc/<pid>/status: "0000000000000420".
  std::string Hex() const;

 private:
  explicit CapSet(uint64_t mask) : mask_(mask) {}
  uint64_t mask_ = 0;
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_CAP_SET_H_
