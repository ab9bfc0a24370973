#include "bench/bench_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::bench {
namespace {

using ::testing::HasSubstr;

Row Make(const std::string& label, const std::string& role, double median) {
  return Row{"sandbox start", label, label + " run", "ms", role, 10, median, median * 0.9, median * 1.2};
}

TEST(BenchTableTest, RowsRoundTrip) {
  absl::StatusOr<std::string> line = FormatRow(Make("bwrap", "peer", 7.5));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "sandbox start\tbwrap\tbwrap run\tms\tpeer\t10\t7.5\t6.75\t9\n");
  absl::StatusOr<std::vector<Row>> rows = ParseRows(*line + *line, "f");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].label, "bwrap");
  EXPECT_EQ((*rows)[1].n, 10);
  EXPECT_DOUBLE_EQ((*rows)[1].p90, 9);
}

TEST(BenchTableTest, BadRowsAreRefusedByField) {
  Row tab = Make("bw\trap", "peer", 1);
  EXPECT_THAT(FormatRow(tab).status().message(), HasSubstr("label: holds a tab"));
  EXPECT_THAT(FormatRow(Make("x", "theirs", 1)).status().message(), HasSubstr("role:"));
  Row none = Make("x", "ours", 1);
  none.n = 0;
  EXPECT_THAT(FormatRow(none).status().message(), HasSubstr("n: at least 1"));
  EXPECT_THAT(ParseRows("a\tb\n", "rows").status().message(), HasSubstr("rows:1: 9 tab-separated fields"));
  EXPECT_THAT(ParseRows("\ng\tl\tn\tms\tours\t3\tfast\t1\t2\n", "rows").status().message(),
              HasSubstr("rows:2: median: not a number: fast"));
}

TEST(BenchTableTest, OursAreComparedWithThePeersAndFloorsOfTheirGroup) {
  std::vector<Row> rows = {Make("sandboxd", "ours", 10), Make("bwrap", "peer", 5), Make("true", "floor", 1)};
  Row other = Make("crun", "peer", 100);
  other.group = "container";
  rows.push_back(other);
  const std::string md = Markdown(rows);
  EXPECT_THAT(md, HasSubstr("| sandbox start | sandboxd run | ours | 10.0 | 9.00 | 12.0 | ms | 10 | 2.00x bwrap, 10.0x true |"));
  EXPECT_THAT(md, HasSubstr("| container | crun run | peer | 100 | 90.0 | 120 | ms | 10 |  |"));
}

TEST(BenchTableTest, HyperfineCommandsNamedByRole) {
  const char* json = R"({"results": [
      {"command": "ours:secctl:secctl sandbox run", "times": [0.010, 0.012, 0.011]},
      {"command": "peer:firejail", "times": [0.050]}]})";
  absl::StatusOr<std::vector<Row>> rows = RowsFromHyperfine(json, "cli");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name, "secctl sandbox run");
  EXPECT_EQ((*rows)[0].role, "ours");
  EXPECT_DOUBLE_EQ((*rows)[0].median, 11);
  EXPECT_EQ((*rows)[1].name, "firejail");
  EXPECT_THAT(RowsFromHyperfine(R"({"results": [{"command": "bwrap", "times": [1]}]})", "cli").status().message(),
              HasSubstr("not named ROLE:LABEL"));
  EXPECT_THAT(RowsFromHyperfine("{", "cli").status().message(), HasSubstr("hyperfine JSON"));
}

}  // namespace
}  // namespace secureos::bench
