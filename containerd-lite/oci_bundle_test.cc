#include "containerd-lite/oci_bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sandboxd/fs/fs_plan.h"

namespace secureos::ctr {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
namespace sbx = sandboxd::v1;

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

void WriteText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  ASSERT_TRUE(fd.valid()) << path;
  ASSERT_TRUE(WriteAll(fd.get(), text).ok());
  ASSERT_EQ(::fchmod(fd.get(), mode), 0);
}

void MakeDir(const std::string& path) {
  ASSERT_TRUE(::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) << path;
}

IdMapping Range(uint32_t container_id, uint32_t host_id, uint32_t size) {
  IdMapping m;
  m.set_container_id(container_id);
  m.set_host_id(host_id);
  m.set_size(size);
  return m;
}

const sbx::MountEntry* EntryAt(const sbx::SandboxSpec& spec, const std::string& target) {
  const sbx::MountEntry* found = nullptr;
  for (const sbx::MountEntry& e : spec.filesystem().entries()) {
    if (e.target() == target) found = &e;
  }
  return found;
}

std::vector<std::string> Targets(const sbx::SandboxSpec& spec) {
  std::vector<std::string> out;
  for (const sbx::MountEntry& e : spec.filesystem().entries()) out.push_back(e.target());
  return out;
}

bool HostHas(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class OciBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr);
    dir_ = absl::StrCat(tmp, "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    MakeDir(dir_);
    rootfs_ = dir_ + "/rootfs";
    // A busybox-style rootfs: /bin/sh -> busybox, /lib -> usr/lib, an empty /proc.
    for (const char* d : {"", "/bin", "/etc", "/tmp", "/usr", "/usr/lib", "/proc"}) {
      MakeDir(rootfs_ + d);
    }
    WriteText(rootfs_ + "/bin/busybox", "#!/bin/busybox\n", 0755);
    ASSERT_EQ(::symlink("busybox", (rootfs_ + "/bin/sh").c_str()), 0);
    ASSERT_EQ(::symlink("usr/lib", (rootfs_ + "/lib").c_str()), 0);
    WriteText(rootfs_ + "/etc/passwd", "root:x:0:0::/:/bin/sh\n");
  }

  void WriteConfig(const std::string& text) { WriteText(dir_ + "/config.json", text); }

  void WriteSpec(const oci::v1::Spec& spec) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(spec, &json).ok());
    WriteConfig(json);
  }

  // The crun spec fixture, parsed, for tests that change one thing.
  oci::v1::Spec CrunSpec() {
    absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(Testdata("crun_spec.json"));
    EXPECT_TRUE(spec.ok()) << spec.status();
    return spec.ok() ? *spec : oci::v1::Spec();
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

  std::string dir_;
  std::string rootfs_;
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
  const std::vector<std::string> targets = Targets(*spec);
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

// ---- Parsing.

TEST_F(OciBundleTest, UnknownFieldsAreAllNamed) {
  std::string text = Testdata("crun_spec.json");
  ASSERT_TRUE(absl::StrContains(text, "\"linux\": {"));
  text = absl::StrReplaceAll(text, {{"\"linux\": {", "\"linux\": {\"intelRdt\": {\"closID\": \"x\"},"},
                                    {"\"process\": {", "\"process\": {\"apparmorProfile\": \"p\","}});
  WriteConfig(text);
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bundle.status().message(),
            "config.json: linux.intelRdt: not supported by containerd-lite; "
            "config.json: process.apparmorProfile: not supported by containerd-lite");
}

TEST_F(OciBundleTest, UnknownFieldInsideAList) {
  absl::StatusOr<oci::v1::Spec> spec =
      ParseOciConfig(R"({"mounts": [{"destination": "/a"}, {"destination": "/b", "uidMappings": []}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "config.json: mounts[1].uidMappings: not supported by containerd-lite");
}

TEST_F(OciBundleTest, ProtobufSpellingIsNotOci) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"oci_version": "1.0.0"})");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(),
              HasSubstr("config.json: oci_version: not an OCI key (OCI spells it \"ociVersion\")"));
}

TEST_F(OciBundleTest, OciSpellingsOfIdMappingsAndMemory) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"linux": {
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
      "resources": {"memory": {"limit": 1048576, "kernelTCP": 5, "disableOOMKiller": false}}}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->linux().uid_mappings(0).host_id(), 1000u);
  EXPECT_EQ(spec->linux().resources().memory().kernel_tcp(), 5);
  EXPECT_TRUE(spec->linux().resources().memory().has_disable_oom_killer());
}

