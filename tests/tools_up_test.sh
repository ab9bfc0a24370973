#!/usr/bin/env bash
# tools/up, exercised for real: five daemons come up under a temporary root, `secctl status`
# shows five up, SIGTERM stops all five, and no process or socket is left behind.
set -euo pipefail

runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
root=$(mktemp -d /tmp/secureos-up-XXXXXX)
out="$root.out"
up_pid=""

# The daemons' cgroups under a parent of this test's own, removed at the end.
source "$runfiles/tests/own_cgroups.sh"
own_cgroups "$root" "$runfiles" up || exit 1

cleanup() {
  [[ -n "$up_pid" ]] && kill -KILL "$up_pid" 2>/dev/null || true
  pkill -KILL -f -- "--root $root" 2>/dev/null || true
  remove_own_cgroups
  rm -rf "$root" "$out"
}
trap cleanup EXIT
# Bazel ends a test at its timeout with SIGTERM: exit, so that the EXIT trap cleans up.
trap 'exit 143' TERM INT

fail() { echo "FAIL: $*" >&2; echo "--- tools/up output:" >&2; cat "$out" >&2 || true; exit 1; }

"$runfiles/tools/up" --root "$root" --bin-dir "$runfiles" >"$out" 2>&1 &
up_pid=$!

for _ in $(seq 300); do
  grep -q "all five daemons are up" "$out" && break
  kill -0 "$up_pid" 2>/dev/null || fail "tools/up exited early"
  sleep 0.1
done
grep -q "all five daemons are up" "$out" || fail "tools/up did not report readiness in 30 s"
grep -q "secctl --root $root status" "$out" || fail "tools/up did not print secctl lines to try"

status=$("$runfiles/cli/secctl" --root "$root" status) || fail "secctl status exited $?"
echo "$status"
up_count=$(grep -cE '^(capd|sandboxd|containerd-lite|svcd|monitord) +up ' <<<"$status" || true)
[[ "$up_count" == 5 ]] || fail "expected 5 daemons up, got $up_count"
[[ $(find "$root/run/secureos" -name '*.sock' | wc -l) == 5 ]] || fail "expected 5 sockets"

# Only capd holds CAP_SETPCAP (bit 8): the other four have it in none of their five sets.
has_setpcap() {  # has_setpcap PID -> prints the sets that contain it
  local key value
  while read -r key value; do
    case "$key" in
      CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:) (( (16#$value >> 8) & 1 )) && echo "$key" ;;
    esac
  done <"/proc/$1/status"
  return 0
}
for d in sandboxd containerd-lite svcd monitord; do
  pid=$(pgrep -f -- "/$d --root $root\$") || fail "no pid for $d"
  sets=$(has_setpcap "$pid")
  [[ -z "$sets" ]] || fail "$d (pid $pid) holds CAP_SETPCAP in: $sets"
done
capd_pid=$(pgrep -f -- "/capd --root $root\$") || fail "no pid for capd"
capd_sets=$(has_setpcap "$capd_pid")
[[ "$capd_sets" == *CapEff:* ]] || fail "capd lacks CAP_SETPCAP in its effective set"

kill -TERM "$up_pid"
rc=0
wait "$up_pid" || rc=$?
up_pid=""
[[ "$rc" == 0 ]] || fail "tools/up exited $rc after SIGTERM"

if pgrep -f -- "--root $root" >/dev/null; then
  pgrep -af -- "--root $root" >&2
  fail "daemons left running"
fi
leftover=$(find "$root" -name '*.sock' -o -name '*.lock')
[[ -z "$leftover" ]] || fail "left behind: $leftover"
for d in capd sandboxd containerd-lite svcd monitord; do
  grep -q 'msg=stopped' "$root/log/$d.log" || fail "$d did not stop gracefully"
done
remove_own_cgroups
left=$(own_cgroups_left)
[[ -z "$left" ]] || fail "cgroups left behind: $left"
echo "PASS"
