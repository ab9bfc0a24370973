#!/usr/bin/env bash
# A checked-in generated document is what its generator makes now.
#   generated_doc_test.sh CHECKED_IN GENERATED TARGET
set -euo pipefail
runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
checked_in=$1 generated=$2 target=$3
if ! diff -u "$runfiles/$checked_in" "$runfiles/$generated" >"$TEST_TMPDIR/diff"; then
  head -40 "$TEST_TMPDIR/diff"
  echo "FAIL: $checked_in is stale: bazel build $target && cp bazel-bin/$generated $checked_in" >&2
  exit 1
fi
echo PASS
