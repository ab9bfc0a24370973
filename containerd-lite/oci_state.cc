#include "containerd-lite/oci_state.h"

#include "google/protobuf/util/json_util.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

const char* StatusText(v1::ContainerStatus s) {
  switch (s) {
    case v1::CONTAINER_STATUS_CREATED: return "created";
    case v1::CONTAINER_STATUS_RUNNING: return "running";
    case v1::CONTAINER_STATUS_STOPPED: return "stopped";
    default: return "creating";
  }
}

}  // namespace

oci::v1::State OciStateOf(const v1::ContainerState& state) {
  oci::v1::State out;
  out.set_oci_version(state.oci_version());
  out.set_id(state.id());
  out.set_status(StatusText(state.status()));
  const bool live = state.status() == v1::CONTAINER_STATUS_CREATED ||
                    state.status() == v1::CONTAINER_STATUS_RUNNING;
  out.set_pid(live ? state.pid() : 0);
  out.set_bundle(state.bundle());
  out.mutable_annotations()->insert(state.annotations().begin(), state.annotations().end());
  return out;
}

std::string OciStateJson(const v1::ContainerState& state) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // A message of strings, an int and a string map always prints.
  (void)google::protobuf::util::MessageToJsonString(OciStateOf(state), &json, options);
  return json;
}

}  // namespace secureos::ctr
