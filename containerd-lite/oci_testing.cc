#include "containerd-lite/oci_testing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/fd.h"
#include "containerd-lite/oci_config.h"

namespace secureos::ctr {

std::string Testdata(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path = absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                                        workspace != nullptr ? workspace : "secureos",
                                        "/containerd-lite/testdata/", name);
  absl::StatusOr<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : std::string();
}

oci::v1::Spec CrunSpec() {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(Testdata("crun_spec.json"));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : oci::v1::Spec();
}

void WriteText(const std::string& path, const std::string& text, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  ASSERT_TRUE(fd.valid()) << path;
  ASSERT_TRUE(WriteAll(fd.get(), text).ok());
  ASSERT_EQ(::fchmod(fd.get(), mode), 0);
}

void MakeDir(const std::string& path) {
  ASSERT_TRUE(::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) << path;
}

containerd_lite::v1::IdMapping Range(uint32_t container_id, uint32_t host_id, uint32_t size) {
  containerd_lite::v1::IdMapping m;
  m.set_container_id(container_id);
  m.set_host_id(host_id);
  m.set_size(size);
  return m;
}

const sandboxd::v1::MountEntry* EntryAt(const sandboxd::v1::Filesystem& fs,
                                        const std::string& target) {
  const sandboxd::v1::MountEntry* found = nullptr;
  for (const sandboxd::v1::MountEntry& e : fs.entries()) {
    if (e.target() == target) found = &e;
  }
  return found;
}

const sandboxd::v1::MountEntry* EntryAt(const sandboxd::v1::SandboxSpec& spec,
                                        const std::string& target) {
  return EntryAt(spec.filesystem(), target);
}

std::vector<std::string> Targets(const sandboxd::v1::Filesystem& fs) {
  std::vector<std::string> out;
  for (const sandboxd::v1::MountEntry& e : fs.entries()) out.push_back(e.target());
  return out;
}

std::string ErrorOf(const OciReport& report) {
  const absl::Status status = report.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return status.ok() ? "" : std::string(status.message());
}

std::string BundleDirTest::BaseDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp == nullptr ? "" : tmp;
}

void BundleDirTest::SetUp() {
  const std::string base = BaseDir();
  ASSERT_FALSE(base.empty());
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = absl::StrCat(base, "/", test->test_suite_name(), ".", test->name());
  MakeDir(dir_);
  rootfs_ = dir_ + "/rootfs";
  for (const char* d : {"", "/bin", "/etc", "/tmp", "/usr", "/usr/lib", "/proc"}) {
    MakeDir(rootfs_ + d);
  }
  WriteText(rootfs_ + "/bin/busybox", "#!/bin/busybox\n", 0755);
  ASSERT_EQ(::symlink("busybox", (rootfs_ + "/bin/sh").c_str()), 0);
  ASSERT_EQ(::symlink("usr/lib", (rootfs_ + "/lib").c_str()), 0);
  WriteText(rootfs_ + "/etc/passwd", "root:x:0:0::/:/bin/sh\n");
}

}  // namespace secureos::ctr
