#!/bin/bash
# `make test-e2e`: run every tests/e2e/test_*.py, one after the other, each in
# a fresh network namespace of its own (tools/netns.sh), and add up the results.
#
# A test prints `PASS name` / `FAIL name: reason` per case and ends with
# `N passed, N failed`. Exit 77 from a test = skipped. Exit status: 1 if any
# case failed or any test crashed or timed out, else 0.
#
# Env: E2E_TIMEOUT (s per test, default 600), FW_ELF, FW_MACHINE, KEEP_CAPTURES=1,
#      E2E_ONLY=<glob> (e.g. 'test_ping*') to run a subset.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
PY=/usr/bin/python3
per_test=${E2E_TIMEOUT:-600}

shopt -s nullglob
# shellcheck disable=SC2206  # a glob, meant to expand
tests=(tests/e2e/${E2E_ONLY:-test_*.py})
if ((${#tests[@]} == 0)); then
    echo "e2e: no tests/e2e/${E2E_ONLY:-test_*.py}"
    exit 1
fi

passed=0 failed=0 skipped=() broken=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in "${tests[@]}"; do
    # `# fwlab-netns: --no-addr` in a test asks for a tap without an address.
    flags=$(sed -n 's/^#[[:space:]]*fwlab-netns:\(.*\)$/\1/p' "$t" | head -n1)
    echo "== $t${flags:+ (netns:$flags)}"
    start=$SECONDS
    # TERM after the time limit: netns.sh stops QEMU and deletes the namespace.
    # shellcheck disable=SC2086
    timeout -k 15 "$per_test" tools/netns.sh $flags -- "$PY" "$t" </dev/null 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
    p=0 f=0
    if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    fi
    why=
    if ((rc == 77)); then
        skipped+=("$t")
        echo "-- $t: SKIPPED"
    elif ((rc == 124 || rc == 137)); then
        why="timed out after ${per_test}s"
    elif [[ -z $summary ]]; then
        why="exited $rc without a summary"
    elif ((rc != 0 && f == 0)); then
        why="exited $rc"
    elif ((rc == 0 && f != 0)); then
        why="reported failures but exited 0"
    fi
    if [[ -n $why ]]; then
        broken+=("$t: $why")
        ((f == 0)) && f=1   # count a broken test once, as one failure
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    echo "-- $t: exit $rc, $((SECONDS - start)) s"
done

echo
echo "== e2e summary"
for b in "${broken[@]}"; do echo "FAIL $b"; done
for s in "${skipped[@]}"; do echo "SKIPPED $s"; done
echo "$passed passed, $failed failed${skipped:+, ${#skipped[@]} tests skipped}"
((failed == 0))
