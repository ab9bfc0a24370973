// config.json's process, as the SandboxSpec's program, environment, working directory,
// capabilities and rlimits (process.user: oci_identity.h).
#ifndef SECUREOS_CONTAINERD_LITE_OCI_PROCESS_H_
#define SECUREOS_CONTAINERD_LITE_OCI_PROCESS_H_

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/rootfs_view.h"
#include "google/protobuf/repeated_field.h"
#include "proto/common.pb.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// process.args, env and cwd -> spec->argv, env and filesystem.cwd, checked as sandboxd
// checks them; process.terminal is noted (no terminal is given). cwd must be a directory
// of `view`. sandboxd execs absolute paths only, so args[0] is made absolute, with a
// note: without a "/" it is looked up as execvp(3) would, in the PATH of process.env (or
// runc's default PATH) inside `view`; with one, it is taken relative to cwd.
void TranslateProcess(const oci::v1::Process& process, const RootfsView& view,
                      sandboxd::v1::SandboxSpec* spec, OciReport* report);

// process.capabilities -> the union of the five sets, in the form of CapSet::ToString
// (sandboxd holds one set in all five); a note when the bundle's sets differ.
std::string TranslateCapabilities(const oci::v1::Capabilities& capabilities, OciReport* report);

// process.rlimits -> limits->rlimits: RLIMIT_{AS,CPU,FSIZE,NOFILE,NPROC,STACK,CORE}, soft and
// hard both given. Other resources, duplicates, soft > hard and a finite soft under an
// infinite hard are refused.
void TranslateRlimits(const google::protobuf::RepeatedPtrField<oci::v1::Rlimit>& rlimits,
                      common::v1::ResourceLimits* limits, OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_PROCESS_H_
