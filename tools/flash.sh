#!/bin/bash
# `make flash MPS2_MOUNT=<path>`: install the tree from `make dist` on a
# V2M-MPS2 / MPS2+ board's USB mass-storage volume (its microSD card, label
# V2M_MPS2), where the Motherboard Configuration Controller (MCC) reads it at
# the next power-on or reset (docs/flashing.md).
#
#   tools/flash.sh <dist dir> <mount point> <AN, e.g. AN385>
#
# Refuses unless the mount point looks like an MPS2 volume: config.txt and
# MB/ at its top, and the application note's images.txt under
# MB/HBI0263<rev>/<AN>/ (the FPGA image must already be on the card: we
# install software, not FPGA images). Then:
#   - copies SOFTWARE/TCPFW.BIN,
#   - keeps the card's images.txt as images.bak (once: an older backup, the
#     original, is never overwritten) and writes ours in its place, in every
#     MB/HBI0263*/<AN>/ folder there is (the MCC reads its own board's),
#   - warns when config.txt does not say AUTORUN: TRUE (without it the MCC
#     may not start the image by itself at power-on),
#   - syncs. Eject the volume and reset or power-cycle the board after.
# Names on the card are matched without regard to case (FAT).
set -euo pipefail

IMAGE=TCPFW.BIN

if (($# != 3)); then
    echo "usage: $0 <dist dir> <mount point of the board's USB volume> <AN, e.g. AN385>" >&2
    exit 2
fi
dist=$1 mnt=${2%/} an=$3
die() { echo "flash.sh: $*" >&2; exit 1; }

if [[ -z $mnt ]]; then
    die "say where the board's USB volume is mounted: make flash MPS2_MOUNT=/media/\$USER/V2M_MPS2" \
        "(or copy build/mps2-sd/ by hand: docs/flashing.md)"
fi
src_img=$dist/SOFTWARE/$IMAGE
src_txt=$(find "$dist/MB" -mindepth 3 -maxdepth 3 -path "*/$an/images.txt" 2>/dev/null | head -n1)
[[ -f $src_img && -n $src_txt ]] || die "no $an tree in $dist (make dist)"
[[ -d $mnt ]] || die "$mnt is not a directory (is the board's volume mounted?)"

# Entries of directory $1 named $2 (any case), of find type $3.
entry() { find "$1" -mindepth 1 -maxdepth 1 -iname "$2" -type "$3" -print -quit 2>/dev/null; }

config=$(entry "$mnt" config.txt f)
mb=$(entry "$mnt" MB d)
if [[ -z $config || -z $mb ]]; then
    die "refusing: $mnt does not look like an MPS2 board's volume (want config.txt and MB/" \
        "at its top; found:$(ls -A "$mnt" 2>/dev/null | head -n 8 | tr '\n' ' ' | sed 's/^/ /')). Nothing written."
fi
targets=()
while IFS= read -r -d '' t; do targets+=("$t"); done < <(
    find "$mb" -mindepth 3 -maxdepth 3 -ipath "$mb/HBI0263*/$an/images.txt" -type f -print0 2>/dev/null)
if ((${#targets[@]} == 0)); then
    die "refusing: no MB/HBI0263*/$an/images.txt on $mnt: the $an FPGA image is not installed" \
        "on this card (get it from Arm's V2M-MPS2 $an bundle first). Nothing written."
fi
for t in "${targets[@]}"; do
    [[ -w $t ]] || die "cannot write $t (read-only mount?). Nothing written."
done

software=$(entry "$mnt" SOFTWARE d)
if [[ -z $software ]]; then
    software=$mnt/SOFTWARE
    mkdir "$software"
fi
# Replace any file of that name whatever its case, so exactly one remains.
old=$(entry "$software" "$IMAGE" f)
[[ -n $old ]] && rm -f "$old"
cp "$src_img" "$software/$IMAGE"
echo "flash: $software/$IMAGE ($(stat -c %s "$src_img") bytes)"
for t in "${targets[@]}"; do
    d=$(dirname "$t")
    if [[ -z $(entry "$d" images.bak f) ]]; then
        cp "$t" "$d/images.bak"
        echo "flash: kept the card's $(basename "$t") as $d/images.bak"
    fi
    cp "$src_txt" "$t"
    echo "flash: $t -> $(tr -d '\r' <"$src_txt" | grep '^IMAGE0FILE' | cut -d';' -f1 | sed 's/ *$//')"
done
if ! tr -d '\r' <"$config" | grep -Eiq '^[[:space:]]*AUTORUN:[[:space:]]*TRUE'; then
    echo "flash: WARNING: $config does not set AUTORUN: TRUE: the MCC may not load and start" \
         "the image by itself at power-on; set AUTORUN: TRUE there (docs/flashing.md)" >&2
fi
sync
echo "flash: done. Eject the volume (e.g. umount $mnt), then reset or power-cycle the board."
echo "flash: console: the board's USB serial port, 115200 8N1 (docs/flashing.md)"
