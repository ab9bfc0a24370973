#include "cli/ctr_commands.h"

#include <sstream>

#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

TEST(CtrCommandsTest, ParseNetwork) {
  EXPECT_EQ(*ParseNetwork(""), v1::NETWORK_MODE_LOOPBACK);
  EXPECT_EQ(*ParseNetwork("loopback"), v1::NETWORK_MODE_LOOPBACK);
  EXPECT_EQ(*ParseNetwork("none"), v1::NETWORK_MODE_NONE);
  EXPECT_EQ(*ParseNetwork("bridge"), v1::NETWORK_MODE_BRIDGE);
  EXPECT_EQ(ParseNetwork("host").status().message(), "--net: none, loopback or bridge, got \"host\"");
}

TEST(CtrCommandsTest, ParsePssLevel) {
  EXPECT_EQ(*ParsePssLevel(""), v1::COMPLIANCE_LEVEL_UNSPECIFIED);
  EXPECT_EQ(*ParsePssLevel("baseline"), v1::COMPLIANCE_LEVEL_BASELINE);
  EXPECT_EQ(*ParsePssLevel("restricted"), v1::COMPLIANCE_LEVEL_RESTRICTED);
  EXPECT_EQ(ParsePssLevel("privileged").status().message(),
            "--pss_level: baseline or restricted, got \"privileged\"");
}

TEST(CtrCommandsTest, StatsLineWithAndWithoutLimits) {
  v1::ContainerStats s;
  s.set_id("web");
  s.set_memory_working_set_bytes(12 << 20);
  s.set_memory_limit_bytes(64 << 20);
  s.set_cpu_rate(0.25);
  s.set_cpu_limit(0.5);
  s.set_pids(3);
  s.set_pids_limit(64);
  s.set_oom_kills(0);
  EXPECT_EQ(StatsLine(s),
            "web  mem 12.0 MiB / 64.0 MiB (18.8%)  cpu 0.25 / 0.50 CPUs  pids 3 / 64  oom 0");
  v1::ContainerStats bare;
  bare.set_id("job");
  bare.set_memory_working_set_bytes(1024);
  EXPECT_EQ(StatsLine(bare), "job  mem 1.0 KiB  cpu -  pids -  oom -");
}

TEST(CtrCommandsTest, PrintFindings) {
  v1::CheckResponse r;
  v1::Finding* f = r.add_findings();
  f->set_rule_id("PSS-B-004");
  f->set_level(v1::COMPLIANCE_LEVEL_BASELINE);
  f->set_field("process.user.uid");
  f->set_message("runs as uid 0 without a user namespace");
  std::ostringstream out;
  PrintFindings(r, out);
  EXPECT_EQ(out.str(),
            "PSS-B-004  baseline  process.user.uid\n    runs as uid 0 without a user namespace\n"
            "not compliant: 1 finding\n");
  v1::CheckResponse ok;
  ok.set_compliant(true);
  std::ostringstream out2;
  PrintFindings(ok, out2);
  EXPECT_EQ(out2.str(), "compliant: no findings\n");
}

}  // namespace
}  // namespace secureos::cli
