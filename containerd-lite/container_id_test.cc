#include "containerd-lite/container_id.h"

#include <string>

#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

TEST(ContainerIdTest, AcceptsRuncStyleIds) {
  for (const char* id : {"a", "web-1", "db_2.prod", "0abc", "A.b-c_d"}) {
    EXPECT_TRUE(CheckContainerId(id).ok()) << id;
  }
  EXPECT_TRUE(CheckContainerId(std::string(64, 'x')).ok());
}

TEST(ContainerIdTest, RefusesWithTheFieldAndTheReason) {
  EXPECT_EQ(CheckContainerId("").message(), "id: required");
  EXPECT_EQ(CheckContainerId(std::string(65, 'x')).message(), "id: at most 64 characters, got 65");
  EXPECT_EQ(CheckContainerId(".hidden", "create.id").message(),
            "create.id: must start with a letter or digit, got \".hidden\"");
  EXPECT_EQ(CheckContainerId("a/../b").message(),
            "id: only letters, digits, '_', '.' and '-', got \"a/../b\"");
  EXPECT_EQ(CheckContainerId(std::string("a\nb")).message(),
            "id: only letters, digits, '_', '.' and '-', got \"a\\nb\"");
  EXPECT_EQ(CheckContainerId("a b").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace secureos::ctr
