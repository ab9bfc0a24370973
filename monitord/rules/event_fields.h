// Event fields by name, as rules write them: the proto field path of common.v1.Event, dotted
// ("kind", "severity", "source", "trace_id", "message", "principal.id", "principal.uid",
// "workload.syscall", "container.reason", "service.restarts", ...). Detail messages are
// reached by their oneof field name. A field path is resolved once, when a rule is compiled;
// reading it from an event is then a few reflection calls.
//
// Values: strings; integers (every integer width, and booleans as 0/1); enums compare by
// number and are written in rules by name, with or without their prefix ("SECCOMP_VIOLATION"
// or "EVENT_KIND_SECCOMP_VIOLATION", "WARNING" or "SEVERITY_WARNING"). A field of a detail
// message that the event does not carry reads as absent: every comparison with it is false
// (so `not` of one is true).
#ifndef SECUREOS_MONITORD_RULES_EVENT_FIELDS_H_
#define SECUREOS_MONITORD_RULES_EVENT_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "proto/common.pb.h"

namespace secureos::monitord {

enum class FieldType { kString, kInteger, kEnum };

// A resolved field path.
struct EventField {
  std::string name;  // As written.
  std::vector<const google::protobuf::FieldDescriptor*> path;
  FieldType type = FieldType::kString;
  const google::protobuf::EnumDescriptor* enum_type = nullptr;  // kEnum only.
};

// INVALID_ARGUMENT naming the unknown part ("unknown field \"workload.sycall\": workload has
// no field \"sycall\""), or a repeated or message-valued field.
absl::StatusOr<EventField> ResolveEventField(absl::string_view name);

// One value read from an event.
struct FieldValue {
  bool present = false;
  std::string text;     // kString.
  int64_t number = 0;   // kInteger, kEnum.
};
FieldValue ReadField(const common::v1::Event& event, const EventField& field);

// The number of enum value `name` of `field`'s enum, with or without the enum's common
// prefix; INVALID_ARGUMENT listing a few valid names.
absl::StatusOr<int64_t> EnumValue(const EventField& field, absl::string_view name);

// The value as text, for outputs and grouping keys ("SECCOMP_VIOLATION" for an enum).
std::string FieldText(const EventField& field, const FieldValue& value);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_RULES_EVENT_FIELDS_H_
