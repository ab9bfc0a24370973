#!/usr/bin/env bash
# The systemd units' confinement, exercised for real without systemd (the test machines have
# none as PID 1): tools/up --as-units starts each daemon with its unit's capability bounding
# set and no_new_privs (setpriv), in a unit cgroup of its own (as Delegate=yes hands it;
# sandboxd and svcd use cgroup_parent "@self/workloads"), and then every daemon does its job: capd spawns with a
# granted capability, sandboxd runs a workload, containerd-lite runs a crun-spec busybox
# container, svcd starts a level-1 and a level-3 service, monitord follows all four.
# Needs root, namespaces and cgroups (tagged local).
set -euo pipefail

runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
root=$(mktemp -d /tmp/secureos-units-XXXXXX)
chmod 0755 "$root"  # Containers' host ids must reach their bundle.
out="$root.out"
up_pid=""
# The daemons' unit cgroups under a parent of this test's own, removed at the end.
source "$runfiles/tests/own_cgroups.sh"
own_cgroups "$root" "$runfiles" units delegated || exit 1
cleanup() {
  if [[ -n "$up_pid" ]]; then
    kill -TERM "$up_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$up_pid" 2>/dev/null || true
  fi
  pkill -KILL -f -- "--root $root" 2>/dev/null || true
  remove_own_cgroups
  rm -rf "$root" "$out"
}
trap cleanup EXIT
# Bazel ends a test at its timeout with SIGTERM: exit, so that the EXIT trap cleans up.
trap 'exit 143' TERM INT
fail() {
  echo "FAIL: $*" >&2
  for f in "$out" "$root"/log/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}
secctl() { "$runfiles/cli/secctl" --root "$root" "$@"; }

"$runfiles/tools/up" --root "$root" --bin-dir "$runfiles" --as-units --unit-slice "$own_cgroups_parent" >"$out" 2>&1 &
up_pid=$!
for _ in $(seq 300); do
  grep -q "all five daemons are up" "$out" && break
  kill -0 "$up_pid" 2>/dev/null || fail "tools/up --as-units exited early"
  sleep 0.1
done
grep -q "all five daemons are up" "$out" || fail "the daemons did not come up under their units' confinement"

# Each daemon runs with exactly its unit's bounding set (of what this machine's own bounding
# set has: a container host may withhold some, as this one withholds cap_sys_resource).
caps_of() { /usr/sbin/capsh --decode="$1" | sed 's/^0x[0-9a-f]*=//' | tr ',' '\n' | { grep -v '^$' || true; } | sort; }
host=$(caps_of "$(sed -n 's/^CapBnd:\t//p' /proc/self/status)")
for d in capd sandboxd containerd-lite svcd monitord; do
  pid=$(pgrep -f -- "/$d --root $root\$") || fail "no pid for $d"
  have=$(caps_of "$(sed -n 's/^CapBnd:\t//p' "/proc/$pid/status")" | tr '\n' ' ')
  want=$(sed -n 's/^CapabilityBoundingSet=//p' "$runfiles/deploy/systemd/secureos-$d.service.in" | tr ' ' '\n' |
         { grep -v '^$' || true; } | tr '[:upper:]' '[:lower:]' | sort | comm -12 - <(echo "$host") | tr '\n' ' ')
  [[ "$have" == "$want" ]] || fail "$d's bounding set is '$have', its unit's '$want'"
  grep -q $'^NoNewPrivs:\t1' "/proc/$pid/status" || fail "$d runs without no_new_privs"
done

# Each daemon in its unit's cgroup; sandboxd and svcd moved into its "supervisor" leaf, so
# that (on cgroup v2) the unit's cgroup may enable controllers for their workloads.
memory_cgroup() { sed -n 's/^[0-9]*:\([^:]*,\)*memory\(,[^:]*\)*://p' "/proc/$1/cgroup"; }
for d in capd sandboxd containerd-lite svcd monitord; do
  pid=$(pgrep -f -- "/$d --root $root\$") || fail "no pid for $d"
  want="/$own_cgroups_parent/secureos-$d.service"
  [[ $d == sandboxd || $d == svcd ]] && want="$want/supervisor"
  [[ "$(memory_cgroup "$pid")" == "$want" ]] || fail "$d is in memory cgroup '$(memory_cgroup "$pid")', not '$want'"
