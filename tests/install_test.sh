#!/usr/bin/env bash
# tools/install and tools/uninstall into a temporary destdir: the installed tree is exactly
# what docs/deployment.md lists; every unit passes `systemd-analyze verify` without a warning,
# names only capabilities libcap knows, gives CAP_SETPCAP to capd alone, and has the
# `systemd-analyze security` exposure docs/deployment.md records; a reinstall keeps a changed
# config; uninstall removes exactly what install made and keeps the changed config.
set -euo pipefail

runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/install-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/dest"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$runfiles/tools/install" --destdir "$dest" --bin-dir "$runfiles" >"$work/install.out" 2>&1 ||
  { cat "$work/install.out"; fail "tools/install exited $?"; }

daemons=(capd sandboxd containerd-lite svcd monitord)
expected=(
  etc/secureos/capd.conf etc/secureos/containerd-lite.conf etc/secureos/containerd-lite.subgid
  etc/secureos/containerd-lite.subuid etc/secureos/monitord.conf etc/secureos/sandboxd.conf
  etc/secureos/svcd.conf usr/local/bin/secctl
  usr/local/lib/systemd/system/secureos-capd.service
  usr/local/lib/systemd/system/secureos-containerd-lite.service
  usr/local/lib/systemd/system/secureos-monitord.service
  usr/local/lib/systemd/system/secureos-sandboxd.service
  usr/local/lib/systemd/system/secureos-svcd.service
  usr/local/lib/systemd/system/secureos.target
  usr/local/libexec/secureos/capd usr/local/libexec/secureos/containerd-lite
  usr/local/libexec/secureos/monitord usr/local/libexec/secureos/sandboxd
  usr/local/libexec/secureos/svcd
  usr/local/share/bash-completion/completions/secctl
  usr/local/share/doc/secureos/PERFORMANCE.md
  usr/local/share/doc/secureos/access.md
  usr/local/share/doc/secureos/deployment.md
  usr/local/share/doc/secureos/operator-guide.md
  usr/local/share/doc/secureos/reference.md
  usr/local/share/doc/secureos/rules-guide.md
  usr/local/share/secureos/install-manifest
)
got=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
[[ "$got" == "$want" ]] || fail "installed files differ:"$'\n'"$(diff <(echo "$want") <(echo "$got"))"
for d in "${daemons[@]}"; do
  [[ -x "$dest/usr/local/libexec/secureos/$d" ]] || fail "$d is not executable"
  grep -q "^ExecStart=/usr/local/libexec/secureos/$d --root=/\$" "$dest/usr/local/lib/systemd/system/secureos-$d.service" ||
    fail "secureos-$d.service does not start /usr/local/libexec/secureos/$d"
  # The config installed is the daemon's embedded default (sandboxd's and svcd's with their
  # cgroups inside the subtree their unit delegates), and the daemon accepts it.
  want_conf=$("$runfiles/$d/$d" --print_default_config)
  if [[ $d == sandboxd || $d == svcd ]]; then
    want_conf=$(sed 's|^cgroup_parent: .*|cgroup_parent: "@self/workloads"|' <<<"$want_conf")
  fi
  [[ "$(cat "$dest/etc/secureos/$d.conf")" == "$want_conf" ]] ||
    fail "$d.conf is not $d's default: $(diff <(echo "$want_conf") "$dest/etc/secureos/$d.conf")"
  "$runfiles/$d/$d" --check_config --config "$dest/etc/secureos/$d.conf" >"$work/check.out" 2>&1 ||
    fail "$d refuses its installed config: $(cat "$work/check.out")"
  # Every top-level setting is explained by a comment above it (or above the group of
  # settings it belongs to: consecutive lines under one comment).
  bare=$(awk '/^#/ { c = 1; next } /^[a-z_]+[: {]/ { if (!c) print; next } { c = 0 }' "$dest/etc/secureos/$d.conf")
  [[ -z "$bare" ]] || fail "$d.conf: settings without a comment: $bare"
