#!/bin/sh
# Print a MAC address aa:bb:cc:dd:ee:ff as a C initializer list, or fail.
mac="$1"
echo "$mac" | grep -Eq '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' || { echo "bad MAC address '$mac' (want aa:bb:cc:dd:ee:ff)" >&2; exit 1; }
first=$(printf '%d' "0x${mac%%:*}")
[ $((first & 1)) -eq 0 ] || { echo "bad MAC address '$mac' (multicast bit set)" >&2; exit 1; }
echo "$mac" | sed 's/^/0x/; s/:/,0x/g'
