# gdb commands for the firmware (loaded by tools/debug.sh; by hand:
# `source tools/gdb/fw.gdb` after `file build/firmware.elf`).
#
#   fw-conns   the TCP connection table: id, state, local and remote
#              address:port, snd_una, snd_nxt, rcv_nxt, tx_len, timer; then
#              the listening ports
#   fw-stats   the stack's counters by name (struct net_stats), then the
#              LAN9118 driver's (struct lan9118_stats, as eth_<name>)
#   fw-reset   reset the board under QEMU (monitor system_reset) and show
#              where it stopped: at Reset_Handler, as at the start
#
# Both read the stack instance `stack` and the NIC state `eth`, the static
# variables of firmware/app/main.c, through the ELF's debug information:
# field names, the table size and the state names (enum tcp_state) come
# from there, so they follow the source without edits here. Sequence
# numbers are absolute (the console's netstat shows them relative to the
# ISNs it saw). The target must be stopped (Ctrl-C, a breakpoint).

python
import gdb


def _fw_static(name):
    """The file-static variable `name` of firmware/app/main.c."""
    sym = None
    try:
        sym = gdb.lookup_static_symbol(name)  # GDB >= 10
    except AttributeError:
        pass
    if sym is not None:
        return sym.value()
    return gdb.parse_and_eval("'main.c'::%s" % name)


def _fw_ip(v):
    """Dotted quad of an address held in host byte order."""
    v = int(v) & 0xFFFFFFFF
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def _fw_state_name(n):
    """RFC 9293 name of a tcp_conn.state byte, from enum tcp_state."""
    try:
        st = gdb.lookup_type("enum tcp_state")
        for f in st.fields():
            if f.enumval == n and f.name.startswith("TCP_") and f.name != "TCP_NUM_STATES":
                return f.name[4:].replace("_", "-")
    except gdb.error:
        pass
    return "?%d" % n


def _fw_len(arr):
    lo, hi = arr.type.range()
    return hi - lo + 1


class FwConns(gdb.Command):
    """Print the firmware's TCP connection table (struct net_stack stack.conn[]).

One line per connection not CLOSED: id, state, local ip:port, remote ip:port,
snd_una, snd_nxt, rcv_nxt (absolute), tx_len (bytes queued from snd_una),
timer (retransmit/persist/TIME-WAIT countdown in TCP ticks, 0 = off), and
nrtx (retransmissions). Then the listening ports."""

    def __init__(self):
        super().__init__("fw-conns", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        s = _fw_static("stack")
        lip = _fw_ip(s["cfg"]["ip"])
        conns = s["conn"]
        n = _fw_len(conns)
        rows = []
        for i in range(n):
            c = conns[i]
            state = int(c["state"])
            if state == 0:  # TCP_CLOSED: a free slot
                continue
            rows.append("%-2d %-12s %-21s %-21s %10d %10d %10d %6d %5d %4d" % (
                i, _fw_state_name(state), "%s:%d" % (lip, int(c["lport"])),
                "%s:%d" % (_fw_ip(c["rip"]), int(c["rport"])), int(c["snd_una"]),
                int(c["snd_nxt"]), int(c["rcv_nxt"]), int(c["tx_len"]), int(c["timer"]),
                int(c["nrtx"])))
        print("%d of %d connection slots in use" % (len(rows), n))
        if rows:
            print("%-2s %-12s %-21s %-21s %10s %10s %10s %6s %5s %4s" % (
                "id", "state", "local", "remote", "snd_una", "snd_nxt", "rcv_nxt",
                "tx_len", "timer", "nrtx"))
            for r in rows:
                print(r)
        lst = s["lst"]
        ports = [int(lst[i]["port"]) for i in range(_fw_len(lst)) if int(lst[i]["port"])]
        print("listening on %s: %s" % (lip, " ".join(str(p) for p in ports) or "none"))


class FwStats(gdb.Command):
    """Print the firmware's counters by name: struct net_stats (stack.stats),
then the LAN9118 driver's (eth.stats) as eth_<name>."""

    def __init__(self):
        super().__init__("fw-stats", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        groups = [("", _fw_static("stack")["stats"])]
        try:
            groups.append(("eth_", _fw_static("eth")["stats"]))
        except gdb.error:
            pass
        for prefix, st in groups:
            for f in st.type.strip_typedefs().fields():
                print("%s%s %d" % (prefix, f.name, int(st[f.name])))


FwConns()
FwStats()
end

define fw-reset
  monitor system_reset
  # QEMU resets the CPU behind gdb's back: drop the cached registers.
  maintenance flush register-cache
  frame
end
document fw-reset
Reset the emulated board (QEMU's system_reset) and stop at Reset_Handler.
end
