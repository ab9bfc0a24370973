// BuildFsPlan: validation messages and what the plan holds. Pure: runs in Bazel's sandbox.
#include "sandboxd/fs/fs_plan.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

v1::Filesystem Parse(const std::string& text) {
  v1::Filesystem fs;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fs)) << text;
  return fs;
}

// The error message of building `text` (empty when it was accepted).
std::string ErrorOf(const std::string& text, bool pid_ns = true, bool user_ns = true) {
  absl::StatusOr<FsPlan> plan = BuildFsPlan(Parse(text), pid_ns, user_ns);
  if (plan.ok()) return "";
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(plan.status().message());
}

FsPlan PlanOf(const std::string& text, bool pid_ns = true, bool user_ns = true) {
  absl::StatusOr<FsPlan> plan = BuildFsPlan(Parse(text), pid_ns, user_ns);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : FsPlan{};
}

TEST(BuildFsPlanTest, EmptyFilesystemIsTheReadOnlyHostWithCwdRoot) {
  FsPlan plan = PlanOf("");
  EXPECT_FALSE(plan.tmpfs_root);
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_EQ(plan.cwd, "/");
  EXPECT_EQ(plan.cwd_step, "chdir /");
  EXPECT_TRUE(PlanOf("root: ROOT_TMPFS").tmpfs_root);
  EXPECT_FALSE(PlanOf("root: ROOT_HOST_READ_ONLY").tmpfs_root);
}

TEST(BuildFsPlanTest, NormalizesTargetsSourcesAndCwd) {
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_RO_BIND source: "//usr/./lib//" target: "/./usr//lib/" }
    entries { kind: MOUNT_KIND_RW_BIND source: "/" target: "/host" }
    cwd: "/work/./dir/"
  )pb");
  ASSERT_EQ(plan.steps.size(), 2u);
  const FsStep& lib = plan.steps[0];
  EXPECT_EQ(lib.kind, FsStep::Kind::kRoBind);
  EXPECT_EQ(lib.target, "/usr/lib");
  EXPECT_EQ(lib.target_rel, "usr/lib");
  EXPECT_EQ(lib.parent_rel, "usr");
  EXPECT_EQ(lib.leaf, "lib");
  EXPECT_EQ(lib.source_rel, "usr/lib");
  EXPECT_EQ(lib.description, "bind /usr/lib -> /usr/lib");
  const FsStep& host = plan.steps[1];
  EXPECT_EQ(host.kind, FsStep::Kind::kRwBind);
  EXPECT_EQ(host.source_rel, ".");
  EXPECT_EQ(host.parent_rel, ".");
  EXPECT_EQ(host.leaf, "host");
  EXPECT_EQ(host.description, "bind / -> /host (read-write)");
  EXPECT_EQ(plan.cwd, "/work/dir");
  EXPECT_EQ(plan.cwd_step, "chdir /work/dir");
}

TEST(BuildFsPlanTest, TmpfsDataIsBuiltFromParsedNumbers) {
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "64m" mode: "1777" }
    entries { kind: MOUNT_KIND_TMPFS target: "/run" }
  )pb");
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].mount_data, "size=67108864,mode=1777");
  EXPECT_EQ(plan.steps[0].description, "mount tmpfs on /tmp");
  EXPECT_EQ(plan.steps[1].mount_data, "size=16777216,mode=0755");
}

TEST(BuildFsPlanTest, FileDirSymlinkProcDevAreKept) {
  FsPlan plan = PlanOf(R"pb(
    entries { kind: MOUNT_KIND_FILE target: "/etc/hostname" content: "box\n" }
    entries { kind: MOUNT_KIND_FILE target: "/etc/run.sh" content: "#!/bin/sh" mode: "0555" }
    entries { kind: MOUNT_KIND_DIR target: "/work" mode: "0700" }
    entries { kind: MOUNT_KIND_DIR target: "/data" }
    entries { kind: MOUNT_KIND_SYMLINK target: "/bin" source: "usr/bin" }
    entries { kind: MOUNT_KIND_PROC target: "/proc" }
    entries { kind: MOUNT_KIND_DEV target: "/dev" }
  )pb");
  ASSERT_EQ(plan.steps.size(), 7u);
  EXPECT_EQ(plan.steps[0].kind, FsStep::Kind::kFile);
  EXPECT_EQ(plan.steps[0].content, "box\n");
  EXPECT_EQ(plan.steps[0].mode, 0444u);
  EXPECT_EQ(plan.steps[0].staging_path, "/file-0");
  EXPECT_EQ(plan.steps[1].mode, 0555u);
  EXPECT_EQ(plan.steps[1].staging_path, "/file-1");
  EXPECT_EQ(plan.steps[2].mode, 0700u);
  EXPECT_EQ(plan.steps[3].mode, 0755u);
  EXPECT_EQ(plan.steps[4].kind, FsStep::Kind::kSymlink);
  EXPECT_EQ(plan.steps[4].link_text, "usr/bin");
  EXPECT_EQ(plan.steps[4].description, "symlink /bin -> usr/bin");
  EXPECT_EQ(plan.steps[5].description, "mount proc on /proc");
  EXPECT_EQ(plan.steps[6].kind, FsStep::Kind::kDev);
}

