#!/bin/bash
# shellcheck disable=SC2317  # (cleanup functions run from traps)
# Run a command in a network namespace of its own, with a tap device for QEMU.
#
#   tools/netns.sh [--no-addr] -- <command...>
#   tools/netns.sh --check          exit 0 if a namespace can be made, else 77
#
# Creates a uniquely named namespace (fw-<pid>-<n>), brings `lo` up, creates a
# persistent tap `tap0` (up, 192.168.7.1/24 unless --no-addr: for crafted-frame
# tests where the host kernel must not answer), and runs the command inside it
# with FW_NETNS=<name> exported. IPv6 is off in the namespace so the kernel sends
# no RS/MLD/DAD noise to the firmware. On exit, INT or TERM it kills every process
# still in the namespace (all of them were started by the command), deletes the
# namespace (which destroys the tap) and checks nothing is left behind.
#
# As root it uses `ip netns`. Otherwise (or if that fails) it re-runs itself
# under `unshare -Urn` (a user namespace: tap creation needs no real root there);
# then FW_NETNS is userns-<pid> and the way in is nsenter -t <pid> -U -n.
# If no namespace can be made at all it exits 77 (= skip for tests).
#
# Exit status: the command's; 77 if no namespace; 1 if cleanup left something.
# Env: FW_NETNS_MODE=auto|netns|unshare|none (default auto; `none` pretends no
# namespace can be made, for testing the fallbacks).
set -uo pipefail

HOST_ADDR=192.168.7.1/24
TAP=tap0
SELF=$(readlink -f "${BASH_SOURCE[0]}")

skip() { echo "netns.sh: SKIP: $*" >&2; exit 77; }

usage() {
    echo "usage: $0 [--no-addr] -- <command...> | $0 --check" >&2
    exit 2
}

no_addr=0 check=0 inside=0
while (($#)); do
    case $1 in
    --no-addr) no_addr=1; shift ;;
    --check) check=1; shift ;;
    --inside-unshare) inside=1; shift ;;   # internal: we are the unshare'd child
    --) shift; break ;;
    *) usage ;;
    esac
