#!/bin/bash
# `make debug`: boot the firmware under QEMU halted at reset, with a gdb
# server, and attach gdb-multiarch with the ELF's symbols and the commands
# of tools/gdb/fw.gdb (fw-conns, fw-stats).
#
#   tools/debug.sh <elf> <machine>            interactive gdb on this terminal
#   tools/debug.sh --check <elf> <machine>    non-interactive self-check
#
# QEMU runs in a network namespace of its own (tools/netns.sh, NIC on tap0,
# host side 192.168.7.1) started in the background; gdb runs here, outside
# it, and talks to QEMU's gdb server over a unix socket (no TCP port to
# collide with anything). The UART goes to a log file next to the ELF
# (<elf>.uart.log) and to a unix socket for an interactive console; the
# paths are printed at start. Quitting gdb stops QEMU and deletes the
# namespace. Ctrl-C in gdb interrupts the firmware, as usual.
#
# --check (for CI and after changes to fw.gdb): boots, breaks at
# Reset_Handler, lets the firmware run, opens a TCP connection to its echo
# port from inside the namespace, interrupts, runs fw-conns and fw-stats in
# gdb batch mode and checks that the connection shows as ESTABLISHED.
# Exit 0 pass, 1 fail, 77 skip (no namespace possible here).
#
# Env: GDB_PORT=<n>  do not start gdb; serve gdb's remote protocol on
#                    127.0.0.1:<n> too (socat) for an IDE, until Ctrl-C
#      FW_GDB        the debugger (default gdb-multiarch)
set -uo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
TOOLS=$(dirname "$SELF")
FW_IP=192.168.7.2
FW_MAC=52:54:00:12:34:56

usage() {
    echo "usage: $0 [--check] <firmware.elf> <qemu machine, e.g. mps2-an385>" >&2
    exit 2
}

# --- Inside the namespace (started by the outer part through netns.sh) ---
# $2 = run dir (sockets, logs), $3 = elf, $4 = machine, $5 = 1 to run the
# check's TCP client once the firmware has booted.
if [[ ${1:-} == --in-netns ]]; then
    dir=$2 elf=$3 machine=$4 client=$5
    if [[ ${FW_NETNS:-} == userns-* ]]; then
        echo "nsenter -t $FW_NETNS_PID -U -n --preserve-credentials" >"$dir/enter"
    else
        echo "ip netns exec $FW_NETNS" >"$dir/enter"
    fi
    if ((client)); then
        # The check's client: once the banner is out (gdb let the firmware
        # run), connect to echo and hold the connection open for a minute.
        (
            for ((i = 0; i < 600; i++)); do
                grep -q '^eth id' "$dir/uart.log" 2>/dev/null && break
                sleep 0.1
            done
            { printf 'hello fw-conns\n'; sleep 60; } | nc "$FW_IP" 7 >"$dir/nc.out" 2>&1
        ) </dev/null &
    fi
    exec qemu-system-arm -M "$machine" -kernel "$elf" -nographic -monitor none -S \
        -gdb "unix:$dir/gdb.sock,server=on,wait=off" \
        -chardev "socket,id=con,path=$dir/uart.sock,server=on,wait=off,logfile=$dir/uart.log" \
        -serial chardev:con \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
        -net nic,netdev=n0,macaddr=$FW_MAC </dev/null
fi

