#include "sandboxd/seccomp/profile_file.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fd.h"
#include "common/status.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace secureos::sandboxd {
namespace {

// Keeps the parser's first complaint for the error message instead of letting protobuf log
// it: a daemon's stderr is its log, and a bad profile is the caller's error, not ours.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

absl::StatusOr<v1::SeccompProfile> ParseProfileText(absl::string_view name, const std::string& text) {
  v1::SeccompProfile profile;
  if (absl::StrContains(text, "\"defaultAction\"")) {
    profile.set_oci_json(text);
    return profile;
  }
  FirstError errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(text, &profile)) return profile;
  profile.Clear();
  if (google::protobuf::util::JsonStringToMessage(text, &profile).ok()) return profile;
  return absl::InvalidArgumentError(absl::StrCat(
      name, " is neither Docker seccomp JSON nor a SeccompProfile (text or JSON); as text: ",
      name, ":", errors.first()));
}

absl::StatusOr<v1::SeccompProfile> LoadProfileFile(const std::string& path) {
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4 << 20));
  return ParseProfileText(path, text);
}

}  // namespace secureos::sandboxd