done
((check || $# > 0)) || usage

mode=${FW_NETNS_MODE:-auto}

# Set up lo and the tap in the current network namespace ($1: prefix to run a
# command in it, e.g. "ip netns exec NAME", empty when we are already inside).
setup_links() {
    local -a in
    read -r -a in <<<"$1"
    "${in[@]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        >/dev/null 2>&1 || true
    "${in[@]}" ip link set lo up || return 1
    "${in[@]}" ip tuntap add dev "$TAP" mode tap || return 1
    "${in[@]}" ip link set "$TAP" up || return 1
    if ((!no_addr)); then
        "${in[@]}" ip addr add "$HOST_ADDR" dev "$TAP" || return 1
    fi
}

child=
# Stop the command and anything else still running in the namespace, by pid:
# TERM, a bounded wait, then KILL. $1: command printing the namespace's pids.
stop_all() {
    local list=$1 pids i
    [[ -n $child ]] && kill -TERM "$child" 2>/dev/null
    for ((i = 0; i < 50; i++)); do          # at most 5 s for a clean exit
        pids=$($list)
        if [[ -z $pids ]] && ! { [[ -n $child ]] && kill -0 "$child" 2>/dev/null; }; then
            break
        fi
        # shellcheck disable=SC2086  # one pid a word
        ((i == 0)) && [[ -n $pids ]] && kill -TERM $pids 2>/dev/null
        sleep 0.1
    done
    pids=$($list)
    # shellcheck disable=SC2086
    [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
    if [[ -n $child ]]; then
        kill -KILL "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    child=
}

# Run "$@" as our child and wait for it; wait returns early when a trapped
# signal arrives. stdin is passed through (run.sh needs the terminal): a
# background job would otherwise get /dev/null.
run_child() {
    if : <&0 2>/dev/null; then
        "$@" <&0 &
    else
        "$@" </dev/null &
    fi
    child=$!
    local rc
    wait "$child"; rc=$?
    child=
    return $rc
}

# --- Inside `unshare -Urn`: we are the namespace's first process. ---
if ((inside)); then
    ns=userns-$$
    my_ns=$(readlink /proc/self/ns/net)
    ns_pids() {  # every process in this namespace except us
        local p d
        for d in /proc/[0-9]*; do
            p=${d#/proc/}
            [[ $p == "$$" || $p == "$BASHPID" ]] && continue
            [[ $(readlink "$d/ns/net" 2>/dev/null) == "$my_ns" ]] && echo "$p"
        done
    }
    cleanup() {
        local rc=$?
        trap - EXIT INT TERM HUP
        stop_all ns_pids 2>/dev/null
        exit "$rc"   # the namespace (and its tap) dies with its last process
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    setup_links "" || { echo "netns.sh: cannot set up $TAP in the user namespace" >&2; exit 77; }
    echo "netns.sh: user namespace $ns (enter it: nsenter -t $$ -U -n --preserve-credentials)" >&2
    export FW_NETNS=$ns FW_NETNS_PID=$$
    run_child "$@"
    exit $?
fi

can_netns() { [[ $mode == auto || $mode == netns ]] && ((EUID == 0)) && command -v ip >/dev/null; }
can_unshare() {
    [[ $mode == auto || $mode == unshare ]] || return 1
    command -v unshare >/dev/null || return 1
    # The probe must also be able to create a tap there.
    unshare -Urn sh -c "ip tuntap add dev probe0 mode tap" >/dev/null 2>&1
}

# --- Root: a named namespace via ip netns. ---
if can_netns; then
    ns=
    for ((n = 0; n < 20; n++)); do
        cand=fw-$$-$n
        if ip netns add "$cand" 2>/dev/null; then ns=$cand; break; fi
    done
    if [[ -n $ns ]]; then
        if ((check)); then ip netns del "$ns"; exit 0; fi
        tap_mac=
        cleanup() {
            local rc=$? i left=
            trap - EXIT INT TERM HUP
            stop_all "ip netns pids $ns" 2>/dev/null
            ip netns del "$ns" 2>/dev/null
            # The kernel destroys the namespace (and the tap in it) asynchronously.
            for ((i = 0; i < 30; i++)); do
                left=
                ip netns list 2>/dev/null | grep -qw -- "$ns" && left+=" namespace $ns"
                [[ -n $tap_mac ]] && ip -o link 2>/dev/null | grep -qi -- "$tap_mac" &&
                    left+=" tap ($tap_mac) in the root namespace"
                [[ -z $left ]] && break
                sleep 0.1
            done
            if [[ -n $left ]]; then
                echo "netns.sh: ERROR: left behind:$left" >&2
                ((rc == 0)) && rc=1
            fi
            exit "$rc"
        }
        trap cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
        if ! setup_links "ip netns exec $ns"; then
            echo "netns.sh: cannot set up $TAP in namespace $ns" >&2
            exit 77
        fi
        tap_mac=$(ip netns exec "$ns" cat /sys/class/net/$TAP/address 2>/dev/null)
        run_child ip netns exec "$ns" env FW_NETNS="$ns" "$@"
        exit $?
    fi
    [[ $mode == netns ]] && skip "ip netns add failed"
    echo "netns.sh: ip netns add failed, trying a user namespace" >&2
fi

# --- Not root (or ip netns failed): a user + network namespace. ---
if can_unshare; then
    ((check)) && exit 0
    args=(--inside-unshare)
    ((no_addr)) && args+=(--no-addr)
    # unshare execs into our copy; signals to us reach it as we exec too.
    exec unshare -Urn "$SELF" "${args[@]}" -- "$@"
fi

[[ $mode == none ]] && skip "FW_NETNS_MODE=none: not creating a network namespace"
skip "cannot create a network namespace with a tap device here (not root, and" \
    "'unshare -Urn' + 'ip tuntap add' failed: user namespaces disabled, or no access to /dev/net/tun)"
