#include "containerd-lite/oci_config.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status.h"
#include "containerd-lite/oci_paths.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace secureos::ctr {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The field of `type` whose OCI (json) name is `key`, or null.
const FieldDescriptor* FieldByJsonName(const Descriptor* type, absl::string_view key) {
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

// Why `key`, which `type` does not declare under its OCI name, is refused.
std::string UnknownKeyMessage(const Descriptor* type, const std::string& key) {
  const FieldDescriptor* by_proto_name = type->FindFieldByName(key);
  if (by_proto_name != nullptr && by_proto_name->json_name() != key) {
    return absl::StrCat("not an OCI key (OCI spells it \"", by_proto_name->json_name(), "\")");
  }
  return "not supported by containerd-lite";
}

// Adds every key of `value` (a JSON object read as `type`) that `type` does not declare
// under its OCI (json) name, recursively. Protobuf's strict parser stops at the first one;
// this walk reports them all.
void FindUnsupportedKeys(const google::protobuf::Value& value, const Descriptor* type,
                         const std::string& path, OciReport* report) {
  if (value.kind_case() != google::protobuf::Value::kStructValue) return;
  const auto& fields = value.struct_value().fields();
  std::vector<std::string> keys;
  for (const auto& kv : fields) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());  // A protobuf map has no order: make errors stable.
  for (const std::string& key : keys) {
    const std::string child_path = path.empty() ? key : absl::StrCat(path, ".", key);
    const FieldDescriptor* field = FieldByJsonName(type, key);
    if (field == nullptr) {
      report->Error(child_path, UnknownKeyMessage(type, key));
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    const google::protobuf::Value& child = fields.at(key);
    if (!field->is_repeated()) {
      FindUnsupportedKeys(child, field->message_type(), child_path, report);
      continue;
    }
    if (child.kind_case() != google::protobuf::Value::kListValue) continue;
    const auto& list = child.list_value().values();
    for (int i = 0; i < list.size(); ++i) {
      FindUnsupportedKeys(list[i], field->message_type(), Field(child_path, i), report);
    }
  }
}

// "linux.uid_mappings[0].container_id" (protobuf's field names) ->
// "linux.uidMappings[0].containerID" (OCI's).
std::string OciFieldPath(absl::string_view proto_path) {
  const Descriptor* type = oci::v1::Spec::descriptor();
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(proto_path, '.')) {
    const size_t bracket = part.find('[');
    const absl::string_view name = part.substr(0, bracket);
    const absl::string_view index =
        bracket == absl::string_view::npos ? absl::string_view() : part.substr(bracket);
    const FieldDescriptor* field =
        type != nullptr ? type->FindFieldByName(std::string(name)) : nullptr;
    if (field == nullptr) {
      parts.emplace_back(part);
      type = nullptr;
      continue;
    }
    parts.push_back(absl::StrCat(field->json_name(), index));
    type = field->message_type();
  }
  return absl::StrJoin(parts, ".");
}

// Protobuf's parse errors look like "(linux.res.limit): invalid value ..." or
// "(linux) intelRdt: Cannot find field."; anything else is a JSON syntax error.
absl::Status TranslateParseError(absl::string_view message) {
  const absl::string_view first_line = message.substr(0, message.find('\n'));
  absl::string_view rest = first_line;
  if (!absl::ConsumePrefix(&rest, "(") || rest.find(')') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(kConfigName, ": not valid JSON: ", absl::StripAsciiWhitespace(first_line)));
  }
  const size_t close = rest.find(')');
  std::string field = OciFieldPath(rest.substr(0, close));
  rest.remove_prefix(close + 1);
  if (!absl::ConsumePrefix(&rest, ": ")) {
    absl::ConsumePrefix(&rest, " ");
    const size_t colon = rest.find(": ");
    if (colon != absl::string_view::npos) {
      field = absl::StrCat(field, ".", rest.substr(0, colon));
      rest.remove_prefix(colon + 2);
    }
  }
  std::string what(rest);
  if (what == "Cannot find field.") what = "not supported by containerd-lite";
  OciReport report;
  report.Error(field, what);
  return report.ToStatus();
}

// "1.0.2", "1.1.0", "1.0.2-dev".
bool SupportedVersion(absl::string_view v) {
  if (!absl::ConsumePrefix(&v, "1.0.") && !absl::ConsumePrefix(&v, "1.1.")) return false;
  size_t digits = 0;
  while (digits < v.size() && absl::ascii_isdigit(v[digits])) ++digits;
  if (digits == 0) return false;
  v.remove_prefix(digits);
  if (v.empty()) return true;
  if (v.size() < 2 || v[0] != '-') return false;
  for (char c : v.substr(1)) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

void CheckProcess(const oci::v1::Spec& spec, OciReport* report) {
  if (!spec.has_process()) {
    report->Error("process", "required");
    return;
  }
  if (spec.process().args().empty()) {
    report->Error("process.args", "required: at least the program to run");
  }
  if (spec.process().cwd().empty()) {
    report->Error("process.cwd", "required");
  } else if (spec.process().cwd()[0] != '/') {
    report->Error("process.cwd",
                  absl::StrCat("must be absolute, got ", Quote(spec.process().cwd())));
  }
}

}  // namespace

absl::StatusOr<oci::v1::Spec> ParseOciConfig(absl::string_view json) {
  const google::protobuf::StringPiece text(json.data(), json.size());
  google::protobuf::Value tree;
  auto parsed = google::protobuf::util::JsonStringToMessage(text, &tree);
  if (!parsed.ok()) return TranslateParseError(parsed.message().ToString());
  if (tree.kind_case() != google::protobuf::Value::kStructValue) {
    return absl::InvalidArgumentError(absl::StrCat(kConfigName, ": must be a JSON object"));
  }
  OciReport unsupported;
  FindUnsupportedKeys(tree, oci::v1::Spec::descriptor(), "", &unsupported);
  SECUREOS_RETURN_IF_ERROR(unsupported.ToStatus());

  oci::v1::Spec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  parsed = google::protobuf::util::JsonStringToMessage(text, &spec, options);
  if (!parsed.ok()) return TranslateParseError(parsed.message().ToString());
  return spec;
}

void CheckOciConfig(const oci::v1::Spec& spec, OciReport* report) {
  if (spec.oci_version().empty()) {
    report->Error("ociVersion", "required");
  } else if (!SupportedVersion(spec.oci_version())) {
    report->Error("ociVersion", absl::StrCat(Quote(spec.oci_version()),
                                             " is not supported: containerd-lite reads "
                                             "runtime-spec 1.0.x and 1.1.x"));
  }
  CheckProcess(spec, report);
}

}  // namespace secureos::ctr
