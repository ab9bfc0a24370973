#include "containerd-lite/container_store.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;
using ::testing::HasSubstr;

class ContainerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  v1::ContainerState State(const std::string& id, v1::ContainerStatus status) {
    v1::ContainerState s;
    s.set_id(id);
    s.set_status(status);
    s.set_bundle("/srv/" + id);
    s.set_pid(status == v1::CONTAINER_STATUS_RUNNING ? 42 : 0);
    return s;
  }
  std::string dir_;
};

TEST_F(ContainerStoreTest, SaveLoadRemove) {
  ContainerStore store(dir_);
  ASSERT_TRUE(store.Save(State("web", v1::CONTAINER_STATUS_RUNNING)).ok());
  ASSERT_TRUE(store.Save(State("db", v1::CONTAINER_STATUS_CREATED)).ok());
  ASSERT_TRUE(store.Save(State("web", v1::CONTAINER_STATUS_STOPPED)).ok());  // Replaces.
  auto loaded = store.LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->containers.size(), 2u);
  EXPECT_EQ(loaded->containers[0].id(), "db");
  EXPECT_EQ(loaded->containers[1].id(), "web");
  EXPECT_EQ(loaded->containers[1].status(), v1::CONTAINER_STATUS_STOPPED);
  EXPECT_TRUE(loaded->problems.empty());
  struct stat st;
  ASSERT_EQ(::stat(store.PathOf("web").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(store.Remove("web").ok());
  EXPECT_TRUE(store.Remove("web").ok());  // Already gone.
  EXPECT_EQ(store.LoadAll()->containers.size(), 1u);
}

TEST_F(ContainerStoreTest, RefusesIdsThatAreNotFileNames) {
  ContainerStore store(dir_);
  EXPECT_EQ(store.Save(State("../etc", v1::CONTAINER_STATUS_CREATED)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Remove("a/b").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ContainerStoreTest, BadFilesAreReportedAndLeftAlone) {
  ContainerStore store(dir_);
  ASSERT_TRUE(store.Save(State("good", v1::CONTAINER_STATUS_RUNNING)).ok());
  std::ofstream(store.PathOf("garbled")) << "state { id: \"garbled\" status: NOPE }";
  std::ofstream(store.PathOf("renamed")) << "state { id: \"other\" }";
  std::ofstream(dir_ + "/uid_ranges.textproto") << "pool: \"uid\"";  // Not a record.
  auto loaded = store.LoadAll();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->containers.size(), 1u);
  EXPECT_EQ(loaded->containers[0].id(), "good");
  ASSERT_EQ(loaded->problems.size(), 2u);
  std::string all = loaded->problems[0] + "\n" + loaded->problems[1];
  EXPECT_THAT(all, HasSubstr("garbled.container.textproto"));
  EXPECT_THAT(all, HasSubstr("holds container \"other\""));
  EXPECT_EQ(::access(store.PathOf("garbled").c_str(), F_OK), 0);
}

TEST_F(ContainerStoreTest, MissingDirectoryIsAnError) {
  ContainerStore store(dir_ + "/nope");
  EXPECT_EQ(store.LoadAll().status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos::ctr