done

# capd: a spawn holding a granted capability.
secctl cap grant uid:65534 cap_net_bind_service >/dev/null || fail "cap grant"
eff=$(secctl cap exec --user nobody --caps cap_net_bind_service -- /bin/grep CapEff /proc/self/status) ||
  fail "cap exec: $eff"
[[ "$eff" == *$'\t0000000000000400'* ]] || fail "the spawn holds '$eff', not cap_net_bind_service"

# sandboxd: a workload.
run=$(secctl sandbox run -- /bin/sh -c 'echo sandboxed') || fail "sandbox run: $run"
[[ "$run" == *sandboxed* ]] || fail "sandbox run printed '$run'"
# ... whose cgroup lies in sandboxd's unit: a long one, inspected while it runs.
secctl sandbox run -- /bin/sleep 1000 >/dev/null 2>&1 &
long_run=$!
for _ in $(seq 100); do
  id=$(secctl --json sandbox list 2>/dev/null | grep -o '"id": *"[^"]*"' | head -n1 | sed 's/.*"\([^"]*\)"$/\1/') || true
  [[ -n "$id" ]] && secctl sandbox inspect "$id" 2>/dev/null | grep -q '"state": *"WORKLOAD_STATE_RUNNING"' && break
  sleep 0.1
done
paths=$(secctl sandbox inspect "$id" | tr -d ' \n' | grep -o '"cgroup_paths":\[[^]]*\]') || fail "no cgroup paths for workload '$id'"
grep -q "/$own_cgroups_parent/secureos-sandboxd.service/workloads/$id\"" <<<"$paths" ||
  fail "workload $id's cgroups are not in sandboxd's unit: $paths"
secctl sandbox kill "$id" >/dev/null || fail "sandbox kill $id"
wait "$long_run" || true

# containerd-lite: a crun-spec busybox container.
bundle="$root/bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/sh"
ln -s busybox "$bundle/rootfs/bin/echo"
(cd "$bundle" && crun spec)
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\(\t*\)"sh"$/\1"echo", "contained"/' "$bundle/config.json"
ctr=$(secctl ctr run c1 --bundle "$bundle" 2>/dev/null) || fail "ctr run: $ctr"
[[ "$ctr" == *contained* ]] || fail "ctr run printed '$ctr'"

# svcd: a level-1 service (through capd) and a level-3 one (through sandboxd).
mkdir -p "$root/defs"
printf 'name: "l1"\nargv: "/bin/sleep"\nargv: "1000"\nuser: "nobody"\nlevel: 1\n' >"$root/defs/l1.service"
printf 'name: "l3"\nargv: "/bin/sleep"\nargv: "1000"\nuser: "nobody"\nlevel: 3\n' >"$root/defs/l3.service"
for s in l1 l3; do
  secctl svc add "$root/defs/$s.service" >/dev/null || fail "svc add $s"
  secctl svc start "$s" >/dev/null || fail "svc start $s: $(secctl svc status "$s" 2>&1)"
  secctl svc status "$s" | grep -q "state: running" || fail "$s is not running: $(secctl svc status "$s" 2>&1)"
  spid=$(secctl svc status "$s" | sed -n 's/^ *pid: *//p')
  [[ "$(memory_cgroup "$spid")" == "/$own_cgroups_parent/secureos-"@(svcd|sandboxd)".service/workloads/"* ]] ||
    fail "$s (pid '$spid') is in memory cgroup '$(memory_cgroup "$spid")', not in svcd's or sandboxd's unit"
  secctl svc stop "$s" >/dev/null || fail "svc stop $s"
done

# monitord: following all four.
stats=$(secctl monitor stats) || fail "monitor stats"
for d in capd sandboxd containerd-lite svcd; do
  grep -qE "^$d +yes " <<<"$stats" || fail "monitord does not follow $d: $stats"
done

kill -TERM "$up_pid"
rc=0
wait "$up_pid" || rc=$?
up_pid=""
[[ "$rc" == 0 ]] || fail "tools/up exited $rc after SIGTERM"
remove_own_cgroups
left=$(own_cgroups_left)
[[ -z "$left" ]] || fail "cgroups left behind: $left"
echo "PASS"
