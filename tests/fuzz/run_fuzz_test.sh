#!/usr/bin/env bash
# Runs a libFuzzer binary as a test: every seed in SEED_DIR first, then mutation for SECONDS
# (FUZZ_SECONDS overrides). New inputs go to a scratch corpus; a crash, leak or slow input
# fails the test and is written to the test's undeclared outputs (or TEST_TMPDIR).
#   run_fuzz_test.sh BINARY SEED_DIR SECONDS
set -euo pipefail
bin=$1 seeds=$2 seconds=${FUZZ_SECONDS:-$3}
runfiles="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-secureos}"
[[ -d "$runfiles/$seeds" ]] || { echo "FAIL: no seed corpus at $seeds" >&2; exit 1; }
[[ -n "$(ls -A "$runfiles/$seeds")" ]] || { echo "FAIL: the seed corpus $seeds is empty" >&2; exit 1; }
scratch="${TEST_TMPDIR:-/tmp}/corpus"
artifacts="${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}}/"
mkdir -p "$scratch"
exec "$bin" -max_total_time="$seconds" -use_value_profile=1 -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" "$scratch" "$runfiles/$seeds"
