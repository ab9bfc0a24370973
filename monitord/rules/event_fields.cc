#include "monitord/rules/event_fields.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/reflection.h"

namespace secureos::monitord {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The prefix every value of `e` shares ("EVENT_KIND_", "SEVERITY_").
std::string EnumPrefix(const EnumDescriptor* e) {
  std::string prefix = e->value(0)->name();
  for (int i = 1; i < e->value_count(); ++i) {
    const std::string& n = e->value(i)->name();
    size_t k = 0;
    while (k < prefix.size() && k < n.size() && prefix[k] == n[k]) ++k;
    prefix.resize(k);
  }
  return prefix.substr(0, prefix.rfind('_') + 1);
}

FieldType TypeOf(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return FieldType::kString;
    case FieldDescriptor::CPPTYPE_ENUM: return FieldType::kEnum;
    default: return FieldType::kInteger;
  }
}

}  // namespace

absl::StatusOr<EventField> ResolveEventField(absl::string_view name) {
  EventField out;
  out.name = std::string(name);
  const Descriptor* d = common::v1::Event::descriptor();
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = d == nullptr ? nullptr : d->FindFieldByName(std::string(parts[i]));
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field \"", name, "\"",
          d == nullptr ? "" : absl::StrCat(": ", i == 0 ? "an event" : std::string(parts[i - 1]), " has no field \"",
                                           parts[i], "\"")));
    }
    if (f->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat("field \"", name, "\" is a list, which rules cannot compare"));
    }
    out.path.push_back(f);
    const bool last = i + 1 == parts.size();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (last) {
        return absl::InvalidArgumentError(absl::StrCat("field \"", name, "\" is a message: name one of its fields"));
      }
      d = f->message_type();
    } else if (!last) {
      return absl::InvalidArgumentError(absl::StrCat("field \"", name, "\": \"", parts[i], "\" has no fields"));
    } else {
      out.type = TypeOf(f);
      out.enum_type = f->enum_type();
    }
  }
  return out;
}

FieldValue ReadField(const common::v1::Event& event, const EventField& field) {
  FieldValue v;
  const Message* m = &event;
  for (size_t i = 0; i + 1 < field.path.size(); ++i) {
    const google::protobuf::Reflection* r = m->GetReflection();
    if (!r->HasField(*m, field.path[i])) return v;  // A detail the event does not carry.
    m = &r->GetMessage(*m, field.path[i]);
  }
  const FieldDescriptor* f = field.path.back();
  const google::protobuf::Reflection* r = m->GetReflection();
  if (f->has_presence() && !r->HasField(*m, f)) return v;
  v.present = true;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: v.text = r->GetString(*m, f); break;
    case FieldDescriptor::CPPTYPE_ENUM: v.number = r->GetEnumValue(*m, f); break;
    case FieldDescriptor::CPPTYPE_INT32: v.number = r->GetInt32(*m, f); break;
    case FieldDescriptor::CPPTYPE_INT64: v.number = r->GetInt64(*m, f); break;
    case FieldDescriptor::CPPTYPE_UINT32: v.number = r->GetUInt32(*m, f); break;
    case FieldDescriptor::CPPTYPE_UINT64: v.number = static_cast<int64_t>(r->GetUInt64(*m, f)); break;
    case FieldDescriptor::CPPTYPE_BOOL: v.number = r->GetBool(*m, f) ? 1 : 0; break;
    case FieldDescriptor::CPPTYPE_DOUBLE: v.number = static_cast<int64_t>(r->GetDouble(*m, f)); break;
    case FieldDescriptor::CPPTYPE_FLOAT: v.number = static_cast<int64_t>(r->GetFloat(*m, f)); break;
    default: v.present = false;
  }
  return v;
}

absl::StatusOr<int64_t> EnumValue(const EventField& field, absl::string_view name) {
  const EnumDescriptor* e = field.enum_type;
  if (const auto* v = e->FindValueByName(std::string(name))) return v->number();
  if (const auto* v = e->FindValueByName(EnumPrefix(e) + std::string(name))) return v->number();
  std::vector<std::string> some;
  for (int i = 1; i < e->value_count() && some.size() < 6; ++i) {
    some.push_back(e->value(i)->name().substr(EnumPrefix(e).size()));
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not a value of ", field.name, " (",
                                                 absl::StrJoin(some, ", "), ", ...)"));
}

std::string FieldText(const EventField& field, const FieldValue& value) {
  if (!value.present) return "";
  switch (field.type) {
    case FieldType::kString: return value.text;
    case FieldType::kEnum: {
      const auto* v = field.enum_type->FindValueByNumber(static_cast<int>(value.number));
      if (v == nullptr) return absl::StrCat(value.number);
      const std::string prefix = EnumPrefix(field.enum_type);
      return absl::StartsWith(v->name(), prefix) ? v->name().substr(prefix.size()) : v->name();
    }
    default: return absl::StrCat(value.number);
  }
}

}  // namespace secureos::monitord
