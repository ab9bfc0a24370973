// End-to-end: LoadBundle and ToSandboxSpec on whole bundles (the crun fixtures and
// variants). Each piece of the translation has its own test (oci_*_test.cc).
#include "containerd-lite/oci_bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "containerd-lite/oci_testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "sandboxd/fs/fs_plan.h"

namespace secureos::ctr {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace sbx = sandboxd::v1;

bool HostHas(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class OciBundleTest : public BundleDirTest {
 protected:
  void WriteConfig(const std::string& text) { WriteText(dir_ + "/config.json", text); }

  void WriteSpec(const oci::v1::Spec& spec) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(spec, &json).ok());
    WriteConfig(json);
  }

  absl::StatusOr<sbx::SandboxSpec> Translate(std::vector<std::string>* notes = nullptr) {
    absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
    if (!bundle.ok()) return bundle.status();
    return ToSandboxSpec(*bundle, Range(0, 100000, 65536), Range(0, 100000, 65536), notes);
  }

  // The error of translating `spec` (which must load).
  std::string TranslateError(const oci::v1::Spec& spec) {
    WriteSpec(spec);
    absl::StatusOr<sbx::SandboxSpec> out = Translate();
    EXPECT_FALSE(out.ok());
    if (out.ok()) return "";
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
    return std::string(out.status().message());
  }
};

// ---- The crun fixtures.