TEST(BuildFsPlanTest, StagingTmpfsIsSizedForFileContents) {
  const std::string big(40000, 'x');
  v1::Filesystem fs;
  for (int i = 0; i < 3; ++i) {
    v1::MountEntry* entry = fs.add_entries();
    entry->set_kind(v1::MOUNT_KIND_FILE);
    entry->set_target("/f" + std::to_string(i));
    entry->set_content(big);
  }
  absl::StatusOr<FsPlan> plan = BuildFsPlan(fs, false, false);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // 1 MiB of slack plus 3 x 40960 (40000 rounded up to pages).
  EXPECT_EQ(plan->staging_data, "size=" + std::to_string((1 << 20) + 3 * 40960) + ",mode=0700");
}

TEST(BuildFsPlanTest, DevptsGetsTheTtyGroupOnlyWithoutAUserNamespace) {
  EXPECT_THAT(PlanOf("", true, true).devpts_data, Not(HasSubstr("gid=")));
  EXPECT_THAT(PlanOf("", true, false).devpts_data, HasSubstr(",gid=5"));
  EXPECT_THAT(PlanOf("").devpts_data, HasSubstr("newinstance,ptmxmode=0666"));
}

TEST(BuildFsPlanTest, TargetErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "work" })pb"),
            "filesystem.entries[0].target: must be absolute, got \"work\"");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR })pb"),
            "filesystem.entries[0].target: required");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "/a/../etc" })pb"),
            "filesystem.entries[0].target: \"..\" is not allowed, got \"/a/../etc\"");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "/.." })pb"),
            "filesystem.entries[0].target: \"..\" is not allowed, got \"/..\"");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_TMPFS target: "//./" })pb"),
            "filesystem.entries[0].target: \"/\" cannot be replaced (choose filesystem.root)");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "/a\000b" })pb"),
            "filesystem.entries[0].target: must not contain a NUL byte");
  EXPECT_THAT(
      ErrorOf("entries { kind: MOUNT_KIND_DIR target: \"/" + std::string(256, 'a') + "\" }"),
      HasSubstr("filesystem.entries[0].target: a component is longer than 255"));
  std::string deep;
  for (int i = 0; i < 1100; ++i) deep += "/abc";
  EXPECT_THAT(ErrorOf("entries { kind: MOUNT_KIND_DIR target: \"" + deep + "\" }"),
              HasSubstr("filesystem.entries[0].target: longer than 4095 bytes"));
}

TEST(BuildFsPlanTest, KindAndSourceErrors) {
  EXPECT_EQ(ErrorOf(R"pb(entries { target: "/x" })pb"), "filesystem.entries[0].kind: required");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: 42 target: "/x" })pb"),
            "filesystem.entries[0].kind: unknown value 42");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_RO_BIND target: "/etc" })pb"),
            "filesystem.entries[0].source: required for a bind");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_RW_BIND target: "/d" source: "tmp/d" })pb"),
            "filesystem.entries[0].source: must be absolute, got \"tmp/d\"");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_RO_BIND target: "/d" source: "/etc/.." })pb"),
            "filesystem.entries[0].source: \"..\" is not allowed, got \"/etc/..\"");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_SYMLINK target: "/bin" })pb"),
            "filesystem.entries[0].source: required for a symlink (the link text)");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_SYMLINK target: "/bin" source: "a\000" })pb"),
            "filesystem.entries[0].source: must not contain a NUL byte");
}

TEST(BuildFsPlanTest, SizeModeAndContentErrors) {
  EXPECT_EQ(ErrorOf(R"pb(entries {}
                         entries {}
                         entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "1m,exec" })pb"),
            "filesystem.entries[0].target: required; filesystem.entries[0].kind: required; "
            "filesystem.entries[1].target: required; filesystem.entries[1].kind: required; "
            "filesystem.entries[2].size: \"1m,exec\" is not a size: unexpected \",exec\" "
            "after \"1m\" (only one k, m or g suffix is allowed)");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "0" })pb"),
            "filesystem.entries[0].size: \"0\" is not a size: must be more than 0");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_TMPFS target: "/tmp" mode: "0758" })pb"),
            "filesystem.entries[0].mode: \"0758\" is not a mode: only octal digits 0-7 are "
            "allowed");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_DIR target: "/d" mode: "rw" })pb"),
            "filesystem.entries[0].mode: \"rw\" is not a mode: expected 3 or 4 octal digits "
            "such as 0755");
  v1::Filesystem fs;
  v1::MountEntry* file = fs.add_entries();
  file->set_kind(v1::MOUNT_KIND_FILE);
  file->set_target("/etc/big");
  file->set_content(std::string(kMaxFileContent + 1, 'x'));
  absl::StatusOr<FsPlan> plan = BuildFsPlan(fs, true, true);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "filesystem.entries[0].content: 65537 bytes is more than the limit of 65536");
  file->set_content(std::string(kMaxFileContent, 'x'));
  EXPECT_TRUE(BuildFsPlan(fs, true, true).ok());
}

