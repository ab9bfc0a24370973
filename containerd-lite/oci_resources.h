// linux.resources, as a SandboxSpec's resource limits.
//
// memory.limit -> memory_bytes (-1, 0: unlimited; swap only -1); cpu.quota/period ->
// cpu_millis = quota*1000/period (period default 100000; -1, 0: unlimited); pids.limit ->
// pids (-1, 0: unlimited). devices: deny rules hold (the view's /dev has only the default
// devices); allow rules hold when they name only devices that /dev has (c 1:3, 1:5, 1:7,
// 1:8, 1:9, 5:0, 5:2, 136:*), others are refused. Every other field set is refused.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_RESOURCES_H_
#define SECUREOS_CONTAINERD_LITE_OCI_RESOURCES_H_

#include "containerd-lite/oci_report.h"
#include "proto/common.pb.h"
#include "proto/oci_spec.pb.h"

namespace secureos::ctr {

// linux.resources -> `limits` (memory_bytes, cpu_millis, pids), errors naming
// "linux.resources...." to `report`.
void TranslateResources(const oci::v1::Resources& resources, common::v1::ResourceLimits* limits,
                        OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_RESOURCES_H_
