// Collecting validation errors that name the field, then turning them into one status.
//
// Every request and every config is validated in full before anything is applied; the
// caller sees all problems at once, each as "<field path>: <what is wrong>".
#ifndef SECUREOS_COMMON_FIELD_ERRORS_H_
#define SECUREOS_COMMON_FIELD_ERRORS_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace secureos {

class FieldLocations;

class FieldErrors {
 public:
  struct Error {
    std::string field;    // Path such as "server.socket_mode" or "argv[0]".
    std::string message;  // What is wrong, e.g. "must be an absolute path, got 'x'".
  };

  void Add(absl::string_view field, absl::string_view message);
  // Takes in the errors of a sub-validator whose INVALID_ARGUMENT message already names
  // full field paths ("f1: m1; f2: m2"); any other error is added under `field`.
  void Merge(absl::string_view field, const absl::Status& status);
  bool empty() const { return errors_.empty(); }
  const std::vector<Error>& errors() const { return errors_; }

  // OK when empty; otherwise INVALID_ARGUMENT "f1: m1; f2: m2".
  absl::Status ToStatus() const;

  // For configuration files: INVALID_ARGUMENT "file:line: f1: m1; file:line: f2: m2",
  // with the line taken from `locations` when it knows the field (may be null).
  absl::Status ToConfigStatus(absl::string_view file, const FieldLocations* locations) const;

 private:
  std::vector<Error> errors_;
};

// Adds "<prefix><field>: required" for each named field of `msg` that is not set.
// "Set" means: HasField for fields with presence (messages, oneofs, proto3 `optional`),
// non-empty for repeated fields and for strings/bytes, non-zero for other scalars.
// Requests declare every field whose absence must not read as 0 (uids, limits) `optional`.
void RequireFields(const google::protobuf::Message& msg,
                   std::initializer_list<absl::string_view> fields, absl::string_view prefix,
                   FieldErrors* errors);

}  // namespace secureos

#endif  // SECUREOS_COMMON_FIELD_ERRORS_H_
