// containerd-lite's config.json reading: arbitrary bytes never crash ParseOciConfig, and
// CheckOciConfig runs on whatever it accepts.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "containerd-lite/oci_config.h"
#include "containerd-lite/oci_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<secureos::oci::v1::Spec> spec = secureos::ctr::ParseOciConfig(json);
  if (!spec.ok()) return 0;
  secureos::ctr::OciReport report;
  secureos::ctr::CheckOciConfig(*spec, &report);
  return 0;
}
