// Test helpers for the oci_* and rootfs_* tests: the crun fixtures, a bundle directory with
// a busybox-style rootfs, and ways to look at what was translated.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_TESTING_H_
#define SECUREOS_CONTAINERD_LITE_OCI_TESTING_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "containerd-lite/oci_report.h"
#include "gtest/gtest.h"
#include "proto/containerd_lite.pb.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// The text of containerd-lite/testdata/<name> (crun_spec.json, crun_spec_rootless.json).
std::string Testdata(const std::string& name);

// `crun spec` output, parsed: the base of tests that change one thing.
oci::v1::Spec CrunSpec();

void WriteText(const std::string& path, const std::string& text, mode_t mode = 0644);
void MakeDir(const std::string& path);

// The id range {container_id, host_id, size}.
containerd_lite::v1::IdMapping Range(uint32_t container_id, uint32_t host_id, uint32_t size);

// The last entry at `target`, or null.
const sandboxd::v1::MountEntry* EntryAt(const sandboxd::v1::Filesystem& fs,
                                        const std::string& target);
const sandboxd::v1::MountEntry* EntryAt(const sandboxd::v1::SandboxSpec& spec,
                                        const std::string& target);

// The targets of the entries, in order.
std::vector<std::string> Targets(const sandboxd::v1::Filesystem& fs);

// The message of `report`'s status, which must be INVALID_ARGUMENT (else a test failure and
// an empty string).
std::string ErrorOf(const OciReport& report);

// A test with a bundle directory of its own, <TEST_TMPDIR>/<test name>, holding a
// busybox-style rootfs: /bin/busybox (executable), /bin/sh -> busybox, /lib -> usr/lib,
// /etc/passwd, and empty /tmp, /usr/lib and /proc.
class BundleDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Where the bundle directory goes: TEST_TMPDIR (which may lie under a directory others
  // cannot search, such as /root).
  virtual std::string BaseDir();

  std::string dir_;
  std::string rootfs_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_TESTING_H_
