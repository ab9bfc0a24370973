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

if ((failures)); then echo "$failures failed"; exit 1; fi
echo "all passed"
