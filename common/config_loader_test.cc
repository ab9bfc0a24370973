#include "common/config_loader.h"

#include <fstream>

#include "common/field_errors.h"
#include "gtest/gtest.h"
#include "proto/capd.pb.h"

namespace secureos {
namespace {

using capd::v1::CapdConfig;

TEST(ConfigLoaderTest, ParsesTextFormat) {
  CapdConfig c;
  ASSERT_TRUE(ParseConfig("capd.conf", "server {\n  socket_mode: \"0640\"\n  admin_uids: 7\n}\n",
                          &c, nullptr)
                  .ok());
  EXPECT_EQ(c.server().socket_mode(), "0640");
  EXPECT_EQ(c.server().admin_uids(0), 7u);
}

TEST(ConfigLoaderTest, SyntaxErrorsNameFileLineAndColumn) {
  CapdConfig c;
  absl::Status s = ParseConfig("/etc/secureos/capd.conf", "server {\n  socket_mode: 0640 x\n}\n",
                               &c, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 26), "/etc/secureos/capd.conf:2:") << s.message();
}

TEST(ConfigLoaderTest, UnknownFieldsAreErrorsNamingTheField) {
  CapdConfig c;
  absl::Status s = ParseConfig("c.conf", "server {\n  socket_mod: \"0640\"\n}\n", &c, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("c.conf:2:"), absl::string_view::npos) << s.message();
  EXPECT_NE(s.message().find("socket_mod"), absl::string_view::npos) << s.message();
}

TEST(ConfigLoaderTest, JsonThroughProtobufsMapping) {
  CapdConfig c;
  ASSERT_TRUE(ParseConfig("capd.json", R"({"server": {"socketMode": "0600"}})", &c, nullptr).ok());
  EXPECT_EQ(c.server().socket_mode(), "0600");
  absl::Status s = ParseConfig("capd.json", R"({"server": {"bogus": 1}})", &c, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("capd.json: "), absl::string_view::npos) << s.message();
  EXPECT_NE(s.message().find("bogus"), absl::string_view::npos) << s.message();
}

TEST(ConfigLoaderTest, ValidationErrorsLandOnTheLineOfTheirField) {
  CapdConfig c;
  FieldLocations where;
  ASSERT_TRUE(ParseConfig("capd.conf",
                          "# comment\nserver {\n  socket_mode: \"0640\"\n  admin_uids: 1\n"
                          "  admin_uids: 2\n}\n",
                          &c, &where)
                  .ok());
  EXPECT_EQ(where.LineOf("server"), 2);
  EXPECT_EQ(where.LineOf("server.socket_mode"), 3);
  EXPECT_EQ(where.LineOf("server.admin_uids[1]"), 5);
  // Absent field: the line of its closest present parent.
  EXPECT_EQ(where.LineOf("server.event_ring_capacity"), 2);
  EXPECT_EQ(where.LineOf("nonsense"), std::nullopt);
  FieldErrors errors;
  errors.Add("server.socket_mode", "bad");
  EXPECT_EQ(errors.ToConfigStatus("capd.conf", &where).message(),
            "capd.conf:3: server.socket_mode: bad");
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  CapdConfig c;
  absl::Status s = LoadConfigFile("/nonexistent/secureos.conf", &c, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/secureos.conf"), absl::string_view::npos);
}

}  // namespace
}  // namespace secureos
