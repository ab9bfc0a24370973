// linux.namespaces and hostname, as a SandboxSpec's namespaces, network and hostname.
//
// Every container gets new namespaces: pid, network, mount, ipc, uts, cgroup and time
// as the bundle lists them, and always a user namespace (added, with a note, when the
// bundle has none). A mount namespace is required; joining one ("path") and unknown or
// repeated types are refused. network -> NETWORK_MODE_LOOPBACK, none -> NETWORK_MODE_HOST.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_NAMESPACES_H_
#define SECUREOS_CONTAINERD_LITE_OCI_NAMESPACES_H_

#include <string>

#include "containerd-lite/oci_report.h"
#include "google/protobuf/repeated_field.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// linux.namespaces -> spec->namespaces and spec->network.
void TranslateNamespaces(const google::protobuf::RepeatedPtrField<oci::v1::Namespace>& namespaces,
                         sandboxd::v1::SandboxSpec* spec, OciReport* report);

// hostname -> spec->hostname; refused unless spec->namespaces has uts (so after
// TranslateNamespaces). An empty hostname leaves spec alone.
void TranslateHostname(const std::string& hostname, sandboxd::v1::SandboxSpec* spec,
                       OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_NAMESPACES_H_
