// bench_table: the combined markdown table of tools/bench, from the rows the benchmarks
// recorded (files named as arguments) and, optionally, a hyperfine JSON export.
//   bench_table [--hyperfine_json FILE --hyperfine_group NAME] ROWS_FILE...
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/bench_table.h"
#include "common/fd.h"

ABSL_FLAG(std::string, hyperfine_json, "", "hyperfine --export-json output whose commands are named ROLE:LABEL[:NAME].");
ABSL_FLAG(std::string, hyperfine_group, "", "The benchmark group of the hyperfine rows.");

namespace secureos::bench {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "bench_table: %s\n", std::string(s.message()).c_str());
  return 2;
}

int Main(const std::vector<char*>& files) {
  std::vector<Row> rows;
  for (size_t i = 1; i < files.size(); ++i) {
    absl::StatusOr<std::string> text = ReadFile(files[i]);
    if (!text.ok()) return Fail(text.status());
    absl::StatusOr<std::vector<Row>> more = ParseRows(*text, files[i]);
    if (!more.ok()) return Fail(more.status());
    rows.insert(rows.end(), more->begin(), more->end());
  }
  if (const std::string json = absl::GetFlag(FLAGS_hyperfine_json); !json.empty()) {
    if (absl::GetFlag(FLAGS_hyperfine_group).empty()) return Fail(absl::InvalidArgumentError("--hyperfine_group: required"));
    absl::StatusOr<std::string> text = ReadFile(json);
    if (!text.ok()) return Fail(text.status());
    absl::StatusOr<std::vector<Row>> more = RowsFromHyperfine(*text, absl::GetFlag(FLAGS_hyperfine_group));
    if (!more.ok()) return Fail(more.status());
    rows.insert(rows.end(), more->begin(), more->end());
  }
  std::fputs(Markdown(rows).c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace secureos::bench

int main(int argc, char** argv) { return secureos::bench::Main(absl::ParseCommandLine(argc, argv)); }
