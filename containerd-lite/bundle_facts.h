// What the compliance rules look at (compliance.h ContainerFacts), read from a bundle's
// config.json as the bundle asks for it.
#ifndef SECUREOS_CONTAINERD_LITE_BUNDLE_FACTS_H_
#define SECUREOS_CONTAINERD_LITE_BUNDLE_FACTS_H_

#include "containerd-lite/compliance.h"
#include "proto/oci_spec.pb.h"

namespace secureos::ctr {

// Namespaces by OCI type; the five capability sets; noNewPrivileges; root.readonly; a
// positive linux.resources.memory.limit; linux.seccomp present; process.user.uid; and every
// bind mount ("bind" type, or a "bind"/"rbind" option) with its host source.
ContainerFacts FactsOf(const oci::v1::Spec& spec);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_BUNDLE_FACTS_H_
