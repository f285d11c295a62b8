#!/bin/bash
# `make dist`: the files a V2M-MPS2 / MPS2+ board's microSD card (its USB
# mass-storage volume, V2M_MPS2) needs to boot the firmware, laid out as on
# the card (see docs/flashing.md):
#
#   <out>/SOFTWARE/TCPFW.BIN              the image, a raw binary (8.3 name)
#   <out>/MB/<hbi>/<AN>/images.txt        tells the MCC to load it at reset
#
#   tools/dist.sh <firmware.elf> <board, e.g. mps2-an385> <out dir> [<hbi>]
#
# <hbi> is the board's folder under MB/ (default HBI0263C, the MPS2+): copy
# the images.txt into the folder your card already has. The card's own
# config.txt and board.txt are left alone: they are the board's, not ours.
# The binary comes from the ELF (objcopy), and IMAGE0ADDRESS is the ELF's
# lowest load address, so the two cannot disagree.
set -euo pipefail

IMAGE=TCPFW.BIN
CROSS=${CROSS:-arm-none-eabi-}

if (($# < 3 || $# > 4)); then
    echo "usage: $0 <firmware.elf> <board> <out dir> [<MB folder, default HBI0263C>]" >&2
    exit 2
fi
elf=$1 board=$2 out=$3 hbi=${4:-HBI0263C}
[[ -f $elf ]] || { echo "dist.sh: no firmware at $elf (build it: make)" >&2; exit 2; }
if [[ ! $board =~ ^mps2-an([0-9]+)$ ]]; then
    echo "dist.sh: $board is not an MPS2 application note image (mps2-anNNN)" >&2
    exit 2
fi
an=AN${BASH_REMATCH[1]}
[[ $hbi =~ ^HBI0263[A-Z]$ ]] || { echo "dist.sh: $hbi is not an MPS2 board folder (HBI0263<rev>)" >&2; exit 2; }

# Lowest physical (load) address of the loadable segments.
addr=$("${CROSS}readelf" -lW "$elf" | awk '$1 == "LOAD" { print $4 }' | sort | head -n1)
[[ $addr =~ ^0x[0-9a-f]{8}$ ]] || { echo "dist.sh: no load address in $elf" >&2; exit 1; }
version=${FW_VERSION:-}   # from make (git describe)

rm -rf "$out"
mkdir -p "$out/SOFTWARE" "$out/MB/$hbi/$an"
"${CROSS}objcopy" -O binary "$elf" "$out/SOFTWARE/$IMAGE"
chmod 644 "$out/SOFTWARE/$IMAGE"
size=$(stat -c %s "$out/SOFTWARE/$IMAGE")
# The image's first words are the vector table: initial SP, then Reset_Handler.
reset=$("${CROSS}nm" "$elf" | awk '$3 == "Reset_Handler" { print $1 }')
vec1=$(od -An -tx4 -j4 -N4 "$out/SOFTWARE/$IMAGE" | tr -d ' ')
if ((16#$vec1 != (16#$reset | 1))); then
    echo "dist.sh: $IMAGE does not start with the vector table (reset vector $vec1," \
         "Reset_Handler $reset)" >&2
    exit 1
fi

# DOS line ends, as the MCC's own files have them.
{
    echo "TITLE: Versatile Express Images Configuration File"
    echo
    echo "; tcp-endpoint ${version:-(unknown version)} for $board, from make dist"
    echo "[IMAGES]"
    echo "TOTALIMAGES: 1                      ;Number of Images (Max: 32)"
    echo
    echo "IMAGE0ADDRESS: $addr           ;Address to load into (ZBT SSRAM1)"
    echo "IMAGE0FILE: \\SOFTWARE\\$IMAGE       ;Image to load ($size bytes)"
} | sed 's/$/\r/' >"$out/MB/$hbi/$an/images.txt"

echo "dist: $out/SOFTWARE/$IMAGE ($size bytes, load at $addr)"
echo "dist: $out/MB/$hbi/$an/images.txt"
