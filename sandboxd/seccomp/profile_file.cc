#include "sandboxd/seccomp/profile_file.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fd.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace secureos::sandboxd {

absl::StatusOr<v1::SeccompProfile> ParseProfileText(absl::string_view name, const std::string& text) {
  v1::SeccompProfile profile;
  if (absl::StrContains(text, "\"defaultAction\"")) {
    profile.set_oci_json(text);
    return profile;
  }
  if (google::protobuf::TextFormat::ParseFromString(text, &profile)) return profile;
  profile.Clear();
  if (google::protobuf::util::JsonStringToMessage(text, &profile).ok()) return profile;
  return absl::InvalidArgumentError(absl::StrCat(
      name, " is neither Docker seccomp JSON nor a SeccompProfile (text or JSON)"));
}

absl::StatusOr<v1::SeccompProfile> LoadProfileFile(const std::string& path) {
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4 << 20));
  return ParseProfileText(path, text);
}

}  // namespace secureos::sandboxd
