#!/bin/bash
# `make run`: boot the firmware under QEMU, UART on this terminal, NIC on a tap
# device inside a network namespace of its own (tools/netns.sh).
#
#   tools/run.sh <elf> <machine>
#
# Quit with Ctrl-A X (or Ctrl-A C for the QEMU monitor, then `quit`). On quit,
# Ctrl-C outside QEMU, or TERM, no namespace or tap is left behind.
# If no namespace can be made at all, falls back to QEMU user networking (slirp)
# with 127.0.0.1:7777 forwarded to the firmware's port 7.
#
# Env: FW_PCAP=<file>     also record every frame the NIC sees (pcap)
#      FW_QEMU_ARGS="..." extra QEMU arguments
#      FW_HOSTFWD_PORT    host port of the slirp fallback (default 7777)
#      FW_NETNS_MODE      see tools/netns.sh (`none` forces the slirp fallback)
set -euo pipefail

FW_IP=192.168.7.2
FW_MAC=52:54:00:12:34:56
SELF=$(readlink -f "${BASH_SOURCE[0]}")
TOOLS=$(dirname "$SELF")

in_netns=0
if [[ ${1:-} == --in-netns ]]; then in_netns=1; shift; fi
if (($# != 2)); then
    echo "usage: $0 <firmware.elf> <qemu machine, e.g. mps2-an385>" >&2
    exit 2
fi
elf=$1 machine=$2
[[ -f $elf ]] || { echo "run.sh: no firmware at $elf (build it: make)" >&2; exit 2; }
command -v qemu-system-arm >/dev/null || { echo "run.sh: qemu-system-arm missing (make deps)" >&2; exit 2; }

qemu=(qemu-system-arm -M "$machine" -kernel "$elf" -nographic)
if [[ -n ${FW_PCAP:-} ]]; then
    mkdir -p "$(dirname "$FW_PCAP")"
    pcap_arg=(-object "filter-dump,id=d0,netdev=n0,file=$FW_PCAP")
else
    pcap_arg=()
fi
read -r -a extra <<<"${FW_QEMU_ARGS:-}"

if ((in_netns)); then
    # We are inside the namespace made by netns.sh; tap0 is ready.
    if [[ ${FW_NETNS:-} == userns-* ]]; then
        enter="nsenter -t $FW_NETNS_PID -U -n --preserve-credentials"
    else
        enter="sudo ip netns exec $FW_NETNS"
    fi
    cat >&2 <<EOF
=== $elf on $machine; NIC ($FW_MAC) on tap0 in namespace $FW_NETNS
    host side 192.168.7.1/24, firmware $FW_IP. From another shell:
      $enter ping $FW_IP
      $enter nc $FW_IP 7
      $enter bash                  (a shell in the namespace)
    Quit: Ctrl-A X   (Ctrl-A C: QEMU monitor, then 'quit'; Ctrl-A H: help)
${FW_PCAP:+    Capturing frames to $FW_PCAP
}===
EOF
    exec "${qemu[@]}" \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
        -net nic,netdev=n0,macaddr=$FW_MAC \
        "${pcap_arg[@]}" "${extra[@]}"
fi

if "$TOOLS/netns.sh" --check 2>/dev/null; then
    # netns.sh traps INT/TERM, kills QEMU and deletes the namespace on exit.
    exec "$TOOLS/netns.sh" -- "$SELF" --in-netns "$elf" "$machine"
fi

# No namespace possible: QEMU's user networking. Nothing is configured on the
# host; `restrict=on` keeps the firmware from reaching anything outside QEMU.
port=${FW_HOSTFWD_PORT:-7777}
cat >&2 <<EOF
=== NOTE: no network namespace can be created here (not root and no user
    namespace with access to /dev/net/tun, or FW_NETNS_MODE=none), so the NIC
    uses QEMU user networking (slirp) instead of a tap: no ping from the host,
    and the only way in is TCP 127.0.0.1:$port -> firmware $FW_IP:7, e.g.
      nc 127.0.0.1 $port
=== $elf on $machine; quit: Ctrl-A X (Ctrl-A C: QEMU monitor, then 'quit')
EOF
exec "${qemu[@]}" \
    -netdev "user,id=n0,net=192.168.7.0/24,host=192.168.7.1,restrict=on,hostfwd=tcp:127.0.0.1:$port-$FW_IP:7" \
    -net nic,netdev=n0,macaddr=$FW_MAC \
    "${pcap_arg[@]}" "${extra[@]}"