TEST_F(OciBundleTest, WrongTypeNamesTheOciPath) {
  absl::StatusOr<oci::v1::Spec> spec =
      ParseOciConfig(R"({"linux": {"uidMappings": [{"containerID": -1}]}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "config.json: linux.uidMappings[0].containerID: invalid value -1 for type "
            "TYPE_UINT32");
}

TEST_F(OciBundleTest, InvalidJson) {
  absl::StatusOr<oci::v1::Spec> spec = ParseOciConfig(R"({"ociVersion": )");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("config.json: not valid JSON: "));
  spec = ParseOciConfig("[1]");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "config.json: must be a JSON object");
}

// ---- LoadBundle.

TEST_F(OciBundleTest, OciVersions) {
  for (const char* good : {"1.0.0", "1.0.2", "1.0.2-dev", "1.1.0", "1.1.0-rc.1"}) {
    oci::v1::Spec spec = CrunSpec();
    spec.set_oci_version(good);
    WriteSpec(spec);
    EXPECT_TRUE(LoadBundle(dir_).ok()) << good;
  }
  for (const char* bad : {"1.2.0", "2.0.0", "1.0", "1.0.x", "1.0.0-", "0.9.0"}) {
    oci::v1::Spec spec = CrunSpec();
    spec.set_oci_version(bad);
    WriteSpec(spec);
    absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
    ASSERT_FALSE(bundle.ok()) << bad;
    EXPECT_EQ(bundle.status().message(),
              absl::StrCat("config.json: ociVersion: \"", bad,
                           "\" is not supported: containerd-lite reads runtime-spec 1.0.x and "
                           "1.1.x"));
  }
  oci::v1::Spec spec = CrunSpec();
  spec.clear_oci_version();
  WriteSpec(spec);
  EXPECT_EQ(LoadBundle(dir_).status().message(), "config.json: ociVersion: required");
}

TEST_F(OciBundleTest, RelativeCwd) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_cwd("tmp");
  WriteSpec(spec);
  EXPECT_EQ(LoadBundle(dir_).status().message(),
            "config.json: process.cwd: must be absolute, got \"tmp\"");
}

TEST_F(OciBundleTest, EmptyArgs) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->clear_args();
  WriteSpec(spec);
  EXPECT_EQ(LoadBundle(dir_).status().message(),
            "config.json: process.args: required: at least the program to run");
}

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

// ---- Refusals: each names its field.

TEST_F(OciBundleTest, JoiningANamespaceIsRefused) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces(1)->set_path("/proc/1/ns/net");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: linux.namespaces[1].path: joining an existing namespace "
                        "(\"/proc/1/ns/net\") is not supported"));
}

TEST_F(OciBundleTest, NamespaceTypes) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->add_namespaces()->set_type("pid");
  spec.mutable_linux()->add_namespaces()->set_type("bogus");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: linux.namespaces[5].type: \"pid\" is listed twice"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.namespaces[6].type: unknown namespace type "
                               "\"bogus\""));
}

TEST_F(OciBundleTest, MountNamespaceIsRequired) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->RemoveLast();  // mount
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: linux.namespaces: a mount namespace is required"));
}

TEST_F(OciBundleTest, UnsupportedMountTypeAndOptions) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* overlay = spec.add_mounts();
  overlay->set_destination("/data");
  overlay->set_type("overlay");
  overlay->set_source("overlay");
  spec.mutable_mounts(1)->add_options("shared");
  spec.mutable_mounts(3)->set_options(4, "size=50%");
  spec.mutable_mounts(5)->mutable_options()->RemoveLast();  // sysfs without "ro"
  spec.mutable_mounts(3)->add_options("suid");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[7].type: \"overlay\" is not supported by "
                               "containerd-lite"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[1].options[4]: \"shared\": mount "
                               "propagation other than private is not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[3].options[4]: \"size=50%\": size must be"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[3].options[5]: \"suid\": "));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[5].options: only a read-only sysfs is "
                               "supported"));
}

TEST_F(OciBundleTest, ProcNeedsAPidNamespace) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->DeleteSubrange(0, 1);  // pid
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: mounts[0]: a private /proc needs a pid namespace"));
}

TEST_F(OciBundleTest, DevptsOnlyInsideDev) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_mounts(2)->set_destination("/pts");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: mounts[2]: devpts is only available as /dev/pts"));
}

TEST_F(OciBundleTest, BindSources) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* missing = spec.add_mounts();
  missing->set_destination("/data");
  missing->set_type("bind");
  missing->set_source("/no/such/dir");
  oci::v1::Mount* device = spec.add_mounts();
  device->set_destination("/null");
  device->set_type("none");
  device->set_source("/dev/null");
  device->add_options("rbind");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: mounts[7].source: /no/such/dir: No such file"));
  EXPECT_THAT(error, HasSubstr("config.json: mounts[8].source: \"/dev/null\" is a device"));
}

