// Reading config.json: the text into oci::v1::Spec (proto/oci_spec.proto, runtime-spec
// 1.0.x / 1.1.x with OCI's key spellings), and the checks every bundle needs of it.
//
// Parsing is strict and says everything at once: every key the proto does not declare is
// named (protobuf's own parser stops at the first), a key spelled the protobuf way is told
// OCI's spelling, and protobuf's type errors are given OCI's field path.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_CONFIG_H_
#define SECUREOS_CONTAINERD_LITE_OCI_CONFIG_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "containerd-lite/oci_report.h"
#include "proto/oci_spec.pb.h"

namespace secureos::ctr {

// Parses config.json text. Unknown keys (all of them, at once) are INVALID_ARGUMENT
// "config.json: <path>: not supported by containerd-lite"; a wrong type names its path
// with OCI's spelling ("config.json: linux.uidMappings[0].containerID: invalid value -1 for
// type TYPE_UINT32"); invalid JSON is "config.json: not valid JSON: ..."; JSON that is not
// an object is "config.json: must be a JSON object".
absl::StatusOr<oci::v1::Spec> ParseOciConfig(absl::string_view json);

// Adds to `report` what the bundle's spec lacks that needs no file system to see:
// ociVersion 1.0.x or 1.1.x (optionally "-suffix": "1.0.2-dev"), a process with at least
// one arg and an absolute cwd. root.path is left to the caller (LoadBundle resolves it).
void CheckOciConfig(const oci::v1::Spec& spec, OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_CONFIG_H_
