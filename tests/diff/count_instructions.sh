#!/bin/bash
# Instructions per TCP connection lifecycle, our core against lwIP, counted
# by callgrind in one run of the diff harness (`diff_harness --bench`).
#
#   tests/diff/count_instructions.sh [path/to/diff_harness]
#
# The lifecycle: the stack is an echo server; the peer opens (SYN, ACK),
# sends 100 bytes that come back with the ACK, acknowledges them, sends
# FIN; the application closes at once (FIN,ACK), the peer acknowledges. A
# warm-up lifecycle runs first, uncounted. Then 100 in-order segments of
# 1460 bytes go into an established connection whose application takes
# everything (ACKs included in the count).
#
# Only the stacks' own code is counted: the harness turns collection on
# around each call into a stack (input, timers, API calls) and off inside
# the transmit callbacks and the application callbacks (their tcp_* calls
# count again). Each part ends with a callgrind dump whose total is read
# here, less the cost of the brackets themselves (calibrated in the same
# run). Build: make build/diff/diff_harness (our core at -O2 for x86-64,
# as Debian builds liblwip; the firmware itself is -Os for Cortex-M3).
set -euo pipefail

bin=${1:-build/diff/diff_harness}
if [[ ! -x $bin ]]; then
    echo "count_instructions.sh: $bin not built (make build/diff/diff_harness)" >&2
    exit 1
fi
command -v valgrind >/dev/null || { echo "count_instructions.sh: valgrind not installed" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$dir/cg.out" \
    "$bin" --bench >"$dir/stdout" 2>"$dir/stderr" || {
    cat "$dir/stderr" >&2
    exit 1
}
if grep -q '^bench:' "$dir/stderr"; then # the harness reports a run that went wrong
    grep '^bench:' "$dir/stderr" >&2
    exit 1
fi

# Each dump part: "desc: Trigger: Client Request: <label>" ... "totals: <Ir>"
total() {
    local f
    for f in "$dir"/cg.out.*; do
        if grep -q "^desc: Trigger: Client Request: $1\$" "$f"; then
            awk '/^totals:/ { print $2 }' "$f"
            return
        fi
    done
    echo "count_instructions.sh: no callgrind dump labelled '$1'" >&2
    exit 1
}

# The on/off brackets themselves execute a few instructions inside the
# counted region; a calibration dump measures them and they are taken off.
brackets() { sed -n "s/^bench: $1: \([0-9]*\) brackets\$/\1/p" "$dir/stdout"; }
segs=$(sed -n 's/^bench: \([0-9]*\) data segments.*/\1/p' "$dir/stdout")
ncal=$(sed -n 's/^bench: \([0-9]*\) calibration brackets$/\1/p' "$dir/stdout")
cal=$(total calibration)
net() { # label -> instructions, bracket cost removed
    awk -v t="$(total "$1")" -v b="$(brackets "$1")" -v c="$cal" -v n="$ncal" \
        'BEGIN { printf "%.0f", t - b * c / n }'
}
ours=$(net "ours lifecycle")
lwip=$(net "lwIP lifecycle")
ours_data=$(net "ours $segs data segments")
lwip_data=$(net "lwIP $segs data segments")

printf 'instructions per connection lifecycle (handshake, 100 bytes echoed, FIN/ACK both ways):\n'
printf '  ours  %8d\n' "$ours"
printf '  lwIP  %8d\n' "$lwip"
awk -v o="$ours" -v l="$lwip" 'BEGIN { printf "  ours/lwIP = %.2f\n", o / l }'
printf 'instructions per received 1460-byte data segment (mean of %d, ACKs included):\n' "$segs"
awk -v o="$ours_data" -v l="$lwip_data" -v n="$segs" \
    'BEGIN { printf "  ours  %8.0f\n  lwIP  %8.0f\n", o / n, l / n }'
