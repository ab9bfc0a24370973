#include "common/field_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config_loader.h"

namespace secureos {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void FieldErrors::Add(absl::string_view field, absl::string_view message) {
  errors_.push_back(Error{std::string(field), std::string(message)});
}

void FieldErrors::Merge(absl::string_view field, const absl::Status& status) {
  if (status.ok()) return;
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    Add(field, status.message());
    return;
  }
  for (absl::string_view part : absl::StrSplit(status.message(), "; ")) {
    const size_t colon = part.find(": ");
    if (colon == absl::string_view::npos) {
      Add(field, part);
    } else {
      Add(part.substr(0, colon), part.substr(colon + 2));
    }
  }
}

absl::Status FieldErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(
      errors_, "; ", [](std::string* out, const Error& e) {
        absl::StrAppend(out, e.field, ": ", e.message);
      }));
}

absl::Status FieldErrors::ToConfigStatus(absl::string_view file,
                                         const FieldLocations* locations) const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(
      errors_, "; ", [&](std::string* out, const Error& e) {
        std::optional<int> line;
        if (locations != nullptr) line = locations->LineOf(e.field);
        if (line.has_value()) {
          absl::StrAppend(out, file, ":", *line, ": ", e.field, ": ", e.message);
        } else {
          absl::StrAppend(out, file, ": ", e.field, ": ", e.message);
        }
      }));
}

namespace {

bool IsSet(const Message& msg, const Reflection& refl, const FieldDescriptor& field) {
  if (field.is_repeated()) return refl.FieldSize(msg, &field) > 0;
  if (field.has_presence()) return refl.HasField(msg, &field);
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return !refl.GetString(msg, &field).empty();
    default:
      // Proto3 scalars without presence: zero is indistinguishable from absent.
      return refl.HasField(msg, &field);
  }
}

}  // namespace

void RequireFields(const Message& msg, std::initializer_list<absl::string_view> fields,
                   absl::string_view prefix, FieldErrors* errors) {
  const Reflection& refl = *msg.GetReflection();
  for (absl::string_view name : fields) {
    const FieldDescriptor* field = msg.GetDescriptor()->FindFieldByName(std::string(name));
    if (field == nullptr) {
      // A programming error; failing closed keeps it visible.
      errors->Add(absl::StrCat(prefix, name), "no such field in the message");
      continue;
    }
    if (!IsSet(msg, refl, *field)) errors->Add(absl::StrCat(prefix, name), "required");
  }
}

}  // namespace secureos