TEST_F(OciBundleTest, MountPointInReadOnlyRootfs) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Mount* m = spec.add_mounts();
  m->set_destination("/usr/share/data");
  m->set_type("tmpfs");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: mounts[7].destination: \"/usr/share/data\" does not exist "
                        "in the read-only rootfs"));
  spec.mutable_root()->set_readonly(false);
  WriteSpec(spec);
  EXPECT_TRUE(Translate().ok());
}

TEST_F(OciBundleTest, IdentityRefusals) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->mutable_user()->set_uid(70000);
  spec.mutable_process()->mutable_user()->add_additional_gids(10);
  spec.mutable_process()->mutable_user()->set_umask(022);
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: process.user.uid: 70000 is not mapped by the "
                               "container's uid range (0-65535)"));
  EXPECT_THAT(error, HasSubstr("config.json: process.user.additionalGids: [10]: supplementary "
                               "groups are not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: process.user.umask: 18: not supported"));
}

TEST_F(OciBundleTest, RlimitRefusals) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Rlimit* r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_MEMLOCK");
  r->set_hard(1);
  r->set_soft(1);
  *spec.mutable_process()->add_rlimits() = spec.process().rlimits(0);  // NOFILE twice
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CORE");
  r->set_hard(1);
  r->set_soft(2);
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_STACK");
  r->set_hard(~uint64_t{0});
  r->set_soft(8 << 20);
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_FLY");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[1].type: \"RLIMIT_MEMLOCK\" is not "
                               "supported by sandboxd"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[2].type: \"RLIMIT_NOFILE\" is "
                               "listed twice"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[3].soft: must not exceed hard"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[4]: a finite soft limit"));
  EXPECT_THAT(error, HasSubstr("config.json: process.rlimits[5].type: unknown rlimit type "
                               "\"RLIMIT_FLY\""));
}

TEST_F(OciBundleTest, CapabilityRefusals) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->mutable_capabilities()->set_bounding(0, "CAP_FLY");
  spec.mutable_process()->mutable_capabilities()->add_ambient("CAP_KILL,CAP_SYS_ADMIN");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: process.capabilities.bounding[0]: \"CAP_FLY\" is "
                               "not a capability name"));
  EXPECT_THAT(error, HasSubstr("config.json: process.capabilities.ambient[3]: "));
}

TEST_F(OciBundleTest, ResourceRefusals) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Resources* r = spec.mutable_linux()->mutable_resources();
  r->mutable_memory()->set_swap(1 << 30);
  r->mutable_memory()->set_reservation(1 << 20);
  r->mutable_cpu()->set_shares(1024);
  r->mutable_cpu()->set_cpus("0-1");
  r->mutable_pids()->set_limit(-5);
  oci::v1::DeviceRule* fuse = r->add_devices();
  fuse->set_allow(true);
  fuse->set_type("c");
  fuse->set_major(10);
  fuse->set_minor(229);
  fuse->set_access("rwm");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.memory.swap: 1073741824: not "
                               "supported by containerd-lite"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.memory.reservation: 1048576: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.cpu.shares: 1024: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.cpu.cpus: \"0-1\": "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.pids.limit: -5: "));
  EXPECT_THAT(error, HasSubstr("config.json: linux.resources.devices[1]: allowing c 10:229 is "
                               "not supported"));
}

TEST_F(OciBundleTest, SeccompRefusals) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Seccomp* s = spec.mutable_linux()->mutable_seccomp();
  s->set_default_action("SCMP_ACT_ERRNO");
  s->add_flags("SECCOMP_FILTER_FLAG_NEW_LISTENER");
  oci::v1::Syscall* rule = s->add_syscalls();
  rule->add_names("ptrace");
  rule->set_action("SCMP_ACT_FOO");
  const std::string error = TranslateError(spec);
  EXPECT_THAT(error, HasSubstr("config.json: linux.seccomp.flags[0]: "
                               "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\" is not supported"));
  EXPECT_THAT(error, HasSubstr("config.json: linux.seccomp.syscalls[0].action: unknown action "
                               "\"SCMP_ACT_FOO\""));
}

TEST_F(OciBundleTest, ProgramNotInPath) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_args(0, "bash");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: process.args[0]: \"bash\" is not an executable file in "
                        "any directory of the PATH of process.env"));
}

TEST_F(OciBundleTest, CwdMustExist) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_cwd("/work");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: process.cwd: \"/work\" does not exist in the container"));
  spec.mutable_process()->set_cwd("/etc/passwd");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: process.cwd: \"/etc/passwd\" is not a directory"));
}

