#include "common/field_errors.h"

#include "gtest/gtest.h"
#include "proto/common.pb.h"

namespace secureos {
namespace {

TEST(FieldErrorsTest, EmptyIsOkAndErrorsJoinWithTheirFields) {
  FieldErrors errors;
  EXPECT_TRUE(errors.ToStatus().ok());
  errors.Add("argv", "must not be empty");
  errors.Add("uid", "required");
  absl::Status s = errors.ToStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "argv: must not be empty; uid: required");
}

TEST(FieldErrorsTest, MergeKeepsTheFieldPathsOfASubValidator) {
  FieldErrors e;
  e.Merge("filesystem", absl::InvalidArgumentError(
                            "filesystem.entries[0].size: not a size; filesystem.cwd: must be absolute"));
  e.Merge("seccomp", absl::InternalError("libseccomp failed"));
  e.Merge("x", absl::OkStatus());
  ASSERT_EQ(e.errors().size(), 3u);
  EXPECT_EQ(e.errors()[0].field, "filesystem.entries[0].size");
  EXPECT_EQ(e.errors()[1].message, "must be absolute");
  EXPECT_EQ(e.errors()[2].field, "seccomp");
  EXPECT_EQ(e.ToStatus().message(),
            "filesystem.entries[0].size: not a size; filesystem.cwd: must be absolute; "
            "seccomp: libseccomp failed");
}

TEST(RequireFieldsTest, AnAbsentOptionalUidIsNotZero) {
  common::v1::Principal p;
  FieldErrors errors;
  RequireFields(p, {"id", "uid"}, "principal.", &errors);
  EXPECT_EQ(errors.ToStatus().message(), "principal.id: required; principal.uid: required");
  p.set_uid(0);  // Explicitly root: present.
  p.set_id("uid:0");
  FieldErrors ok;
  RequireFields(p, {"id", "uid"}, "principal.", &ok);
  EXPECT_TRUE(ok.empty());
}

TEST(RequireFieldsTest, RepeatedAndMessageFields) {
  common::v1::ResourceLimits limits;
  FieldErrors errors;
  RequireFields(limits, {"rlimits", "memory_bytes"}, "", &errors);
  EXPECT_EQ(errors.errors().size(), 2u);
  limits.add_rlimits();
  limits.set_memory_bytes(0);
  FieldErrors ok;
  RequireFields(limits, {"rlimits", "memory_bytes"}, "", &ok);
  EXPECT_TRUE(ok.empty());
}

TEST(RequireFieldsTest, AnUnknownFieldNameFailsClosed) {
  common::v1::Principal p;
  FieldErrors errors;
  RequireFields(p, {"no_such_field"}, "", &errors);
  EXPECT_EQ(errors.ToStatus().message(), "no_such_field: no such field in the message");
}

}  // namespace
}  // namespace secureos
