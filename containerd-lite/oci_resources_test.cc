#include "containerd-lite/oci_resources.h"

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::HasSubstr;

class OciResourcesTest : public ::testing::Test {
 protected:
  void Translate(const oci::v1::Resources& resources) {
    limits_.Clear();
    report_ = OciReport();
    TranslateResources(resources, &limits_, &report_);
  }

  common::v1::ResourceLimits limits_;
  OciReport report_;
};

TEST_F(OciResourcesTest, Resources) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Resources* r = spec.mutable_linux()->mutable_resources();
  r->mutable_memory()->set_limit(64 << 20);
  r->mutable_memory()->set_swap(-1);
  r->mutable_cpu()->set_quota(50000);
  r->mutable_cpu()->set_period(100000);
  r->mutable_pids()->set_limit(64);
  Translate(*r);
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_EQ(limits_.memory_bytes(), 64u << 20);
  EXPECT_EQ(limits_.cpu_millis(), 500u);
  EXPECT_EQ(limits_.pids(), 64u);

  r->mutable_cpu()->set_quota(150000);
  r->mutable_cpu()->clear_period();  // The kernel's 100000.
  r->mutable_memory()->set_limit(-1);
  r->mutable_pids()->set_limit(0);
  Translate(*r);
  ASSERT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
  EXPECT_EQ(limits_.cpu_millis(), 1500u);
  EXPECT_FALSE(limits_.has_memory_bytes());
  EXPECT_FALSE(limits_.has_pids());

  r->mutable_cpu()->set_quota(1);
  r->mutable_cpu()->set_period(1000000);
  Translate(*r);
  EXPECT_THAT(ErrorOf(report_), HasSubstr("config.json: linux.resources.cpu.quota: 1 per "
                                          "1000000 us is less than a thousandth of a CPU"));
}

TEST_F(OciResourcesTest, DefaultDeviceRules) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::DeviceRule* null = spec.mutable_linux()->mutable_resources()->add_devices();
  null->set_allow(true);
  null->set_type("c");
  null->set_major(1);
  null->set_minor(3);
  null->set_access("rwm");
  oci::v1::DeviceRule* pts = spec.mutable_linux()->mutable_resources()->add_devices();
  pts->set_allow(true);
  pts->set_type("c");
  pts->set_major(136);
  pts->set_access("rw");
  Translate(spec.linux().resources());
  EXPECT_TRUE(report_.ToStatus().ok()) << report_.ToStatus();
}

TEST_F(OciResourcesTest, ResourceRefusals) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Resources* r = spec.mutable_linux()->mutable_resources();
  r->mutable_memory()->set_swap(1 << 30);
  r->mutable_memory()->set_reservation(1 << 20);
  r->mutable_cpu()->set_shares(1024);
  r->mutable_cpu()->set_cpus("0-1");
  r->mutable_pids()->set_limit(-5);
  oci::v1::DeviceRule* fuse = r->add_devices();
  fuse->set_allow(true);
  fuse->set_type("c");
  fuse->set_major(10);
  fuse->set_minor(229);
  fuse->set_access("rwm");
  oci::v1::DeviceRule* bad = r->add_devices();
  bad->set_type("x");
  Translate(*r);
  const std::string error = ErrorOf(report_);
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.memory.swap: 1073741824: not "
                               "supported by containerd-lite"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.memory.reservation: 1048576: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.cpu.shares: 1024: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.cpu.cpus: \"0-1\": "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.pids.limit: -5: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.devices[1]: allowing c 10:229 is "
                               "not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.devices[2].type: \"x\": must be a, "
                               "c or b"));
}

}  // namespace
}  // namespace secureos::ctr
