#!/usr/bin/env bash
# docs/reference.md is what docs/proto_doc makes of the protos now.
set -euo pipefail
runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
if ! diff -u "$runfiles/docs/reference.md" "$runfiles/docs/reference.generated.md" >"$TEST_TMPDIR/diff"; then
  head -40 "$TEST_TMPDIR/diff"
  echo "FAIL: docs/reference.md is stale: bazel build //docs:reference && cp bazel-bin/docs/reference.generated.md docs/reference.md" >&2
  exit 1
fi
echo PASS
