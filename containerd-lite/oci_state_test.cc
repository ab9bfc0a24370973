#include "containerd-lite/oci_state.h"

#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

TEST(OciStateTest, RunningContainerAsRuncPrintsIt) {
  v1::ContainerState s;
  s.set_oci_version("1.0.2");
  s.set_id("web");
  s.set_status(v1::CONTAINER_STATUS_RUNNING);
  s.set_pid(4242);
  s.set_bundle("/srv/bundles/web");
  (*s.mutable_annotations())["org.example.team"] = "infra";
  s.set_workload_id("w-1");  // Not an OCI field: not printed.
  EXPECT_EQ(OciStateJson(s),
            "{\n \"ociVersion\": \"1.0.2\",\n \"id\": \"web\",\n \"status\": \"running\",\n"
            " \"pid\": 4242,\n \"bundle\": \"/srv/bundles/web\",\n"
            " \"annotations\": {\n  \"org.example.team\": \"infra\"\n }\n}\n");
}

TEST(OciStateTest, StoppedHasPidZeroAndEveryField) {
  v1::ContainerState s;
  s.set_oci_version("1.0.2");
  s.set_id("job");
  s.set_status(v1::CONTAINER_STATUS_STOPPED);
  s.set_pid(99);  // Stale: a stopped container has no process.
  s.set_bundle("/b");
  const oci::v1::State o = OciStateOf(s);
  EXPECT_EQ(o.status(), "stopped");
  EXPECT_EQ(o.pid(), 0);
  const std::string json = OciStateJson(s);
  EXPECT_NE(json.find("\"pid\": 0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"annotations\": {}"), std::string::npos) << json;
}

TEST(OciStateTest, StatusNames) {
  v1::ContainerState s;
  s.set_status(v1::CONTAINER_STATUS_CREATED);
  EXPECT_EQ(OciStateOf(s).status(), "created");
  s.set_status(v1::CONTAINER_STATUS_UNSPECIFIED);
  EXPECT_EQ(OciStateOf(s).status(), "creating");
}

}  // namespace
}  // namespace secureos::ctr