TEST_F(OciBundleTest, CrunSpecLoadsAndTranslates) {
  WriteConfig(Testdata("crun_spec.json"));
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->rootfs, rootfs_);
  EXPECT_EQ(bundle->spec.oci_version(), "1.0.0");
  EXPECT_FALSE(DeclaresUserNamespace(bundle->spec));

  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> spec =
      ToSandboxSpec(*bundle, Range(0, 100000, 65536), Range(0, 200000, 65536), &notes);
  ASSERT_TRUE(spec.ok()) << spec.status();

  const sbx::Namespaces& ns = spec->namespaces();
  EXPECT_TRUE(ns.pid() && ns.net() && ns.ipc() && ns.uts() && ns.mount() && ns.user());
  EXPECT_FALSE(ns.cgroup());
  EXPECT_FALSE(ns.time());
  EXPECT_EQ(spec->network(), sbx::NETWORK_MODE_LOOPBACK);
  ASSERT_EQ(spec->uid_map_size(), 1);
  EXPECT_EQ(spec->uid_map(0).inside(), 0u);
  EXPECT_EQ(spec->uid_map(0).outside(), 100000u);
  EXPECT_EQ(spec->uid_map(0).count(), 65536u);
  ASSERT_EQ(spec->gid_map_size(), 1);
  EXPECT_EQ(spec->gid_map(0).outside(), 200000u);
  EXPECT_EQ(spec->uid(), 0u);
  EXPECT_EQ(spec->gid(), 0u);
  EXPECT_EQ(spec->hostname(), "crun");

  EXPECT_THAT(spec->argv(), ElementsAre("/bin/sh"));
  EXPECT_THAT(spec->env(),
              ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "TERM=xterm"));
  EXPECT_EQ(spec->capabilities(), "cap_kill,cap_net_bind_service,cap_audit_write");
  ASSERT_EQ(spec->limits().rlimits_size(), 1);
  EXPECT_EQ(spec->limits().rlimits(0).resource(), common::v1::RLIMIT_RESOURCE_NOFILE);
  EXPECT_EQ(spec->limits().rlimits(0).soft(), 1024u);
  EXPECT_EQ(spec->limits().rlimits(0).hard(), 1024u);
  EXPECT_FALSE(spec->limits().has_memory_bytes());
  EXPECT_FALSE(spec->has_seccomp());  // sandboxd's "default".

  // The root: a tmpfs with the rootfs's top-level names (read-only: root.readonly).
  const sbx::Filesystem& fs = spec->filesystem();
  EXPECT_EQ(fs.root(), sbx::Filesystem::ROOT_TMPFS);
  EXPECT_EQ(fs.cwd(), "/");
  const std::vector<std::string> targets = Targets(spec->filesystem());
  ASSERT_GE(targets.size(), 7u);
  EXPECT_THAT(std::vector<std::string>(targets.begin(), targets.begin() + 7),
              ElementsAre("/bin", "/etc", "/lib", "/proc", "/tmp", "/usr", "/proc"));
  EXPECT_EQ(fs.entries(0).kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(fs.entries(0).source(), rootfs_ + "/bin");
  EXPECT_EQ(fs.entries(2).kind(), sbx::MOUNT_KIND_SYMLINK);
  EXPECT_EQ(fs.entries(2).source(), "usr/lib");
  EXPECT_EQ(fs.entries(6).kind(), sbx::MOUNT_KIND_PROC);

  ASSERT_NE(EntryAt(*spec, "/dev"), nullptr);
  EXPECT_EQ(EntryAt(*spec, "/dev")->kind(), sbx::MOUNT_KIND_DEV);
  ASSERT_NE(EntryAt(*spec, "/dev/shm"), nullptr);
  EXPECT_EQ(EntryAt(*spec, "/dev/shm")->kind(), sbx::MOUNT_KIND_TMPFS);
  EXPECT_EQ(EntryAt(*spec, "/dev/shm")->size(), "65536k");
  EXPECT_EQ(EntryAt(*spec, "/dev/shm")->mode(), "1777");
  EXPECT_EQ(EntryAt(*spec, "/dev/pts"), nullptr);     // Part of sandboxd's /dev.
  EXPECT_EQ(EntryAt(*spec, "/dev/mqueue"), nullptr);  // Skipped, with a note.
  ASSERT_NE(EntryAt(*spec, "/sys"), nullptr);
  EXPECT_EQ(EntryAt(*spec, "/sys")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(*spec, "/sys")->source(), "/sys");
  // The recursive bind of /sys already shows the host's /sys/fs/cgroup there.
  EXPECT_EQ(EntryAt(*spec, "/sys/fs/cgroup"), nullptr);

  // readonlyPaths: read-only binds of the same /proc entries.
  ASSERT_NE(EntryAt(*spec, "/proc/sys"), nullptr);
  EXPECT_EQ(EntryAt(*spec, "/proc/sys")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(*spec, "/proc/sys")->source(), "/proc/sys");
  // Each readonly or masked path is either made so or noted as absent: which ones exist
  // depends on the kernel (this test's may lack /proc/kcore and /proc/sysrq-trigger).
  auto noted_absent = [&](const std::string& path) {
    return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) {
      return absl::StrContains(n, path + " does not exist in the container");
    });
  };
  for (const std::string& path : bundle->spec.linux().readonly_paths()) {
    const sbx::MountEntry* e = EntryAt(*spec, path);
    EXPECT_EQ(e != nullptr, HostHas(path)) << path;
    EXPECT_NE(e != nullptr, noted_absent(path)) << path;
    if (e == nullptr) continue;
    EXPECT_EQ(e->kind(), sbx::MOUNT_KIND_RO_BIND) << path;
    EXPECT_EQ(e->source(), path);
  }
  // maskedPaths: files get an empty read-only file, directories an empty tmpfs.
  for (const std::string& path : bundle->spec.linux().masked_paths()) {
    const sbx::MountEntry* e = EntryAt(*spec, path);
    EXPECT_EQ(e != nullptr, HostHas(path)) << path;
    EXPECT_NE(e != nullptr, noted_absent(path)) << path;
    if (e == nullptr) continue;
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(e->kind(), sbx::MOUNT_KIND_TMPFS) << path;
      EXPECT_EQ(e->size(), "4k");
      EXPECT_EQ(e->mode(), "0555");
    } else {
      EXPECT_EQ(e->kind(), sbx::MOUNT_KIND_FILE) << path;
      EXPECT_TRUE(e->content().empty());
    }
  }

  EXPECT_THAT(notes, Contains(HasSubstr("config.json: process.terminal: true: containerd-lite "
                                        "gives no terminal")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[4]: not mounted: sandboxd has no "
                                        "mqueue filesystem")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: linux.namespaces: no user namespace")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: linux.seccomp: absent")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: process.args[0]: \"sh\" runs as "
                                        "\"/bin/sh\"")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[1].options[1]: \"strictatime\"")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[2].options[5]: \"gid=5\"")));

  // sandboxd accepts the view as it is.
  absl::StatusOr<sandboxd::FsPlan> plan = sandboxd::BuildFsPlan(fs, true, true);
  EXPECT_TRUE(plan.ok()) << plan.status();
}

