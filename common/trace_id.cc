#include "common/trace_id.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"

namespace secureos {

std::string TraceIdOr(const std::string& given) {
  if (!given.empty()) return given;
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

}  // namespace secureos