TEST_F(OciBundleTest, HostnameNeedsUts) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->DeleteSubrange(3, 1);  // uts
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: hostname: \"crun\" needs a uts namespace"));
}

TEST_F(OciBundleTest, ReadonlyPathOnATmpfsIsRefused) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->add_readonly_paths("/dev/shm");
  EXPECT_THAT(TranslateError(spec),
              HasSubstr("config.json: linux.readonlyPaths[5]: \"/dev/shm\" is on the fresh "
                        "/dev/shm mount"));
}

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

// ---- Translation.

TEST_F(OciBundleTest, Resources) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Resources* r = spec.mutable_linux()->mutable_resources();
  r->mutable_memory()->set_limit(64 << 20);
  r->mutable_memory()->set_swap(-1);
  r->mutable_cpu()->set_quota(50000);
  r->mutable_cpu()->set_period(100000);
  r->mutable_pids()->set_limit(64);
  WriteSpec(spec);
  absl::StatusOr<sbx::SandboxSpec> out = Translate();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->limits().memory_bytes(), 64u << 20);
  EXPECT_EQ(out->limits().cpu_millis(), 500u);
  EXPECT_EQ(out->limits().pids(), 64u);

  r->mutable_cpu()->set_quota(150000);
  r->mutable_cpu()->clear_period();  // The kernel's 100000.
  r->mutable_memory()->set_limit(-1);
  r->mutable_pids()->set_limit(0);
  WriteSpec(spec);
  out = Translate();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->limits().cpu_millis(), 1500u);
  EXPECT_FALSE(out->limits().has_memory_bytes());
  EXPECT_FALSE(out->limits().has_pids());

  r->mutable_cpu()->set_quota(1);
  r->mutable_cpu()->set_period(1000000);
  EXPECT_THAT(TranslateError(spec), HasSubstr("config.json: linux.resources.cpu.quota: 1 per "
                                              "1000000 us is less than a thousandth of a CPU"));
}

TEST_F(OciBundleTest, DefaultDeviceRules) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::DeviceRule* null = spec.mutable_linux()->mutable_resources()->add_devices();
  null->set_allow(true);
  null->set_type("c");
  null->set_major(1);
  null->set_minor(3);
  null->set_access("rwm");
  oci::v1::DeviceRule* pts = spec.mutable_linux()->mutable_resources()->add_devices();
  pts->set_allow(true);
  pts->set_type("c");
  pts->set_major(136);
  pts->set_access("rw");
  WriteSpec(spec);
  absl::StatusOr<sbx::SandboxSpec> out = Translate();
  EXPECT_TRUE(out.ok()) << out.status();
}

TEST_F(OciBundleTest, Rlimits) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Rlimit* r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CORE");
  r->set_hard(~uint64_t{0});
  r->set_soft(~uint64_t{0});
  r = spec.mutable_process()->add_rlimits();
  r->set_type("RLIMIT_CPU");
  r->set_hard(10);
  r->set_soft(5);
  WriteSpec(spec);
  absl::StatusOr<sbx::SandboxSpec> out = Translate();
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->limits().rlimits_size(), 3);
  EXPECT_EQ(out->limits().rlimits(1).resource(), common::v1::RLIMIT_RESOURCE_CORE);
  EXPECT_TRUE(out->limits().rlimits(1).infinity());
  EXPECT_FALSE(out->limits().rlimits(1).has_hard());
  EXPECT_EQ(out->limits().rlimits(2).resource(), common::v1::RLIMIT_RESOURCE_CPU);
  EXPECT_EQ(out->limits().rlimits(2).hard(), 10u);
  EXPECT_EQ(out->limits().rlimits(2).soft(), 5u);
}

TEST_F(OciBundleTest, CapabilitiesAreTheUnion) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Capabilities* c = spec.mutable_process()->mutable_capabilities();
  c->clear_ambient();
  c->add_bounding("CAP_CHOWN");
  WriteSpec(spec);
  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> out = Translate(&notes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->capabilities(), "cap_chown,cap_kill,cap_net_bind_service,cap_audit_write");
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: process.capabilities: sandboxd holds one "
                                        "set: the union (cap_chown,")));

  spec.mutable_process()->clear_capabilities();
  WriteSpec(spec);
  out = Translate(&notes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->capabilities(), "");
  EXPECT_THAT(notes, Not(Contains(HasSubstr("process.capabilities"))));
}