TEST_F(OciBundleTest, CrunRootlessSpecLoadsAndTranslates) {
  WriteConfig(Testdata("crun_spec_rootless.json"));
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_TRUE(DeclaresUserNamespace(bundle->spec));
  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> spec =
      ToSandboxSpec(*bundle, Range(0, 100000, 65536), Range(0, 100000, 65536), &notes);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->namespaces().user());
  EXPECT_THAT(notes, Not(Contains(HasSubstr("no user namespace"))));
  EXPECT_THAT(notes, Not(Contains(HasSubstr("gid=5"))));
  EXPECT_EQ(EntryAt(*spec, "/dev")->kind(), sbx::MOUNT_KIND_DEV);
  EXPECT_THAT(spec->argv(), ElementsAre("/bin/sh"));
  absl::StatusOr<sandboxd::FsPlan> plan = sandboxd::BuildFsPlan(spec->filesystem(), true, true);
  EXPECT_TRUE(plan.ok()) << plan.status();
}

TEST_F(OciBundleTest, CrunSpecWithOnlyItsArgsChangedTranslates) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->clear_args();
  spec.mutable_process()->add_args("echo");
  spec.mutable_process()->add_args("hello");
  ASSERT_EQ(::symlink("busybox", (rootfs_ + "/bin/echo").c_str()), 0);
  WriteSpec(spec);
  absl::StatusOr<sbx::SandboxSpec> out = Translate();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->argv(), ElementsAre("/bin/echo", "hello"));
}

TEST_F(OciBundleTest, ViewLimitIsSandboxds) { EXPECT_EQ(kMaxViewEntries, sandboxd::kMaxFsEntries); }

// ---- LoadBundle.

TEST_F(OciBundleTest, EveryLoadProblemAtOnce) {
  oci::v1::Spec spec = CrunSpec();
  spec.set_oci_version("3.0.0");
  spec.mutable_process()->clear_args();
  spec.mutable_process()->set_cwd("relative");
  spec.mutable_root()->set_path("no-such-rootfs");
  WriteSpec(spec);
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(bundle.status().message());
  EXPECT_THAT(message, HasSubstr("config.json: ociVersion: \"3.0.0\" is not supported"));
  EXPECT_THAT(message, HasSubstr("config.json: process.args: required"));
  EXPECT_THAT(message, HasSubstr("config.json: process.cwd: must be absolute"));
  EXPECT_THAT(message, HasSubstr("config.json: root.path: \"no-such-rootfs\": "));
  EXPECT_THAT(message, HasSubstr("No such file or directory"));
}

TEST_F(OciBundleTest, RootPath) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_root()->set_path(rootfs_);  // Absolute.
  WriteSpec(spec);
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->rootfs, rootfs_);

  spec.mutable_root()->set_path("rootfs/etc/passwd");
  WriteSpec(spec);
  EXPECT_THAT(LoadBundle(dir_).status().message(),
              HasSubstr("config.json: root.path: \"rootfs/etc/passwd\" (" + rootfs_ +
                        "/etc/passwd) is not a directory"));

  spec.clear_root();
  WriteSpec(spec);
  EXPECT_EQ(LoadBundle(dir_).status().message(), "config.json: root.path: required");
}

TEST_F(OciBundleTest, MissingBundleOrConfig) {
  EXPECT_EQ(LoadBundle(dir_ + "/nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadBundle(dir_).status().code(), absl::StatusCode::kNotFound);  // No config.json.
  EXPECT_THAT(LoadBundle(dir_).status().message(), HasSubstr("config.json"));
}

// ---- Translation: what only the whole bundle shows.

TEST_F(OciBundleTest, EveryRefusalAtOnce) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces(0)->set_path("/proc/1/ns/pid");
  spec.mutable_mounts(0)->set_type("overlay");
  spec.mutable_process()->mutable_user()->add_additional_gids(1);
  spec.mutable_linux()->mutable_resources()->mutable_cpu()->set_shares(2);
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, AllOf(HasSubstr("linux.namespaces[0].path"), HasSubstr("mounts[0].type"),
                           HasSubstr("process.user.additionalGids"),
                           HasSubstr("linux.resources.cpu.shares")));
}

