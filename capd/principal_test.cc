#include "capd/principal.h"

#include "gtest/gtest.h"

namespace secureos::capd {
namespace {

TEST(PrincipalTest, AcceptsTheFourForms) {
  EXPECT_EQ(*ParsePrincipal("uid:1000"), "uid:1000");
  EXPECT_EQ(*ParsePrincipal("uid:0"), "uid:0");
  EXPECT_EQ(*ParsePrincipal("service:web-1.prod"), "service:web-1.prod");
  EXPECT_EQ(*ParsePrincipal("sandbox:strict"), "sandbox:strict");
  EXPECT_EQ(*ParsePrincipal("container:c0ffee@x"), "container:c0ffee@x");
}

TEST(PrincipalTest, RefusesEverythingElseSayingWhy) {
  for (const char* bad : {"", "uid:", "uid:-1", "uid:x", "uid:4294967295", "uid:+5", "user:bob",
                          "service:", "service:-x", "service:a b", "service:a/b", "service:a\n",
                          "nobody"}) {
    auto p = ParsePrincipal(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(p.status().message().substr(0, 10), "principal:") << bad;
  }
  EXPECT_FALSE(ParsePrincipal("service:" + std::string(129, 'a')).ok());
}

}  // namespace
}  // namespace secureos::capd
