#include "common/config_loader.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/util/json_util.h"

namespace secureos {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

namespace {

class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrors(absl::string_view name) : name_(name) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    // The parser counts from 0; editors count from 1.
    errors_.push_back(absl::StrCat(name_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::string name_;
  std::vector<std::string> errors_;
};

struct PathSegment {
  std::string name;
  int index = -1;  // -1: singular field.
};

std::vector<PathSegment> SplitPath(absl::string_view path) {
  std::vector<PathSegment> out;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    PathSegment seg;
    size_t bracket = part.find('[');
    if (bracket != absl::string_view::npos && absl::EndsWith(part, "]")) {
      int index;
      if (absl::SimpleAtoi(part.substr(bracket + 1, part.size() - bracket - 2), &index)) {
        seg.index = index;
      }
      part = part.substr(0, bracket);
    }
    seg.name = std::string(part);
    out.push_back(seg);
  }
  return out;
}

}  // namespace

FieldLocations::FieldLocations() = default;
FieldLocations::~FieldLocations() = default;

std::optional<int> FieldLocations::LineOf(absl::string_view path) const {
  if (tree_ == nullptr || root_ == nullptr) return std::nullopt;
  std::optional<int> best;
  const Descriptor* desc = root_;
  TextFormat::ParseInfoTree* tree = tree_.get();
  for (const PathSegment& seg : SplitPath(path)) {
    if (desc == nullptr || tree == nullptr) break;
    const FieldDescriptor* field = desc->FindFieldByName(seg.name);
    if (field == nullptr) break;
    const int index = field->is_repeated() ? std::max(seg.index, 0) : -1;
    TextFormat::ParseLocation loc = tree->GetLocation(field, index);
    if (loc.line < 0) break;
    best = loc.line + 1;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, index);
    desc = field->message_type();
  }
  return best;
}

absl::Status ParseConfig(absl::string_view name, absl::string_view text,
                         google::protobuf::Message* out, FieldLocations* locations) {
  out->Clear();
  if (absl::EndsWithIgnoreCase(name, ".json")) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), out, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", status.message().ToString()));
    }
    return absl::OkStatus();
  }
  CollectingErrors errors(name);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  auto tree = std::make_unique<TextFormat::ParseInfoTree>();
  parser.WriteLocationsTo(tree.get());
  if (!parser.ParseFromString(std::string(text), out)) {
    return absl::InvalidArgumentError(errors.Joined());
  }
  if (locations != nullptr) {
    locations->root_ = out->GetDescriptor();
    locations->tree_ = std::move(tree);
  }
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* out,
                            FieldLocations* locations) {
  absl::StatusOr<std::string> text = ReadFile(path, 4 << 20);
  if (!text.ok()) return text.status();
  return ParseConfig(path, *text, out, locations);
}

}  // namespace secureos
