#include "containerd-lite/oci_process.h"

#include <cstdint>
#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "containerd-lite/rootfs_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
namespace sbx = sandboxd::v1;

class OciProcessTest : public BundleDirTest {
 protected:
  // `process` over a view of the read-only rootfs into out_ and report_.
  void Translate(const oci::v1::Process& process) {
    out_.Clear();
    report_ = OciReport();
    sbx::Filesystem root;
    const RootfsView view = BindRootfs(rootfs_, /*readonly=*/true, &root, &report_);
    TranslateProcess(process, view, &out_, &report_);
  }

  std::string TranslateError(const oci::v1::Process& process) {
    Translate(process);
    return ErrorOf(report_);
  }

  sbx::SandboxSpec out_;
  OciReport report_;
};

// ---- args, env, cwd.

TEST_F(OciProcessTest, ProgramInPath) {
  Translate(CrunSpec().process());
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_THAT(out_.argv(), ElementsAre("/bin/sh"));
  EXPECT_THAT(out_.env(), ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                      "/sbin:/bin",
                                      "TERM=xterm"));
  EXPECT_EQ(out_.filesystem().cwd(), "/");
  EXPECT_THAT(report_.notes(), Contains("config.json: process.args[0]: \"sh\" runs as \"/bin/sh\" "
                                        "(found in PATH; sandboxd execs absolute paths, so the "
                                        "program sees that as argv[0])"));
}

TEST_F(OciProcessTest, ProgramNotInPath) {
  oci::v1::Process process = CrunSpec().process();
  process.set_args(0, "bash");
  EXPECT_THAT(TranslateError(process),
              HasSubstr("config.json: process.args[0]: \"bash\" is not an executable file in "
                        "any directory of the PATH of process.env"));
}

TEST_F(OciProcessTest, DefaultPath) {
  oci::v1::Process process = CrunSpec().process();
  process.clear_env();
  process.set_args(0, "busybox");
  Translate(process);
  EXPECT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_THAT(out_.argv(), ElementsAre("/bin/busybox"));
  process.set_args(0, "passwd");  // In /etc, not executable and not in PATH.
  EXPECT_THAT(TranslateError(process),
              HasSubstr("config.json: process.args[0]: \"passwd\" is not an executable file in "
                        "any directory of the default PATH"));
}

TEST_F(OciProcessTest, CwdMustExist) {
  oci::v1::Process process = CrunSpec().process();
  process.set_cwd("/work");
  EXPECT_THAT(TranslateError(process),
              HasSubstr("config.json: process.cwd: \"/work\" does not exist in the container"));
  process.set_cwd("/etc/passwd");
  EXPECT_THAT(TranslateError(process),
              HasSubstr("config.json: process.cwd: \"/etc/passwd\" is not a directory"));
}

TEST_F(OciProcessTest, TerminalFalseHasNoNote) {
  oci::v1::Process process = CrunSpec().process();
  process.set_terminal(false);
  Translate(process);
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_THAT(report_.notes(), Not(Contains(HasSubstr("process.terminal"))));
  EXPECT_THAT(report_.notes(), Not(IsEmpty()));
  process.set_terminal(true);
  Translate(process);
  EXPECT_THAT(report_.notes(), Contains(HasSubstr("config.json: process.terminal: true: "
                                                  "containerd-lite gives no terminal")));
}

// ---- Capabilities.

TEST(OciCapabilitiesTest, CapabilityRefusals) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->mutable_capabilities()->set_bounding(0, "CAP_FLY");
  spec.mutable_process()->mutable_capabilities()->add_ambient("CAP_KILL,CAP_SYS_ADMIN");
  OciReport report;
  TranslateCapabilities(spec.process().capabilities(), &report);
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("config.json: process.capabilities.bounding[0]: \"CAP_FLY\" is "
                               "not a capability name"));
  EXPECT_THAT(error, HasSubstr("config.json: process.capabilities.ambient[3]: "));
}

TEST(OciCapabilitiesTest, CapabilitiesAreTheUnion) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Capabilities* c = spec.mutable_process()->mutable_capabilities();
  c->clear_ambient();
  c->add_bounding("CAP_CHOWN");
  OciReport report;
  EXPECT_EQ(TranslateCapabilities(*c, &report),
            "cap_chown,cap_kill,cap_net_bind_service,cap_audit_write");
  EXPECT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  EXPECT_THAT(report.notes(), Contains(HasSubstr("config.json: process.capabilities: sandboxd "
                                                 "holds one set: the union (cap_chown,")));

  OciReport none;
  EXPECT_EQ(TranslateCapabilities(oci::v1::Capabilities(), &none), "");
  EXPECT_TRUE(none.ToStatus().ok()) << none.ToStatus();
  EXPECT_THAT(none.notes(), IsEmpty());
}

// ---- rlimits.

TEST(OciRlimitsTest, Rlimits) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Rlimit* r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CORE");
  r->set_hard(~uint64_t{0});
  r->set_soft(~uint64_t{0});
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CPU");
  r->set_hard(10);
  r->set_soft(5);
  common::v1::ResourceLimits limits;
  OciReport report;
  TranslateRlimits(spec.process().rlimits(), &limits, &report);
  ASSERT_TRUE(report.ToStatus().ok()) << report.ToStatus();
  ASSERT_EQ(limits.rlimits_size(), 3);
  EXPECT_EQ(limits.rlimits(0).resource(), common::v1::RLIMIT_RESOURCE_NOFILE);
  EXPECT_EQ(limits.rlimits(0).soft(), 1024u);
  EXPECT_EQ(limits.rlimits(1).resource(), common::v1::RLIMIT_RESOURCE_CORE);
  EXPECT_TRUE(limits.rlimits(1).infinity());
  EXPECT_FALSE(limits.rlimits(1).has_hard());
  EXPECT_EQ(limits.rlimits(2).resource(), common::v1::RLIMIT_RESOURCE_CPU);
  EXPECT_EQ(limits.rlimits(2).hard(), 10u);
  EXPECT_EQ(limits.rlimits(2).soft(), 5u);
}

TEST(OciRlimitsTest, RlimitRefusals) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Rlimit* r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_MEMLOCK");
  r->set_hard(1);
  r->set_soft(1);
  *spec.mutable_process()->add_rlimits() = spec.process().rlimits(0);  // NOFILE twice
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CORE");
  r->set_hard(1);
  r->set_soft(2);
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_STACK");
  r->set_hard(~uint64_t{0});
  r->set_soft(8 << 20);
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_FLY");
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_AS");
  common::v1::ResourceLimits limits;
  OciReport report;
  TranslateRlimits(spec.process().rlimits(), &limits, &report);
  const std::string error = ErrorOf(report);
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[1].type: \"RLIMIT_MEMLOCK\" is not "
                               "supported by sandboxd"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[2].type: \"RLIMIT_NOFILE\" is "
                               "listed twice"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[3].soft: must not exceed hard"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[4]: a finite soft limit"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[5].type: unknown rlimit type "
                               "\"RLIMIT_FLY\""));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[6].hard: required; config.json: "
                               "process.rlimits[6].soft: required"));
  EXPECT_EQ(limits.rlimits_size(), 1);  // Only the first NOFILE.
}

}  // namespace
}  // namespace secureos::ctr
