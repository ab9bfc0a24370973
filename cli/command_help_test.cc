// Every secctl command has its own --help with its usage lines and an example, read from the
// real binary; group help lists the group's commands; an unknown command gets the whole usage.
#include "cli/command_help.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Secctl(const std::string& args) {
  const std::string cmd = absl::StrCat(std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"), "/cli/secctl ",
                                       args, " 2>&1");
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(CommandHelpTest, EveryCommandHasItsOwnHelpWithAnExample) {
  ASSERT_GT(AllCommands().size(), 40u);
  for (const std::string& command : AllCommands()) {
    const std::string help = Secctl(absl::StrCat(command, " --help"));
    EXPECT_THAT(help, StartsWith(absl::StrCat("Usage: secctl [--root DIR] [--json] [--timeout 5s] ", command)))
        << command;
    EXPECT_THAT(help, HasSubstr("\nExample:\n  ")) << command;
    // The usage line(s) of that command only, not the whole text.
    EXPECT_THAT(help, ::testing::Not(HasSubstr("Exit codes:"))) << command;
    const std::vector<std::string> words = absl::StrSplit(command, ' ');
    EXPECT_THAT(help, HasSubstr(absl::StrCat("\n  ", words[0]))) << command;
  }
}

TEST(CommandHelpTest, HelpAsACommandAndFlagsBeforeIt) {
  EXPECT_THAT(Secctl("help svc logs"), HasSubstr("svc logs NAME"));
  EXPECT_THAT(Secctl("--root /tmp -h cap grant"), HasSubstr("sudo secctl cap grant service:web"));
  EXPECT_THAT(Secctl("svc stop --help"), HasSubstr("svc start|stop|restart NAME"));
}

TEST(CommandHelpTest, AGroupListsItsCommandsAndAnUnknownOneGetsEverything) {
  const std::string group = Secctl("monitor --help");
  EXPECT_THAT(group, StartsWith("monitord (monitor):"));
  EXPECT_THAT(group, HasSubstr("monitor audit verify"));
  EXPECT_THAT(group, HasSubstr("Examples:\n"));
  EXPECT_THAT(Secctl("--help"), HasSubstr("Exit codes:"));
  EXPECT_THAT(Secctl("frobnicate --help"), HasSubstr("Exit codes:"));
}

TEST(CommandHelpTest, LinesOfOneCommand) {
  const std::string help =
      "capd (cap):\n  cap get PID             state of any process\n                          more\n"
      "  cap grant P CAPS        (admin)\n\n";
  std::optional<std::string> h = CommandHelp(help, {"cap", "get"});
  ASSERT_TRUE(h.has_value());
  EXPECT_THAT(*h, HasSubstr("  cap get PID             state of any process\n                          more\n"));
  EXPECT_THAT(*h, ::testing::Not(HasSubstr("cap grant")));
  EXPECT_FALSE(CommandHelp(help, {"nothing"}).has_value());
}

}  // namespace
}  // namespace secureos::cli