check=0
if [[ ${1:-} == --check ]]; then check=1; shift; fi
(($# == 2)) || usage
elf=$1 machine=$2
[[ -f $elf ]] || { echo "debug.sh: no firmware at $elf (build it: make)" >&2; exit 2; }
GDB=${FW_GDB:-gdb-multiarch}
for tool in qemu-system-arm "$GDB" nc socat; do
    command -v "$tool" >/dev/null || { echo "debug.sh: $tool missing (make deps)" >&2; exit 2; }
done
if ! "$TOOLS/netns.sh" --check 2>/dev/null; then
    echo "debug.sh: SKIP: no network namespace with a tap device can be made here" >&2
    exit 77
fi

dir=$(mktemp -d /tmp/fw-debug.XXXXXX)
log=${elf%.elf}.uart.log
ns_pid="" bridge_pid=""
cleanup() {
    trap - EXIT INT TERM HUP
    # netns.sh stops QEMU (and the client) and deletes the namespace.
    [[ -n $bridge_pid ]] && kill "$bridge_pid" 2>/dev/null
    if [[ -n $ns_pid ]]; then
        kill -TERM "$ns_pid" 2>/dev/null
        wait "$ns_pid" 2>/dev/null
    fi
    [[ -f $dir/uart.log ]] && cp "$dir/uart.log" "$log" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# QEMU in its namespace, in a session of its own: Ctrl-C on this terminal
# (meant for gdb) does not reach it.
setsid "$TOOLS/netns.sh" -- "$SELF" --in-netns "$dir" "$(readlink -f "$elf")" "$machine" \
    "$check" </dev/null >"$dir/netns.log" 2>&1 &
ns_pid=$!
for ((i = 0; i < 100; i++)); do
    [[ -S $dir/gdb.sock ]] && break
    if ! kill -0 "$ns_pid" 2>/dev/null; then
        echo "debug.sh: QEMU did not start:" >&2
        cat "$dir/netns.log" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -S $dir/gdb.sock ]] || { echo "debug.sh: no gdb socket from QEMU after 10 s" >&2; cat "$dir/netns.log" >&2; exit 1; }
enter=$(cat "$dir/enter" 2>/dev/null)

# gdb's start: symbols, our commands, attach. QEMU halts before the first
# instruction, i.e. at Reset_Handler (and so does fw-reset); the breakpoint
# stays for later runs through it, and is run to if the reset PC were
# elsewhere.
cat >"$dir/start.gdb" <<EOF
set pagination off
file $elf
source $TOOLS/gdb/fw.gdb
target remote $dir/gdb.sock
break Reset_Handler
if \$pc != (unsigned int) Reset_Handler
  continue
end
EOF
gdb_args=(-q -nx -x "$dir/start.gdb")

if ((check)); then
    # Batch gdb: show where we stopped, run, then wait for the SIGINT below.
    timeout --foreground 60 "$GDB" -batch "${gdb_args[@]}" -ex 'info registers pc' -ex 'delete' \
        -ex 'continue' -ex 'fw-conns' -ex 'fw-stats' -ex 'detach' \
        </dev/null >"$dir/gdb.out" 2>&1 &
    gdb_pid=$!
    # Interrupt once the echo came back: the connection is established.
    for ((i = 0; i < 300; i++)); do
        grep -q 'hello fw-conns' "$dir/nc.out" 2>/dev/null && break
        kill -0 "$gdb_pid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    kill -INT "$gdb_pid" 2>/dev/null
    wait "$gdb_pid"
    cat "$dir/gdb.out"
    fail=()
    grep -q 'Reset_Handler () at board/common/startup.c' "$dir/gdb.out" ||
        fail+=("gdb did not stop at Reset_Handler")
    grep -Eq "^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <Reset_Handler>" "$dir/gdb.out" ||
        fail+=("pc was not Reset_Handler's address at the first stop")
    grep -q 'hello fw-conns' "$dir/nc.out" 2>/dev/null ||
        fail+=("no echo from the firmware: $(cat "$dir/nc.out" 2>/dev/null)")
    grep -Eq "^[0-9]+ +ESTABLISHED +$FW_IP:7 +192\.168\.7\.1:[0-9]+ " "$dir/gdb.out" ||
        fail+=("fw-conns shows no ESTABLISHED connection to port 7")
    grep -Eq '^tcp_seg_in [1-9]' "$dir/gdb.out" || fail+=("fw-stats: tcp_seg_in is not > 0")
    if ((${#fail[@]})); then
        printf 'debug.sh --check: FAIL: %s\n' "${fail[@]}"
        echo "--- UART:"; cat "$dir/uart.log" 2>/dev/null
        exit 1
    fi
    echo "debug.sh --check: PASS (stopped at Reset_Handler; fw-conns shows the connection ESTABLISHED)"
    exit 0
fi

cat >&2 <<EOF
=== $elf on $machine, halted at reset; NIC ($FW_MAC) on tap0, firmware $FW_IP
    UART log:      $dir/uart.log (copied to $log at the end)
    UART console:  socat -,raw,echo=0 UNIX-CONNECT:$dir/uart.sock
    network:       $enter ping $FW_IP     ($enter nc $FW_IP 7)
    gdb: continue, Ctrl-C, fw-conns, fw-stats, fw-reset; quit ends all
===
EOF
if [[ -n ${GDB_PORT:-} ]]; then
    socat "TCP-LISTEN:$GDB_PORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$dir/gdb.sock" &
    bridge_pid=$!
    echo "=== gdb server on 127.0.0.1:$GDB_PORT (target remote :$GDB_PORT, then source" \
         "tools/gdb/fw.gdb); Ctrl-C here ends the session" >&2
    wait "$bridge_pid"
    exit 0
fi
# A no-op trap (not an ignore, which gdb would inherit): Ctrl-C is gdb's.
trap ':' INT
"$GDB" "${gdb_args[@]}"
