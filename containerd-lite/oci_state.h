// A container's state in the OCI runtime-spec's JSON form, as `runc state` prints it:
//   {"ociVersion": "1.0.2", "id": "web", "status": "running", "pid": 4242,
//    "bundle": "/srv/bundles/web", "annotations": {}}
#ifndef SECUREOS_CONTAINERD_LITE_OCI_STATE_H_
#define SECUREOS_CONTAINERD_LITE_OCI_STATE_H_

#include <string>

#include "proto/containerd_lite.pb.h"
#include "proto/oci_spec.pb.h"

namespace secureos::ctr {

// The OCI fields of `state`; pid is 0 unless created or running.
oci::v1::State OciStateOf(const containerd_lite::v1::ContainerState& state);

// OciStateOf as indented JSON, every field present (pid 0 and empty annotations too).
std::string OciStateJson(const containerd_lite::v1::ContainerState& state);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_STATE_H_
