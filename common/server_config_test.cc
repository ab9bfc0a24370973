#include "common/server_config.h"

#include "gtest/gtest.h"

namespace secureos {
namespace {

using common::v1::ServerConfig;

ServerConfig Valid() {
  ServerConfig c;
  c.set_socket_mode("0660");
  c.set_event_ring_capacity(1024);
  c.set_shutdown_timeout_ms(5000);
  return c;
}

TEST(SocketModeTest, ParsesOctalAndRefusesTheRest) {
  EXPECT_EQ(*ParseSocketMode("0660"), 0660u);
  EXPECT_EQ(*ParseSocketMode("600"), 0600u);
  for (const char* bad : {"", "66", "0868", "rw-rw----", "04660", "1777", "0460", "00660"}) {
    EXPECT_FALSE(ParseSocketMode(bad).ok()) << bad;
  }
  EXPECT_NE(ParseSocketMode("0460").status().message().find("owner"), absl::string_view::npos);
}

TEST(ResolveTest, NamesAndNumbers) {
  EXPECT_EQ(*ResolveUser("", 42), 42u);
  EXPECT_EQ(*ResolveUser("root", 42), 0u);
  EXPECT_EQ(*ResolveUser("1234", 42), 1234u);
  EXPECT_EQ(*ResolveGroup("root", 42), 0u);
  EXPECT_EQ(ResolveUser("no-such-user-xyz", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(ResolveUser("4294967295", 0).ok());
  EXPECT_FALSE(ResolveUser("12ab", 0).ok());
}

TEST(ValidateServerConfigTest, ValidPasses) {
  FieldErrors errors;
  ValidateServerConfig(Valid(), "server.", &errors);
  EXPECT_TRUE(errors.empty()) << errors.ToStatus();
}

TEST(ValidateServerConfigTest, EachProblemNamesItsField) {
  ServerConfig c;
  c.set_socket("/abs/x.sock");
  FieldErrors errors;
  ValidateServerConfig(c, "server.", &errors);
  std::string m(errors.ToStatus().message());
  for (const char* f : {"server.socket:", "server.socket_mode:", "server.event_ring_capacity:",
                        "server.shutdown_timeout_ms:"}) {
    EXPECT_NE(m.find(f), std::string::npos) << f << " in " << m;
  }
  ServerConfig dots = Valid();
  dots.set_socket("run/../../etc/x.sock");
  FieldErrors e2;
  ValidateServerConfig(dots, "server.", &e2);
  EXPECT_EQ(e2.ToStatus().message(), "server.socket: must not contain \"..\"");
}

TEST(ValidateServerConfigTest, ReloadRefusesChangesThatNeedARestart) {
  ServerConfig running = Valid();
  ServerConfig next = Valid();
  next.add_admin_uids(1000);  // Applies at once.
  FieldErrors ok;
  CheckServerConfigReload(running, next, "server.", &ok);
  EXPECT_TRUE(ok.empty());
  next.set_socket_mode("0666");
  next.set_event_ring_capacity(64);
  FieldErrors errors;
  CheckServerConfigReload(running, next, "server.", &errors);
  EXPECT_EQ(errors.ToStatus().message(),
            "server.socket_mode: changing it needs a restart; "
            "server.event_ring_capacity: changing it needs a restart");
}

}  // namespace
}  // namespace secureos
