#include "containerd-lite/oci_seccomp.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "containerd-lite/oci_paths.h"
#include "google/protobuf/util/json_util.h"
#include "sandboxd/seccomp/oci_import.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// flags and architectures: what sandboxd's filter does with them.
void CheckFlagsAndArchitectures(const oci::v1::Seccomp& s, OciReport* report) {
  for (int i = 0; i < s.flags_size(); ++i) {
    const std::string field = Field("linux.seccomp.flags", i);
    const std::string& f = s.flags(i);
    if (f == "SECCOMP_FILTER_FLAG_TSYNC" || f == "SECCOMP_FILTER_FLAG_LOG") continue;
    if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      report->Note(field, "SECCOMP_FILTER_FLAG_SPEC_ALLOW is not applied (the kernel's "
                          "speculative store bypass mitigation stays on)");
      continue;
    }
    report->Error(field, absl::StrCat(Quote(f), " is not supported by containerd-lite"));
  }
  for (int i = 0; i < s.architectures_size(); ++i) {
    if (s.architectures(i) != "SCMP_ARCH_X86_64") {
      report->Note(Field("linux.seccomp.architectures", i),
                   absl::StrCat(s.architectures(i),
                                ": sandboxd filters the native architecture only and kills a "
                                "process that makes a syscall of another"));
    }
  }
}

// The importer's errors ("syscalls[0].action: ...; ...") as linux.seccomp fields.
void AddImportErrors(absl::string_view message, OciReport* report) {
  for (absl::string_view part : absl::StrSplit(message, "; ")) {
    const size_t colon = part.find(": ");
    if (colon == absl::string_view::npos) {
      report->Error("linux.seccomp", part);
    } else {
      report->Error(absl::StrCat("linux.seccomp.", part.substr(0, colon)), part.substr(colon + 2));
    }
  }
}

}  // namespace

std::optional<sbx::SeccompProfile> TranslateSeccomp(const oci::v1::Seccomp* seccomp,
                                                    OciReport* report) {
  if (seccomp == nullptr) {
    report->Note("linux.seccomp",
                 "absent: sandboxd's \"default\" profile applies (an OCI runtime would run the "
                 "process without a filter)");
    return std::nullopt;
  }
  CheckFlagsAndArchitectures(*seccomp, report);
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  auto printed = google::protobuf::util::MessageToJsonString(*seccomp, &json, print);
  if (!printed.ok()) {
    report->Error("linux.seccomp", printed.message().ToString());
    return std::nullopt;
  }
  absl::StatusOr<sbx::SeccompProfile> imported =
      sandboxd::ImportOciProfile(json, sandboxd::RunningKernelRelease());
  if (!imported.ok()) {
    AddImportErrors(imported.status().message(), report);
    return std::nullopt;
  }
  sbx::SeccompProfile profile;
  profile.set_oci_json(json);
  return profile;
}

}  // namespace secureos::ctr