TEST_F(OciBundleTest, SeccompIsHandedOverAsOciJson) {
  oci::v1::Spec spec = CrunSpec();
  oci::v1::Seccomp* s = spec.mutable_linux()->mutable_seccomp();
  s->set_default_action("SCMP_ACT_ERRNO");
  s->set_default_errno_ret(38);
  s->add_architectures("SCMP_ARCH_X86_64");
  s->add_architectures("SCMP_ARCH_X86");
  s->add_flags("SECCOMP_FILTER_FLAG_LOG");
  oci::v1::Syscall* allow = s->add_syscalls();
  for (const char* name : {"read", "write", "exit_group"}) allow->add_names(name);
  allow->set_action("SCMP_ACT_ALLOW");
  oci::v1::Syscall* personality = s->add_syscalls();
  personality->add_names("personality");
  personality->set_action("SCMP_ACT_ALLOW");
  oci::v1::SeccompArg* arg = personality->add_args();
  arg->set_index(0);
  arg->set_value(0xffffffff);
  arg->set_value_two(8);
  arg->set_op("SCMP_CMP_MASKED_EQ");
  WriteSpec(spec);
  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> out = Translate(&notes);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->has_seccomp());
  EXPECT_TRUE(out->seccomp().base().empty());
  EXPECT_TRUE(out->seccomp().rules().empty());
  oci::v1::Seccomp back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out->seccomp().oci_json(), &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, *s))
      << out->seccomp().oci_json();
  EXPECT_THAT(out->seccomp().oci_json(), HasSubstr("\"defaultAction\":\"SCMP_ACT_ERRNO\""));
  EXPECT_THAT(out->seccomp().oci_json(), HasSubstr("\"valueTwo\""));
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: linux.seccomp.architectures[1]: "
                                        "SCMP_ARCH_X86: sandboxd filters the native")));
  EXPECT_THAT(notes, Not(Contains(HasSubstr("linux.seccomp: absent"))));
}

TEST_F(OciBundleTest, NamespacesAndNetwork) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_linux()->mutable_namespaces()->DeleteSubrange(1, 1);  // network
  spec.mutable_linux()->add_namespaces()->set_type("cgroup");
  WriteSpec(spec);
  absl::StatusOr<sbx::SandboxSpec> out = Translate();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->namespaces().net());
  EXPECT_TRUE(out->namespaces().cgroup());
  EXPECT_EQ(out->network(), sbx::NETWORK_MODE_HOST);
}

TEST_F(OciBundleTest, IdentityInsideTheRange) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->mutable_user()->set_uid(1000);
  spec.mutable_process()->mutable_user()->set_gid(1000);
  WriteSpec(spec);
  absl::StatusOr<Bundle> bundle = LoadBundle(dir_);
  ASSERT_TRUE(bundle.ok());
  absl::StatusOr<sbx::SandboxSpec> out =
      ToSandboxSpec(*bundle, Range(1000, 300000, 1), Range(0, 400000, 65536));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->uid(), 1000u);
  EXPECT_EQ(out->uid_map(0).inside(), 1000u);
  EXPECT_EQ(out->uid_map(0).outside(), 300000u);
  EXPECT_EQ(out->uid_map(0).count(), 1u);
  EXPECT_EQ(out->gid_map(0).outside(), 400000u);
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
  const std::vector<std::string> targets = Targets(*out);
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

TEST_F(OciBundleTest, CgroupWithoutSysfs) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_mounts()->DeleteSubrange(5, 1);  // sysfs
  WriteSpec(spec);
  std::vector<std::string> notes;
  absl::StatusOr<sbx::SandboxSpec> out = Translate(&notes);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_NE(EntryAt(*out, "/sys/fs/cgroup"), nullptr);
  EXPECT_EQ(EntryAt(*out, "/sys/fs/cgroup")->kind(), sbx::MOUNT_KIND_RO_BIND);
  EXPECT_EQ(EntryAt(*out, "/sys/fs/cgroup")->source(), "/sys/fs/cgroup");
  EXPECT_THAT(notes, Contains(HasSubstr("config.json: mounts[5]: sandboxd cannot mount a fresh "
                                        "cgroup: the host's /sys/fs/cgroup is bound read-only")));
}

TEST_F(OciBundleTest, TerminalFalseHasNoNote) {
  oci::v1::Spec spec = CrunSpec();
  spec.mutable_process()->set_terminal(false);
  WriteSpec(spec);
  std::vector<std::string> notes;
  ASSERT_TRUE(Translate(&notes).ok());
  EXPECT_THAT(notes, Not(Contains(HasSubstr("process.terminal"))));
  EXPECT_THAT(notes, Not(IsEmpty()));
}

}  // namespace
}  // namespace secureos::ctr