TEST_F(OciBundleTest, BadIdMappingArguments) {
  WriteConfig(Testdata("crun_spec.json"));
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_TRUE(bundle.ok());
  absl::StatusOr<sbx::SandboxSpec> spec =
      ToSandboxSpec(*bundle, Range(0, 100000, 0), Range(0, 100000, 1));
  EXPECT_EQ(spec.status().message(), "uid_map: size must be at least 1");
  spec = ToSandboxSpec(*bundle, Range(0, 100000, 1), Range(0, ~0u, 2));
  EXPECT_EQ(spec.status().message(), "gid_map: the range passes 2^32");
}

TEST_F(OciBundleTest, TooManyEntries) {
  for (int i = 0; i < kMaxViewEntries; ++i) MakeDir(absl::StrCat(rootfs_, "/d", i));
  WriteConfig(Testdata("crun_spec.json"));
  absl::StatusOr<sbx::SandboxSpec> spec = Translate();
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(),
              HasSubstr("config.json: mounts: the container's view needs "));
}

TEST_F(OciBundleTest, WritableRootBindsAndPaths) {
  MakeDir(dir_ + "/data");
  WriteText(rootfs_ + "/etc/secret", "s");
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_root()->set_readonly(false);
  oci::v1::Mount* ro = spec.add_mounts();
  ro->set_destination("/data");
  ro->set_type("bind");
  ro->set_source("data");  // Relative to the bundle.
  ro->add_options("rbind");
  ro->add_options("ro");
  oci::v1::Mount* rw = spec.add_mounts();
  rw->set_destination("/tmp/rw");
  rw->set_source(dir_ + "/data");
  rw->add_options("bind");
  rw->add_options("noexec");
  spec.mutable_linux()->add_readonly_paths("/etc");
  spec.mutable_linux()->add_readonly_paths("/data");  // Already read-only: nothing to add.
  spec.mutable_linux()->add_masked_paths("/etc/secret");
  spec.mutable_linux()->add_masked_paths("/usr/lib");
  spec.mutable_process()->set_args(0, "./bin/busybox");
  spec.mutable_process()->set_cwd("/");
  WriteSpec(spec);
  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> out = Translate(&notes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(EntryAt(*out, "/bin")->kind(), sbx::MOUNT_KIND_RW_BIND);
  EXPECT_EQ(EntryAt(*out, "/data")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(*out, "/data")->source(), dir_ + "/data");
  EXPECT_EQ(EntryAt(*out, "/tmp/rw")->kind(), sbx::MOUNT_KIND_RW_BIND);
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[8].options[0]: binds are recursive")));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[8].options[1]: noexec is not "
                                        "applied")));
  // readonlyPaths: the rootfs's /etc bound read-only over itself; /data needs nothing.
  const std::vector<std::string> targets = Targets(out->filesystem());
  EXPECT_EQ(std::count(targets.begin(), targets.end(), "/data"), 1);
  EXPECT_EQ(std::count(targets.begin(), targets.end(), "/etc"), 2);
  EXPECT_EQ(EntryAt(*out, "/etc")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(*out, "/etc")->source(), rootfs_ + "/etc");
  // maskedPaths: a file and a directory (through the /lib -> usr/lib symlink's target).
  EXPECT_EQ(EntryAt(*out, "/etc/secret")->kind(), sbx::MOUNT_KIND_FILE);
  EXPECT_EQ(EntryAt(*out, "/usr/lib")->kind(), sbx::MOUNT_KIND_TMPFS);
  EXPECT_EQ(EntryAt(*out, "/usr/lib")->mode(), "0555");
  // args[0] with a "/" but relative: relative to cwd.
  EXPECT_EQ(out->argv(0), "/bin/busybox");
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: process.args[0]: \"./bin/busybox\" runs "
                                        "as \"/bin/busybox\" (relative to process.cwd")));
  absl::StatusOr<sandboxd::FsPlan> plan = sandboxd::BuildFsPlan(out->filesystem(), true, true);
  EXPECT_TRUE(plan.ok()) << plan.status();
}

}  // namespace
}  // namespace secureos::ctr
