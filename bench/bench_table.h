// The combined table of tools/bench: every benchmark appends its cases as rows (one line of
// tab-separated fields each, bench_support's Record), hyperfine's JSON export adds more, and
// the table puts each of our cases beside the peers and floors of its group.
//
// A line: group, label, name, unit, role ("ours", "peer" or "floor"), n, median, p10, p90.
#ifndef SECUREOS_BENCH_BENCH_TABLE_H_
#define SECUREOS_BENCH_BENCH_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos::bench {

struct Row {
  std::string group;
  std::string label;
  std::string name;
  std::string unit;
  std::string role;
  int n = 0;
  double median = 0;
  double p10 = 0;
  double p90 = 0;
};

// The row as one line, newline included. INVALID_ARGUMENT naming the field when a text field
// is empty or holds a tab or newline, the role is unknown or n < 1.
absl::StatusOr<std::string> FormatRow(const Row& row);

// Every line of `text`; an error names the line (1-based) of `source` and the field.
absl::StatusOr<std::vector<Row>> ParseRows(absl::string_view text, absl::string_view source);

// hyperfine's --export-json output as rows of `group`, times in milliseconds. Each command
// must have been named (hyperfine -n) "ROLE:LABEL" or "ROLE:LABEL:NAME"; NAME defaults to
// the label.
absl::StatusOr<std::vector<Row>> RowsFromHyperfine(absl::string_view json, absl::string_view group);

// One markdown table, groups in the order they first appear: for each of our rows, its
// median over the median of every peer and floor of the group ("1.25x bwrap").
std::string Markdown(const std::vector<Row>& rows);

}  // namespace secureos::bench

#endif  // SECUREOS_BENCH_BENCH_TABLE_H_
