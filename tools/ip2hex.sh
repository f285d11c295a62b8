#!/bin/sh
# Print a dotted-quad IPv4 address as 0xXXXXXXXX, or fail with a clear message.
# Used by the Makefile to turn IP=, NETMASK= and GATEWAY= into C constants.
addr="$1"
case "$addr" in
    *[!0-9.]* | "" | .* | *. | *..*) echo "bad IPv4 address '$addr' (want a.b.c.d)" >&2; exit 1 ;;
esac
old_ifs=$IFS; IFS=.
set -- $addr
IFS=$old_ifs
[ $# -eq 4 ] || { echo "bad IPv4 address '$addr' (want four numbers)" >&2; exit 1; }
for part in "$@"; do
    [ ${#part} -le 3 ] && [ "$part" -le 255 ] || { echo "bad IPv4 address '$addr' ($part > 255)" >&2; exit 1; }
done
printf '0x%02X%02X%02X%02Xu\n' "$1" "$2" "$3" "$4"
