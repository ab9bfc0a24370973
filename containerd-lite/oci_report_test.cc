#include "containerd-lite/oci_report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(OciReportTest, ErrorsAndNotesNameConfigJson) {
  OciReport report;
  EXPECT_TRUE(report.ToStatus().ok());
  report.Note("process.terminal", "not applied");
  report.Error("mounts[0].type", "bad");
  report.errors()->Add("process.cwd", "required");
  report.Note("linux.seccomp", "absent");
  EXPECT_EQ(report.ToStatus().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(report.ToStatus().message(),
            "config.json: mounts[0].type: bad; config.json: process.cwd: required");
  EXPECT_THAT(report.notes(), ElementsAre("config.json: process.terminal: not applied",
                                          "config.json: linux.seccomp: absent"));
  EXPECT_THAT(report.TakeNotes(), ElementsAre("config.json: process.terminal: not applied",
                                              "config.json: linux.seccomp: absent"));
  EXPECT_THAT(report.notes(), IsEmpty());
}

}  // namespace
}  // namespace secureos::ctr