TEST(BuildFsPlanTest, FieldsThatMeanNothingForTheKindAreRefused) {
  EXPECT_EQ(ErrorOf(R"pb(entries {
                           kind: MOUNT_KIND_RO_BIND
                           target: "/e"
                           source: "/etc"
                           size: "1m"
                           mode: "0755"
                           content: "x"
                         })pb"),
            "filesystem.entries[0].size: not used by MOUNT_KIND_RO_BIND; "
            "filesystem.entries[0].mode: not used by MOUNT_KIND_RO_BIND; "
            "filesystem.entries[0].content: not used by MOUNT_KIND_RO_BIND");
  EXPECT_EQ(
      ErrorOf(
          R"pb(entries { kind: MOUNT_KIND_TMPFS target: "/t" source: "/etc" optional: true })pb"),
      "filesystem.entries[0].source: not used by MOUNT_KIND_TMPFS; "
      "filesystem.entries[0].optional: not used by MOUNT_KIND_TMPFS");
  EXPECT_EQ(ErrorOf(R"pb(entries { kind: MOUNT_KIND_PROC target: "/proc" mode: "0555" })pb"),
            "filesystem.entries[0].mode: not used by MOUNT_KIND_PROC");
}

TEST(BuildFsPlanTest, ProcNeedsAPidNamespace) {
  const std::string text = R"pb(
    entries { kind: MOUNT_KIND_DIR target: "/a" }
    entries { kind: MOUNT_KIND_DIR target: "/b" }
    entries { kind: MOUNT_KIND_DIR target: "/c" }
    entries { kind: MOUNT_KIND_PROC target: "/proc" }
  )pb";
  EXPECT_EQ(ErrorOf(text, /*pid_ns=*/false),
            "filesystem.entries[3]: a private /proc needs a pid namespace");
  EXPECT_EQ(ErrorOf(text, /*pid_ns=*/true), "");
}

TEST(BuildFsPlanTest, RootCwdAndEntryCountErrors) {
  EXPECT_EQ(ErrorOf("root: 7"), "filesystem.root: unknown value 7");
  EXPECT_EQ(ErrorOf(R"pb(cwd: "work")pb"), "filesystem.cwd: must be absolute, got \"work\"");
  EXPECT_EQ(ErrorOf(R"pb(cwd: "/work/../..")pb"),
            "filesystem.cwd: \"..\" is not allowed, got \"/work/../..\"");
  v1::Filesystem fs;
  for (int i = 0; i <= kMaxFsEntries; ++i) {
    v1::MountEntry* entry = fs.add_entries();
    entry->set_kind(v1::MOUNT_KIND_DIR);
    entry->set_target("/d" + std::to_string(i));
  }
  absl::StatusOr<FsPlan> plan = BuildFsPlan(fs, true, true);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "filesystem.entries: 257 entries is more than the limit of 256");
  fs.mutable_entries()->RemoveLast();
  EXPECT_TRUE(BuildFsPlan(fs, true, true).ok());
}

TEST(BuildFsPlanTest, EveryBadFieldIsReportedTogether) {
  absl::StatusOr<FsPlan> plan =
      BuildFsPlan(Parse(R"pb(
                    entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "-1" }
                    entries { kind: MOUNT_KIND_RO_BIND target: "rel" }
                    entries { kind: MOUNT_KIND_DIR target: "/ok" }
                    cwd: "x"
                  )pb"),
                  true, true);
  ASSERT_FALSE(plan.ok());
  std::vector<std::string> parts = absl::StrSplit(plan.status().message(), "; ");
  EXPECT_THAT(parts, ElementsAre(HasSubstr("filesystem.entries[0].size: \"-1\" is not a size"),
                                 "filesystem.entries[1].target: must be absolute, got \"rel\"",
                                 "filesystem.entries[1].source: required for a bind",
                                 "filesystem.cwd: must be absolute, got \"x\""));
}

}  // namespace
}  // namespace secureos::sandboxd
