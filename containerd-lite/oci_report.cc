#include "containerd-lite/oci_report.h"

#include "absl/strings/str_cat.h"

namespace secureos::ctr {

void OciReport::Note(absl::string_view field, absl::string_view text) {
  notes_.push_back(absl::StrCat(kConfigName, ": ", field, ": ", text));
}

absl::Status OciReport::ToStatus() const { return errors_.ToConfigStatus(kConfigName, nullptr); }

}  // namespace secureos::ctr
