#include "cli/table.h"

#include <sstream>

#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

TEST(TableTest, PadsColumnsToTheWidestCellAndLeavesTheLastUnpadded) {
  Table t({"DAEMON", "STATE"});
  t.AddRow({"containerd-lite", "up"});
  t.AddRow({"capd", "down"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "DAEMON           STATE\n"
            "containerd-lite  up\n"
            "capd             down\n");
}

}  // namespace
}  // namespace secureos::cli
