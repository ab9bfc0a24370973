#include "svcd/explain.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "svcd/definition.h"

namespace secureos::svcd {
namespace {

using ::testing::HasSubstr;

ServiceSpec Compile(const std::string& text) {
  v1::ServiceDefinition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  absl::StatusOr<ServiceSpec> s = CompileDefinition(d, DefinitionPolicy{});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : ServiceSpec();
}

// key -> "value (source)"
std::map<std::string, std::string> Settings(const v1::ExplainResponse& r) {
  std::map<std::string, std::string> out;
  for (const v1::Setting& s : r.settings()) out[s.key()] = absl::StrCat(s.value(), " (", s.source(), ")");
  return out;
}

TEST(Explain, LevelTwoSaysWhatComesFromTheLevelAndWhatFromTheDefinition) {
  ServiceSpec s = Compile(R"pb(name: "web" argv: "/bin/sleep" argv: "9" user: "nobody" level: 2
                               capabilities: "cap_net_bind_service" limits { memory_bytes: 67108864 }
                               restart: RESTART_POLICY_ON_FAILURE)pb");
  LaunchContext ctx;
  ctx.log_path = "/run/secureos/svcd/logs/web.fifo";
  absl::StatusOr<v1::ExplainResponse> r = ExplainService(s, ctx);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->launcher(), "capd");
  EXPECT_EQ(r->level(), 2u);
  EXPECT_THAT(r->level_summary(), HasSubstr("private /tmp"));
  std::map<std::string, std::string> m = Settings(*r);
  EXPECT_EQ(m["user"], "nobody (uid 65534) (definition)");
  EXPECT_EQ(m["capabilities"], "cap_net_bind_service (definition)");
  EXPECT_EQ(m["/tmp"], "private tmpfs (level 2)");
  EXPECT_EQ(m["limits.memory"], "67108864 bytes (definition)");
  EXPECT_EQ(m["limits.pids"], "512 (level 2)");
  EXPECT_EQ(m["rlimit.nofile"], "1024/1024 (level 2)");
  EXPECT_EQ(m["restart"], "RESTART_POLICY_ON_FAILURE (definition)");
  EXPECT_EQ(m["stop"], "SIGTERM, SIGKILL after 10s (svcd)");
  // The request is the one a start sends, paths included.
  EXPECT_THAT(r->launch_request(), HasSubstr("principal: \"service:web\""));
  EXPECT_THAT(r->launch_request(), HasSubstr("stdout_path: \"/run/secureos/svcd/logs/web.fifo\""));
  EXPECT_THAT(r->launch_request(), HasSubstr("private_tmp: true"));
}

TEST(Explain, LevelFourIsASandboxWithItsNamespacesAndOverrides) {
  ServiceSpec s = Compile(R"pb(name: "job" argv: "/bin/true" user: "nobody" level: 4
                               overrides { network: NETWORK_NONE read_write_paths: "/var/lib/job" })pb");
  absl::StatusOr<v1::ExplainResponse> r = ExplainService(s, LaunchContext{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->launcher(), "sandboxd");
  std::map<std::string, std::string> m = Settings(*r);
  EXPECT_THAT(m["namespaces"], HasSubstr("user"));
  EXPECT_THAT(m["namespaces"], HasSubstr("net"));
  EXPECT_EQ(m["network"], "none (override)");
  EXPECT_EQ(m["read-write"], "/var/lib/job (override)");
  EXPECT_EQ(m["seccomp"], "built-in \"strict\" (level 4)");
  EXPECT_THAT(r->launch_request(), HasSubstr("spec {"));
}

}  // namespace
}  // namespace secureos::svcd
