#!/bin/bash
# `make deps`: make sure the Debian packages the project needs are installed.
# Everything comes from Debian's apt; nothing is downloaded from anywhere else.
#   all present        -> silent, exit 0
#   missing, root      -> apt-get update + non-interactive install
#   missing, not root  -> print the packages and the command to run, exit 1
set -euo pipefail

# The one list of what the project needs (build, emulator, unit tests, e2e tests).
PACKAGES=(
    gcc make gcc-arm-none-eabi qemu-system-arm
    liblwip-dev libcmocka-dev pkg-config clang
    tcpdump tshark netcat-openbsd socat python3-scapy
    iproute2 nftables valgrind iputils-ping gdb-multiarch librsvg2-bin
    cppcheck clang-tidy libclang-rt-14-dev
    nmap hping3
)

missing=()
for p in "${PACKAGES[@]}"; do
    # "ii " = wanted install, currently installed; anything else is missing.
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$p")
done

((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: install them as root with:" >&2
    if [[ " ${missing[*]} " == *" tshark "* ]]; then
        echo "  echo 'wireshark-common wireshark-common/install-setuid boolean false' | sudo debconf-set-selections" >&2
    fi
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer "no" up front.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null

# Check again: a package that apt could not provide must fail loudly here.
still=()
for p in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || still+=("$p")
done
if ((${#still[@]})); then
    echo "deps.sh: still missing after apt-get install: ${still[*]}" >&2
    exit 1
fi
