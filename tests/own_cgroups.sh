# Sourced by the shell tests that run the whole suite with tools/up: the daemons' cgroups go
# under a parent of the test's own instead of the defaults' secureos/..., and are removed at
# the end.
#
#   own_cgroups ROOT RUNFILES NAME [delegated]
#                                    writes ROOT/etc/secureos/{sandboxd,svcd}.conf (their
#                                    defaults with cgroup_parent secureos-test/NAME-$$/...;
#                                    with "delegated", "@self/workloads" instead, for
#                                    daemons started in unit cgroups under
#                                    $own_cgroups_parent: tools/up --unit-slice)
#   remove_own_cgroups               removes them (and secureos-test when empty); 0 always
#   own_cgroups_left                 prints what is left of them

own_cgroups() {
  local root=$1 runfiles=$2 d parent
  own_cgroups_parent="secureos-test/$3-$$"
  mkdir -p "$root/etc/secureos"
  for d in sandboxd svcd; do
    parent="$own_cgroups_parent/$d"
    [[ "${4:-}" == delegated ]] && parent="@self/workloads"
    "$runfiles/$d/$d" --print_default_config |
      sed "s|^cgroup_parent: .*|cgroup_parent: \"$parent\"|" >"$root/etc/secureos/$d.conf"
    grep -q "^cgroup_parent: \"$parent\"" "$root/etc/secureos/$d.conf" ||
      { echo "FAIL: $d's cgroup_parent could not be set" >&2; return 1; }
  done
}

remove_own_cgroups() {
  local dir
  [[ -n "${own_cgroups_parent:-}" ]] || return 0
  for dir in /sys/fs/cgroup/*/"$own_cgroups_parent" /sys/fs/cgroup/"$own_cgroups_parent"; do
    [[ -d "$dir" ]] && { find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
  done
  for dir in /sys/fs/cgroup/*/secureos-test /sys/fs/cgroup/secureos-test; do
    [[ -d "$dir" ]] && { rmdir "$dir" 2>/dev/null || true; }
  done
  return 0
}

own_cgroups_left() {
  [[ -n "${own_cgroups_parent:-}" ]] || return 0
  find /sys/fs/cgroup -maxdepth 3 -path "*$own_cgroups_parent*" -type d 2>/dev/null || true
}
