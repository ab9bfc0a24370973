// Every compliance rule against real bundles: `crun spec` output (crun 1.8.1), made to pass
// each rule, then spoiled for exactly that rule.
#include "containerd-lite/bundle_facts.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::CompliancePolicy Restricted() {
  v1::CompliancePolicy p;
  p.set_level(v1::COMPLIANCE_LEVEL_RESTRICTED);
  p.add_host_path_allowlist("/srv/data");
  return p;
}

std::vector<std::string> Ids(const oci::v1::Spec& spec) {
  std::vector<std::string> ids;
  for (const v1::Finding& f : CheckCompliance(FactsOf(spec), Restricted())) ids.push_back(f.rule_id());
  return ids;
}

// crun's default bundle, hardened until it passes the restricted level.
oci::v1::Spec Passing() {
  oci::v1::Spec s = CrunSpec();
  s.mutable_process()->set_no_new_privileges(true);
  s.mutable_process()->mutable_user()->set_uid(1000);
  s.mutable_root()->set_readonly(true);
  s.mutable_linux()->mutable_resources()->mutable_memory()->set_limit(64 << 20);
  s.mutable_linux()->mutable_seccomp()->set_default_action("SCMP_ACT_ERRNO");
  oci::v1::Capabilities* caps = s.mutable_process()->mutable_capabilities();
  for (auto* set : {caps->mutable_bounding(), caps->mutable_effective(), caps->mutable_permitted(),
                    caps->mutable_inheritable(), caps->mutable_ambient()}) {
    set->Clear();
  }
  caps->add_bounding("CAP_NET_BIND_SERVICE");
  caps->add_effective("CAP_NET_BIND_SERVICE");
  s.mutable_linux()->add_namespaces()->set_type("user");
  oci::v1::Mount* data = s.add_mounts();
  data->set_destination("/data");
  data->set_type("bind");
  data->set_source("/srv/data/app");
  data->add_options("rbind");
  return s;
}

TEST(BundleFacts, CrunSpecAsItIsFailsRootAndRestrictedRulesAndHardenedPassesAll) {
  // crun's default: every namespace but user, uid 0, a read-only root, no seccomp, no
  // memory limit, noNewPrivileges true, AUDIT_WRITE/KILL/NET_BIND_SERVICE (within baseline,
  // beyond restricted) in four sets.
  EXPECT_THAT(Ids(CrunSpec()), ElementsAre("PSS-B-004", "PSS-R-003", "PSS-R-004", "PSS-R-005", "PSS-R-005",
                                           "PSS-R-005", "PSS-R-005", "PSS-R-006"));
  EXPECT_THAT(Ids(Passing()), IsEmpty());
}

TEST(BundleFacts, EachRuleHasAFailingBundle) {
  struct Case {
    const char* id;
    std::function<void(oci::v1::Spec*)> spoil;
  };
  const std::vector<Case> cases = {
      {"PSS-B-001", [](oci::v1::Spec* s) {
         auto* ns = s->mutable_linux()->mutable_namespaces();
         ns->erase(std::remove_if(ns->begin(), ns->end(), [](const oci::v1::Namespace& n) { return n.type() == "pid"; }),
                   ns->end());
       }},
      {"PSS-B-003", [](oci::v1::Spec* s) {
         oci::v1::Mount* m = s->add_mounts();
         m->set_destination("/host");
         m->set_type("none");
         m->set_source("/etc");
         m->add_options("rbind");
       }},
      {"PSS-R-001", [](oci::v1::Spec* s) { s->mutable_process()->set_no_new_privileges(false); }},
      {"PSS-R-002", [](oci::v1::Spec* s) { s->mutable_root()->set_readonly(false); }},
      {"PSS-R-003", [](oci::v1::Spec* s) { s->mutable_linux()->mutable_resources()->clear_memory(); }},
      {"PSS-R-004", [](oci::v1::Spec* s) { s->mutable_linux()->clear_seccomp(); }},
      {"PSS-R-005", [](oci::v1::Spec* s) { s->mutable_process()->mutable_capabilities()->add_permitted("CAP_KILL"); }},
  };
  for (const Case& c : cases) {
    oci::v1::Spec s = Passing();
    c.spoil(&s);
    EXPECT_THAT(Ids(s), ElementsAre(c.id)) << c.id;
  }
  // uid 0: host root without a user namespace of its own (B-004), and root inside.
  oci::v1::Spec root = Passing();
  root.mutable_process()->mutable_user()->set_uid(0);
  EXPECT_THAT(Ids(root), ElementsAre("PSS-R-006"));
  auto* ns = root.mutable_linux()->mutable_namespaces();
  ns->erase(std::remove_if(ns->begin(), ns->end(), [](const oci::v1::Namespace& n) { return n.type() == "user"; }),
            ns->end());
  EXPECT_THAT(Ids(root), ElementsAre("PSS-B-004", "PSS-R-006"));
}

TEST(BundleFacts, CapabilitiesBeyondBaselineInACrunBundle) {
  oci::v1::Spec s = CrunSpec();
  s.mutable_process()->mutable_capabilities()->add_bounding("CAP_SYS_ADMIN");
  v1::CompliancePolicy baseline;
  std::vector<v1::Finding> out = CheckCompliance(FactsOf(s), baseline);
  ASSERT_EQ(out.size(), 2u);  // PSS-B-002 (bounding), PSS-B-004 (uid 0, no user namespace).
  EXPECT_EQ(out[0].rule_id(), "PSS-B-002");
  EXPECT_EQ(out[0].field(), "process.capabilities.bounding");
}

}  // namespace
}  // namespace secureos::ctr
