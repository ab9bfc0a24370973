#include "bench/bench_table.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace secureos::bench {
namespace {

constexpr int kFields = 9;

bool KnownRole(absl::string_view role) { return role == "ours" || role == "peer" || role == "floor"; }

absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  if (value.find_first_of("\t\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": holds a tab or newline: ", value));
  }
  return absl::OkStatus();
}

// Three significant digits, without exponents: 0.0123, 1.23, 12.3, 1234.
std::string Number(double v) {
  const double a = std::abs(v);
  if (a >= 100 || a == 0) return absl::StrFormat("%.0f", v);
  if (a >= 10) return absl::StrFormat("%.1f", v);
  if (a >= 1) return absl::StrFormat("%.2f", v);
  return absl::StrFormat("%.3g", v);
}

double Quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

// Markdown's cell separator, escaped.
std::string Cell(absl::string_view text) { return absl::StrReplaceAll(text, {{"|", "\\|"}}); }

std::string Ratios(const Row& ours, const std::vector<Row>& rows) {
  std::vector<std::string> parts;
  for (const Row& other : rows) {
    if (other.group != ours.group || other.role == "ours" || other.unit != ours.unit || other.median == 0) continue;
    parts.push_back(absl::StrFormat("%sx %s", Number(ours.median / other.median), Cell(other.label)));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<std::string> FormatRow(const Row& row) {
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"group", &row.group},
                                     {"label", &row.label},
                                     {"name", &row.name},
                                     {"unit", &row.unit},
                                     {"role", &row.role}}) {
    if (absl::Status s = CheckText(field, *value); !s.ok()) return s;
  }
  if (!KnownRole(row.role)) return absl::InvalidArgumentError("role: not ours, peer or floor: " + row.role);
  if (row.n < 1) return absl::InvalidArgumentError(absl::StrCat("n: at least 1, got ", row.n));
  return absl::StrFormat("%s\t%s\t%s\t%s\t%s\t%d\t%.6g\t%.6g\t%.6g\n", row.group, row.label, row.name, row.unit,
                         row.role, row.n, row.median, row.p10, row.p90);
}

absl::StatusOr<std::vector<Row>> ParseRows(absl::string_view text, absl::string_view source) {
  std::vector<Row> rows;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (line.empty()) continue;
    const std::string where = absl::StrCat(source, ":", number, ": ");
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != kFields) {
      return absl::InvalidArgumentError(absl::StrCat(where, kFields, " tab-separated fields expected, got ", f.size()));
    }
    Row r{f[0], f[1], f[2], f[3], f[4]};
    if (!absl::SimpleAtoi(f[5], &r.n) || r.n < 1) return absl::InvalidArgumentError(where + "n: not a count: " + f[5]);
    for (auto [field, text, out] : {std::tuple<const char*, const std::string*, double*>{"median", &f[6], &r.median},
                                    {"p10", &f[7], &r.p10},
                                    {"p90", &f[8], &r.p90}}) {
      if (!absl::SimpleAtod(*text, out)) return absl::InvalidArgumentError(absl::StrCat(where, field, ": not a number: ", *text));
    }
    if (absl::StatusOr<std::string> ok = FormatRow(r); !ok.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ok.status().message()));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

absl::StatusOr<std::vector<Row>> RowsFromHyperfine(absl::string_view json, absl::string_view group) {
  google::protobuf::Struct doc;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &doc); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("hyperfine JSON: ", s.message().as_string()));
  }
  auto results = doc.fields().find("results");
  if (results == doc.fields().end() || !results->second.has_list_value()) {
    return absl::InvalidArgumentError("hyperfine JSON: results: missing");
  }
  std::vector<Row> rows;
  for (const google::protobuf::Value& v : results->second.list_value().values()) {
    const auto& fields = v.struct_value().fields();
    auto command = fields.find("command");
    auto times = fields.find("times");
    if (command == fields.end() || times == fields.end() || !times->second.has_list_value()) {
      return absl::InvalidArgumentError("hyperfine JSON: results[]: command or times missing");
    }
    std::vector<std::string> parts = absl::StrSplit(command->second.string_value(), absl::MaxSplits(':', 2));
    if (parts.size() < 2 || !KnownRole(parts[0])) {
      return absl::InvalidArgumentError("hyperfine JSON: command: not named ROLE:LABEL[:NAME]: " +
                                        command->second.string_value());
    }
    std::vector<double> ms;
    for (const google::protobuf::Value& t : times->second.list_value().values()) ms.push_back(t.number_value() * 1000);
    if (ms.empty()) return absl::InvalidArgumentError("hyperfine JSON: times: empty for " + parts[1]);
    Row r{std::string(group), parts[1], parts.size() == 3 ? parts[2] : parts[1], "ms", parts[0]};
    r.n = static_cast<int>(ms.size());
    r.median = Quantile(ms, 0.5);
    r.p10 = Quantile(ms, 0.1);
    r.p90 = Quantile(ms, 0.9);
    if (absl::StatusOr<std::string> ok = FormatRow(r); !ok.ok()) return ok.status();
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string Markdown(const std::vector<Row>& rows) {
  std::vector<std::string> groups;
  for (const Row& r : rows) {
    if (std::find(groups.begin(), groups.end(), r.group) == groups.end()) groups.push_back(r.group);
  }
  std::string out =
      "| benchmark | case | role | median | p10 | p90 | unit | n | median vs peers and floors |\n"
      "|---|---|---|---:|---:|---:|---|---:|---|\n";
  for (const std::string& g : groups) {
    for (const Row& r : rows) {
      if (r.group != g) continue;
      absl::StrAppend(&out, "| ", Cell(g), " | ", Cell(r.name), " | ", r.role, " | ", Number(r.median), " | ", Number(r.p10), " | ",
                      Number(r.p90), " | ", r.unit, " | ", r.n, " | ", r.role == "ours" ? Ratios(r, rows) : "", " |\n");
    }
  }
  return out;
}

}  // namespace secureos::bench
