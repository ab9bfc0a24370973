#include "containerd-lite/compliance.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Passes every rule at restricted.
ContainerFacts Compliant() {
  ContainerFacts f;
  f.namespaces = {"pid", "ipc", "network", "uts", "mount", "user"};
  f.capabilities["bounding"] = {"CAP_NET_BIND_SERVICE"};
  f.capabilities["effective"] = {"CAP_NET_BIND_SERVICE"};
  f.no_new_privileges = true;
  f.readonly_root = true;
  f.memory_limit = true;
  f.seccomp = true;
  f.uid = 1000;
  return f;
}

std::vector<std::string> Ids(const std::vector<v1::Finding>& findings) {
  std::vector<std::string> ids;
  for (const v1::Finding& f : findings) ids.push_back(f.rule_id());
  return ids;
}

v1::CompliancePolicy Policy(v1::ComplianceLevel level, v1::ComplianceMode mode = v1::COMPLIANCE_MODE_UNSPECIFIED) {
  v1::CompliancePolicy p;
  p.set_level(level);
  p.set_mode(mode);
  return p;
}

TEST(Compliance, ACompliantBundleHasNoFindingAtEitherLevel) {
  EXPECT_THAT(CheckCompliance(Compliant(), Policy(v1::COMPLIANCE_LEVEL_BASELINE)), IsEmpty());
  EXPECT_THAT(CheckCompliance(Compliant(), Policy(v1::COMPLIANCE_LEVEL_RESTRICTED)), IsEmpty());
}

TEST(Compliance, HostNamespacesAreNamed) {
  ContainerFacts f = Compliant();
  f.namespaces.erase("pid");
  f.namespaces.erase("network");
  std::vector<v1::Finding> out = CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE));
  ASSERT_THAT(Ids(out), ElementsAre("PSS-B-001"));
  EXPECT_EQ(out[0].field(), "linux.namespaces");
  EXPECT_THAT(out[0].message(), HasSubstr("pid, network namespaces"));
  EXPECT_EQ(out[0].level(), v1::COMPLIANCE_LEVEL_BASELINE);
}

TEST(Compliance, CapabilitiesBeyondBaselineAreNamedPerSet) {
  ContainerFacts f = Compliant();
  f.capabilities["bounding"] = {"CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_RAW"};
  f.capabilities["effective"] = {"CAP_CHOWN"};
  std::vector<v1::Finding> out = CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE));
  ASSERT_THAT(Ids(out), ElementsAre("PSS-B-002"));
  EXPECT_EQ(out[0].field(), "process.capabilities.bounding");
  EXPECT_THAT(out[0].message(), HasSubstr("CAP_SYS_ADMIN, CAP_NET_RAW beyond"));
  // A configured allowlist replaces the default.
  v1::CompliancePolicy p = Policy(v1::COMPLIANCE_LEVEL_BASELINE);
  p.add_capability_allowlist("kill");
  p.add_capability_allowlist("cap_sys_admin");
  p.add_capability_allowlist("NET_RAW");
  p.add_capability_allowlist("CHOWN");
  EXPECT_THAT(CheckCompliance(f, p), IsEmpty());
}

TEST(Compliance, HostPathsOutsideTheAllowlistAreNamed) {
  ContainerFacts f = Compliant();
  f.host_mounts = {{"mounts[2]", "/var/lib/data/app"}, {"mounts[5]", "/etc"}, {"mounts[6]", "/var/lib/database"}};
  v1::CompliancePolicy p = Policy(v1::COMPLIANCE_LEVEL_BASELINE);
  p.add_host_path_allowlist("/var/lib/data/");
  std::vector<v1::Finding> out = CheckCompliance(f, p);
  ASSERT_THAT(Ids(out), ElementsAre("PSS-B-003", "PSS-B-003"));
  EXPECT_EQ(out[0].field(), "mounts[5].source");
  EXPECT_THAT(out[0].message(), HasSubstr("/etc"));
  EXPECT_EQ(out[1].field(), "mounts[6].source");  // A prefix of a name is not a parent.
  f.host_mounts = {{"mounts[2]", "/var/lib/data"}};
  EXPECT_THAT(CheckCompliance(f, p), IsEmpty());
}

TEST(Compliance, RootWithoutAUserNamespaceIsHostRoot) {
  ContainerFacts f = Compliant();
  f.uid = 0;
  f.namespaces.erase("user");
  EXPECT_THAT(Ids(CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE))), ElementsAre("PSS-B-004"));
  f.namespaces.insert("user");
  EXPECT_THAT(CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE)), IsEmpty());
}

TEST(Compliance, EachRestrictedRuleHasItsOwnFinding) {
  struct Case {
    const char* id;
    void (*spoil)(ContainerFacts*);
    const char* field;
  };
  const Case cases[] = {
      {"PSS-R-001", [](ContainerFacts* f) { f->no_new_privileges = false; }, "process.noNewPrivileges"},
      {"PSS-R-002", [](ContainerFacts* f) { f->readonly_root = false; }, "root.readonly"},
      {"PSS-R-003", [](ContainerFacts* f) { f->memory_limit = false; }, "linux.resources.memory.limit"},
      {"PSS-R-004", [](ContainerFacts* f) { f->seccomp = false; }, "linux.seccomp"},
      {"PSS-R-005", [](ContainerFacts* f) { f->capabilities["effective"] = {"CAP_CHOWN"}; },
       "process.capabilities.effective"},
      {"PSS-R-006", [](ContainerFacts* f) { f->uid = 0; }, "process.user.uid"},
  };
  for (const Case& c : cases) {
    ContainerFacts f = Compliant();
    c.spoil(&f);
    std::vector<v1::Finding> out = CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_RESTRICTED));
    ASSERT_THAT(Ids(out), ElementsAre(c.id)) << c.id;
    EXPECT_EQ(out[0].field(), c.field);
    EXPECT_EQ(out[0].level(), v1::COMPLIANCE_LEVEL_RESTRICTED);
    // Baseline does not look at it.
    EXPECT_THAT(CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE)), IsEmpty()) << c.id;
  }
}

TEST(Compliance, ModeAndLevelComeFromThePolicyUnlessGiven) {
  ContainerFacts f = Compliant();
  f.seccomp = false;
  f.namespaces.erase("uts");
  v1::CompliancePolicy p = Policy(v1::COMPLIANCE_LEVEL_UNSPECIFIED, v1::COMPLIANCE_MODE_AUDIT);
  std::vector<v1::Finding> base = CheckCompliance(f, p);
  ASSERT_THAT(Ids(base), ElementsAre("PSS-B-001"));  // Unspecified level: baseline.
  EXPECT_EQ(base[0].mode(), v1::COMPLIANCE_MODE_AUDIT);
  EXPECT_THAT(Ids(CheckCompliance(f, p, v1::COMPLIANCE_LEVEL_RESTRICTED)), ElementsAre("PSS-B-001", "PSS-R-004"));
  EXPECT_EQ(CheckCompliance(f, Policy(v1::COMPLIANCE_LEVEL_BASELINE))[0].mode(), v1::COMPLIANCE_MODE_ENFORCE);
}

}  // namespace
}  // namespace secureos::ctr
