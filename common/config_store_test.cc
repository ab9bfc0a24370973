#include "common/config_store.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "proto/capd.pb.h"

namespace secureos {
namespace {

using capd::v1::CapdConfig;

constexpr char kDefault[] = "server { socket_mode: \"0660\" }\n";

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Refuses socket modes other than 0660/0640 so that the test can write invalid files.
void Validate(const google::protobuf::Message*, const google::protobuf::Message& next,
              FieldErrors* errors) {
  const auto& c = static_cast<const CapdConfig&>(next);
  if (c.server().socket_mode() != "0660" && c.server().socket_mode() != "0640") {
    errors->Add("server.socket_mode", "must be 0660 or 0640");
  }
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  std::string path_ = std::string(std::getenv("TEST_TMPDIR")) + "/capd.conf";
  void SetUp() override { std::remove(path_.c_str()); }
};

TEST_F(ConfigStoreTest, UsesTheEmbeddedDefaultWhenTheFileDoesNotExist) {
  ConfigStore store(path_, kDefault, CapdConfig::default_instance(), Validate);
  EXPECT_EQ(*store.Load(), ConfigStore::kEmbedded);
  EXPECT_EQ(store.Get<CapdConfig>()->server().socket_mode(), "0660");
}

TEST_F(ConfigStoreTest, AnInvalidFileAtStartIsAnErrorWithFileLineAndField) {
  Write(path_, "server {\n  socket_mode: \"0777\"\n}\n");
  ConfigStore store(path_, kDefault, CapdConfig::default_instance(), Validate);
  absl::StatusOr<std::string> s = store.Load();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), path_ + ":2: server.socket_mode: must be 0660 or 0640");
}

TEST_F(ConfigStoreTest, AnInvalidReloadKeepsTheOldConfiguration) {
  Write(path_, "server { socket_mode: \"0640\" }\n");
  ConfigStore store(path_, kDefault, CapdConfig::default_instance(), Validate);
  ASSERT_TRUE(store.Load().ok());
  int observed = 0;
  store.AddObserver([&](const google::protobuf::Message&) { ++observed; });
  Write(path_, "server { socket_mode: \"0777\" }\n");
  EXPECT_FALSE(store.Reload().ok());
  Write(path_, "server { socket_mode: 0640 garbage }\n");
  EXPECT_FALSE(store.Reload().ok());
  EXPECT_EQ(store.Get<CapdConfig>()->server().socket_mode(), "0640");
  EXPECT_EQ(observed, 0);
  Write(path_, "server { socket_mode: \"0660\" }\n");
  EXPECT_EQ(*store.Reload(), path_);
  EXPECT_EQ(store.Get<CapdConfig>()->server().socket_mode(), "0660");
  EXPECT_EQ(observed, 1);
}

TEST_F(ConfigStoreTest, ReloadValidatorSeesTheRunningConfig) {
  Write(path_, "server { socket_mode: \"0640\" }\n");
  const google::protobuf::Message* seen = nullptr;
  ConfigStore store(path_, kDefault, CapdConfig::default_instance(),
                    [&](const google::protobuf::Message* running, const google::protobuf::Message&,
                        FieldErrors*) { seen = running; });
  ASSERT_TRUE(store.Load().ok());
  EXPECT_EQ(seen, nullptr);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_NE(seen, nullptr);
}

}  // namespace
}  // namespace secureos
