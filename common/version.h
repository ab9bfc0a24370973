// The suite's release version, reported by every daemon's Version RPC and by secctl.
#ifndef SECUREOS_COMMON_VERSION_H_
#define SECUREOS_COMMON_VERSION_H_

namespace secureos {

inline constexpr char kSuiteVersion[] = "0.1.0";
inline constexpr char kApiVersion[] = "v1";

}  // namespace secureos

#endif  // SECUREOS_COMMON_VERSION_H_