done
# --check_config refuses a bad value and names the field.
sed 's|^cgroup_parent: .*|cgroup_parent: "@self/../up"|' "$dest/etc/secureos/sandboxd.conf" >"$work/bad.conf"
if "$runfiles/sandboxd/sandboxd" --check_config --config "$work/bad.conf" >"$work/check.out" 2>&1; then
  fail "sandboxd --check_config accepted cgroup_parent \"@self/../up\""
fi
grep -q 'cgroup_parent: after "@self/"' "$work/check.out" || fail "--check_config said: $(cat "$work/check.out")"
bash -n "$dest/usr/local/share/bash-completion/completions/secctl" || fail "the completion script does not parse"
(source "$dest/usr/local/share/bash-completion/completions/secctl" && complete -p secctl >/dev/null) ||
  fail "the completion script does not register for secctl"

# systemd-analyze, offline, on a root that has the system's own units and the installed tree.
vroot="$work/vroot"
mkdir -p "$vroot/usr/lib/systemd" "$vroot/usr/bin"
cp -a /usr/lib/systemd/system "$vroot/usr/lib/systemd/"
ln -s usr/lib "$vroot/lib"
ln -s usr/bin "$vroot/bin"
cp /bin/kill "$vroot/usr/bin/kill"
cp -a "$dest/." "$vroot/"
units="/usr/local/lib/systemd/system"
for unit in secureos.target "${daemons[@]/#/secureos-}"; do
  [[ "$unit" == *.target ]] || unit="$unit.service"
  out=$(systemd-analyze verify --root="$vroot" "$units/$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify $unit warns: $out"
done
for d in "${daemons[@]}"; do
  unit="$dest$units/secureos-$d.service"
  for cap in $(sed -n 's/^CapabilityBoundingSet=//p' "$unit"); do
    /usr/sbin/capsh --supports="${cap,,}" 2>/dev/null || fail "secureos-$d.service names $cap, which libcap does not know"
  done
  if grep -q '^CapabilityBoundingSet=.*CAP_SETPCAP' "$unit"; then
    [[ "$d" == capd ]] || fail "secureos-$d.service gives CAP_SETPCAP (only capd may hold it)"
  else
    [[ "$d" != capd ]] || fail "secureos-capd.service lacks CAP_SETPCAP"
  fi
  level=$(systemd-analyze security --offline=yes --root="$vroot" "$units/secureos-$d.service" 2>&1 |
          sed -n 's/.*Overall exposure level for secureos-[a-z-]*\.service: \([0-9.]*\).*/\1/p')
  documented=$(sed -n "s/^| secureos-$d\.service | \([0-9.]*\) |.*/\1/p" "$runfiles/docs/deployment.md")
  [[ -n "$level" ]] || fail "no exposure level for secureos-$d.service"
  [[ "$level" == "$documented" ]] ||
    fail "secureos-$d.service: exposure $level, docs/deployment.md says '$documented' (update the table and its reason)"
done

# A reinstall keeps the operator's config; uninstall removes exactly the rest.
echo "# the operator's change" >>"$dest/etc/secureos/capd.conf"
"$runfiles/tools/install" --destdir "$dest" --bin-dir "$runfiles" >"$work/install2.out" 2>&1 || fail "reinstall failed"
grep -q "keeping /etc/secureos/capd.conf (exists)" "$work/install2.out" || fail "reinstall did not say it kept capd.conf"
grep -q "the operator's change" "$dest/etc/secureos/capd.conf" || fail "reinstall replaced capd.conf"
"$runfiles/tools/uninstall" --destdir "$dest" >"$work/uninstall.out" 2>&1 || { cat "$work/uninstall.out"; fail "uninstall failed"; }
grep -q "keeping /etc/secureos/capd.conf (changed since install)" "$work/uninstall.out" || fail "uninstall did not name the kept config"
left=$(cd "$dest" && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ')
[[ "$left" == "etc etc/secureos etc/secureos/capd.conf " ]] || fail "uninstall left: $left"
"$runfiles/tools/uninstall" --destdir "$dest" >/dev/null 2>&1 && fail "a second uninstall found a manifest"
echo "PASS"
