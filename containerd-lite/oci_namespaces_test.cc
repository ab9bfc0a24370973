#include "containerd-lite/oci_namespaces.h"

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace sbx = sandboxd::v1;

class OciNamespacesTest : public ::testing::Test {
 protected:
  // linux.namespaces, then hostname, of `spec` into out_ and report_.
  void Translate(const oci::v1::Spec& spec) {
    TranslateNamespaces(spec.linux().namespaces(), &out_, &report_);
    TranslateHostname(spec.hostname(), &out_, &report_);
  }

  sbx::SandboxSpec out_;
  OciReport report_;
};

TEST_F(OciNamespacesTest, CrunNamespacesGetAUserNamespace) {
  Translate(CrunSpec());
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  const sbx::Namespaces& ns = out_.namespaces();
  EXPECT_TRUE(ns.pid() && ns.net() && ns.ipc() && ns.uts() && ns.mount() && ns.user());
  EXPECT_FALSE(ns.cgroup() || ns.time());
  EXPECT_EQ(out_.network(), sbx::NETWORK_MODE_LOOPBACK);
  EXPECT_EQ(out_.hostname(), "crun");
  EXPECT_THAT(report_.notes(), Contains(HasSubstr("config.json: linux.namespaces: no user "
                                                  "namespace in the bundle")));
}

TEST_F(OciNamespacesTest, JoiningANamespaceIsRefused) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces(1)->set_path("/proc/1/ns/net");
  Translate(spec);
  EXPECT_THAT(ErrorOf(report_),
              HasSubstr("config.json: linux.namespaces[1].path: joining an existing namespace "
                        "(\"/proc/1/ns/net\") is not supported"));
}

TEST_F(OciNamespacesTest, NamespaceTypes) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->add_namespaces()->set_type("pid");
  spec.mutable_linux()->add_namespaces()->set_type("bogus");
  Translate(spec);
  const std::string error = ErrorOf(report_);
  EXPECT_THAT(error, HasSubstr("config.json: linux.namespaces[5].type: \"pid\" is listed twice"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.namespaces[6].type: unknown namespace type "
                               "\"bogus\""));
}

TEST_F(OciNamespacesTest, MountNamespaceIsRequired) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->RemoveLast();  // mount
  Translate(spec);
  EXPECT_THAT(ErrorOf(report_),
              HasSubstr("config.json: linux.namespaces: a mount namespace is required"));
}

TEST_F(OciNamespacesTest, NamespacesAndNetwork) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->DeleteSubrange(1, 1);  // network
  spec.mutable_linux()->add_namespaces()->set_type("cgroup");
  Translate(spec);
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_FALSE(out_.namespaces().net());
  EXPECT_TRUE(out_.namespaces().cgroup());
  EXPECT_EQ(out_.network(), sbx::NETWORK_MODE_HOST);
}

TEST_F(OciNamespacesTest, UserNamespaceOfTheBundleHasNoNote) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->add_namespaces()->set_type("user");
  Translate(spec);
  EXPECT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_TRUE(out_.namespaces().user());
  EXPECT_THAT(report_.notes(), IsEmpty());
}

TEST_F(OciNamespacesTest, HostnameNeedsUts) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->DeleteSubrange(3, 1);  // uts
  Translate(spec);
  EXPECT_THAT(ErrorOf(report_),
              HasSubstr("config.json: hostname: \"crun\" needs a uts namespace"));
}

}  // namespace
}  // namespace secureos::ctr
