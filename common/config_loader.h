// Configuration files: protobuf text format, or JSON through protobuf's JSON mapping when
// the file name ends in ".json". Parse errors name the file, line and column; validation
// errors found later can be placed on their line through FieldLocations.
#ifndef SECUREOS_COMMON_CONFIG_LOADER_H_
#define SECUREOS_COMMON_CONFIG_LOADER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace secureos {

// Where each field of a parsed text-format file was written.
class FieldLocations {
 public:
  FieldLocations();
  ~FieldLocations();
  FieldLocations(const FieldLocations&) = delete;
  FieldLocations& operator=(const FieldLocations&) = delete;

  // 1-based line of a field path such as "server.socket_mode" or "server.admin_uids[1]".
  // For a field that is absent from the file, the line of its closest present parent.
  // nullopt when nothing on the path was written (or the file was JSON).
  std::optional<int> LineOf(absl::string_view path) const;

 private:
  friend absl::Status ParseConfig(absl::string_view, absl::string_view,
                                  google::protobuf::Message*, FieldLocations*);
  const google::protobuf::Descriptor* root_ = nullptr;
  std::unique_ptr<google::protobuf::TextFormat::ParseInfoTree> tree_;
};

// Parses `text` read from `name` into `out` (cleared first). INVALID_ARGUMENT on error:
// "name:line:column: message" for text format, "name: message" for JSON.
// `locations` may be null.
absl::Status ParseConfig(absl::string_view name, absl::string_view text,
                         google::protobuf::Message* out, FieldLocations* locations);

// Reads and parses the file at `path`. NOT_FOUND when it does not exist.
absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* out,
                            FieldLocations* locations);

}  // namespace secureos

#endif  // SECUREOS_COMMON_CONFIG_LOADER_H_
