// sandboxd's seccomp profile import: Docker/OCI JSON, text format or JSON profiles through
// ParseProfileText, then compiled to BPF with libseccomp as a workload's would be. Arbitrary
// text never crashes either step.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sandboxd/seccomp/compiled_filter.h"
#include "sandboxd/seccomp/profile_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<secureos::sandboxd::v1::SeccompProfile> profile =
      secureos::sandboxd::ParseProfileText("fuzz.profile", text);
  if (!profile.ok()) return 0;
  // The launcher fd only appears as a number in the filter; nothing is loaded.
  (void)secureos::sandboxd::CompiledFilter::Compile(*profile, /*learn=*/false, /*launcher_fd=*/100);
  return 0;
}
