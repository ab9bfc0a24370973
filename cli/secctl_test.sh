#!/usr/bin/env bash
# secctl's command line without daemons: usage errors, exit codes, --json, down daemons.
set -uo pipefail
secctl="$TEST_SRCDIR/$TEST_WORKSPACE/cli/secctl"
failures=0

expect() {  # expect CODE PATTERN -- ARGS...
  local code=$1 pattern=$2; shift 3
  local out rc
  out=$("$secctl" "$@" 2>&1); rc=$?
  if [[ $rc != "$code" ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: secctl $* -> exit $rc (want $code), output:"; echo "$out"
    failures=$((failures + 1))
  fi
}

expect 0 'Exit codes: 0 ok' -- --help
expect 2 'no command given' --
expect 2 'unknown command "bogus"' -- bogus
expect 2 'unknown daemon "nothere"' -- reload nothere
expect 2 'reload: which daemon' -- reload
expect 2 'status: takes no arguments' -- status capd
expect 2 '--root: must be an absolute path' -- --root relative status
expect 2 '--from: must be a sequence number' -- events capd --from x
expect 2 'unknown command "frobnicate" for capd' -- cap frobnicate
expect 0 '^secctl [0-9]+\.[0-9]+\.[0-9]+ \(api v1\)$' -- version
expect 0 '^\{"daemon":"secctl","version":"[0-9.]+","api":"v1"\}$' -- --json version
expect 3 'capd +down' -- --root /nonexistent status
expect 3 '"up":false' -- --root /nonexistent --json status
expect 3 'is the daemon running' -- --root /nonexistent reload capd
SECUREOS_ROOT=/nonexistent expect 3 '/nonexistent/run/secureos/svcd.sock' -- svc status

# svc: usage errors name what is missing (exit 2), before any call.
expect 0 'svc logs NAME \[--follow\|-f\] \[--tail BYTES\]' -- --help
expect 2 'svc start: needs NAME' -- svc start
expect 2 'svc stop: too many arguments \(needs only NAME\), got "b"' -- svc stop a b
expect 2 'svc status: too many arguments' -- svc status web extra
expect 2 'svc list: takes no arguments' -- svc list web
expect 2 'svc add: needs FILE' -- svc add
expect 2 '--tail: a number of bytes' -- svc logs web --tail lots
# FILE unreadable is a usage error (exit 2) naming the path; FILE not a definition is
# invalid (exit 5) as FILE:LINE:COLUMN.
expect 2 "svc add: open $TEST_TMPDIR/missing.service: No such file" -- svc add "$TEST_TMPDIR/missing.service"
printf 'name: "web"\nlevel: 3\nargv: [ "/bin/true"\n' >"$TEST_TMPDIR/broken.service"
expect 5 "^secctl: svc add: $TEST_TMPDIR/broken.service:4:1: " -- svc add "$TEST_TMPDIR/broken.service"
printf 'name: "web"\nlevle: 3\n' >"$TEST_TMPDIR/typo.service"
expect 5 "svc update: $TEST_TMPDIR/typo.service:2:[0-9]+: .*no field named \"levle\"" -- svc update "$TEST_TMPDIR/typo.service"
# svc: with no daemon, every call is unavailable (exit 3).
printf 'name: "web"\nlevel: 3\nargv: "/bin/true"\nuser: "nobody"\n' >"$TEST_TMPDIR/web.service"
expect 3 'svc add .*web.service: .*is svcd running' -- --root /nonexistent svc add "$TEST_TMPDIR/web.service"
expect 3 'svc status web: .*is svcd running' -- --root /nonexistent svc status web
expect 3 'svc start web: ' -- --root /nonexistent svc start web
expect 3 'svc list: ' -- --root /nonexistent --json svc list
expect 3 'svc explain web: ' -- --root /nonexistent svc explain web
expect 3 'svc logs web: .*is svcd running' -- --root /nonexistent svc logs -f web --tail 64K
expect 3 'svcd +down' -- --root /nonexistent svc status

if ((failures)); then echo "$failures failed"; exit 1; fi
echo "all passed"
