#include "containerd-lite/oci_config.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::HasSubstr;

// CheckOciConfig's verdict on `spec`.
absl::Status Checked(const oci::v1::Spec& spec) {
  OciReport report;
  CheckOciConfig(spec, &report);
  EXPECT_THAT(report.notes(), ::testing::IsEmpty());
  return report.ToStatus();
}

// ---- Parsing.

TEST(OciConfigTest, UnknownFieldsAreAllNamed) {
  std::string text = Testdata("crun_spec.json");
  ASSERT_TRUE(absl::StrContains(text, "\"linux\": {"));
  text = absl::StrReplaceAll(text, {{"\"linux\": {", "\"linux\": {\"intelRdt\": {\"closID\": \"x\"},"},
                                    {"\"process\": {", "\"process\": {\"apparmorProfile\": \"p\","}});
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(text);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(),
            "config.json: linux.intelRdt: not supported by containerd-lite; "
            "config.json: process.apparmorProfile: not supported by containerd-lite");
}

TEST(OciConfigTest, UnknownFieldInsideAList) {
  absl::StatusOr<oci::v1::Spec> spec =
      ParseOciConfig(R"({"mounts": [{"destination": "/a"}, {"destination": "/b", "uidMappings": []}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "config.json: mounts[1].uidMappings: not supported by containerd-lite");
}

TEST(OciConfigTest, ProtobufSpellingIsNotOci) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"oci_version": "1.0.0"})");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(),
              HasSubstr("config.json: oci_version: not an OCI key (OCI spells it \"ociVersion\")"));
}

TEST(OciConfigTest, OciSpellingsOfIdMappingsAndMemory) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"linux": {
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
      "resources": {"memory": {"limit": 1048576, "kernelTCP": 5, "disableOOMKiller": false}}}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->linux().uid_mappings(0).host_id(), 1000u);
  EXPECT_EQ(spec->linux().resources().memory().kernel_tcp(), 5);
  EXPECT_TRUE(spec->linux().resources().memory().has_disable_oom_killer());
}

TEST(OciConfigTest, WrongTypeNamesTheOciPath) {
  absl::StatusOr<oci::v1::Spec> spec =
      ParseOciConfig(R"({"linux": {"uidMappings": [{"containerID": -1}]}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "config.json: linux.uidMappings[0].containerID: invalid value -1 for type "
            "TYPE_UINT32");
}

TEST(OciConfigTest, InvalidJson) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"ociVersion": )");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("config.json: not valid JSON: "));
  spec = ParseOciConfig("[1]");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "config.json: must be a JSON object");
}

// ---- Checks.

TEST(OciConfigTest, OciVersions) {
  for (const char* good : {"1.0.0", "1.0.2", "1.0.2-dev", "1.1.0", "1.1.0-rc.1"}) {
    oci::v1::Spec spec = CrunSpec();
    spec.set_oci_version(good);
    EXPECT_TRUE(Checked(spec).ok()) << good;
  }
  for (const char* bad : {"1.2.0", "2.0.0", "1.0", "1.0.x", "1.0.0-", "0.9.0"}) {
    oci::v1::Spec spec = CrunSpec();
    spec.set_oci_version(bad);
    const absl::Status status = Checked(spec);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.message(),
              absl::StrCat("config.json: ociVersion: \"", bad,
                           "\" is not supported: containerd-lite reads runtime-spec 1.0.x and "
                           "1.1.x"));
  }
  oci::v1::Spec spec = CrunSpec();
  spec.clear_oci_version();
  EXPECT_EQ(Checked(spec).message(), "config.json: ociVersion: required");
}

TEST(OciConfigTest, RelativeCwd) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_cwd("tmp");
  EXPECT_EQ(Checked(spec).message(), "config.json: process.cwd: must be absolute, got \"tmp\"");
}

TEST(OciConfigTest, EmptyArgs) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->clear_args();
  EXPECT_EQ(Checked(spec).message(),
            "config.json: process.args: required: at least the program to run");
}

TEST(OciConfigTest, ProcessIsRequired) {
  oci::v1::Spec spec = CrunSpec();
  spec.clear_process();
  EXPECT_EQ(Checked(spec).message(), "config.json: process: required");
  spec = CrunSpec();
  spec.mutable_process()->clear_cwd();
  EXPECT_EQ(Checked(spec).message(), "config.json: process.cwd: required");
}

}  // namespace
}  // namespace secureos::ctr
