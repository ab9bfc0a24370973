#include "common/log.h"

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(LogTest, OneLineKeyValueRecord) {
  std::string line = FormatLogLine(LogLevel::kWarning, "capd", "permission denied",
                                   {{"uid", "65534"}, {"method", "/x.Y/Reload"}});
  EXPECT_EQ(line.substr(0, 3), "ts=");
  EXPECT_NE(line.find(" level=warning daemon=capd msg=\"permission denied\" uid=65534 "
                      "method=/x.Y/Reload\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogTest, CallerStringsCannotForgeARecord) {
  std::string line = FormatLogLine(LogLevel::kInfo, "svcd", "x",
                                   {{"name", "a\nts=0 level=error msg=forged"}, {"q", "say \"hi\""}});
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_NE(line.find("name=\"a\\nts=0 level=error msg=forged\""), std::string::npos) << line;
  EXPECT_NE(line.find("q=\"say \\\"hi\\\"\""), std::string::npos) << line;
}

TEST(LogTest, ParsesLevels) {
  LogLevel l;
  ASSERT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  ASSERT_TRUE(ParseLogLevel("error", &l));
  EXPECT_EQ(l, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace secureos
