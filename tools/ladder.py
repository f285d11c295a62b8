#!/usr/bin/python3
"""ladder: draw a TCP connection of a capture as a ladder (sequence) diagram.

    tools/ladder.py CAPTURE [--conn N | --port P] [--out PREFIX] [--title T]
                    [--format svg,png] [--fw-ip IP] [--max-segments N]
                    [--from-frame F] [--zoom Z] [--all] [--list] [--text]

The host is on the left, the firmware (--fw-ip, default 192.168.7.2) on the
right, time goes down (each arrow a row, slanted; the time column gives the
capture's times, and a pause of 50 ms or more is marked). One arrow per TCP
segment, labelled with its flags (SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK,
RST...), its sequence and acknowledgement numbers relative to each side's
ISN (as Wireshark shows them) and its payload length; a retransmission is
dashed. Beside each lifeline, in that side's colour, its RFC 9293 state
where it changes.

The states are not in the capture: a small tracker replays RFC 9293 3.10 for
each endpoint from the segments it sends and receives (docs/tcp-states.md):
sending SYN: CLOSED -> SYN-SENT; sending SYN-ACK: LISTEN -> SYN-RECEIVED;
receiving the SYN-ACK: SYN-SENT -> ESTABLISHED (a bare SYN: SYN-RECEIVED,
simultaneous open); the ACK of our SYN: SYN-RECEIVED -> ESTABLISHED; sending
FIN: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK; the ACK of our FIN:
FIN-WAIT-1 -> FIN-WAIT-2, CLOSING -> TIME-WAIT, LAST-ACK -> CLOSED; the
peer's FIN (in order): ESTABLISHED -> CLOSE-WAIT, FIN-WAIT-1 -> CLOSING
(simultaneous close) or TIME-WAIT (when it also ACKs our FIN),
FIN-WAIT-2 -> TIME-WAIT; an acceptable RST: CLOSED (LISTEN for a passive
SYN-RECEIVED). The side answering the first SYN starts in LISTEN if it
answers with a SYN-ACK, else in CLOSED. A capture that starts after the
handshake starts both sides in ESTABLISHED. A sender's change is drawn where
its arrow leaves, a receiver's where the arrow arrives. TIME-WAIT ends
2*MSL later, after any capture: drawn as a note.

Crossing segments: a capture is taken at one point, so a SYN or FIN is
taken to reach its receiver only after the receiver's next segment when
that segment does not acknowledge it (the two FINs of a simultaneous close;
the echo sent while the peer's FIN was on its way). The receiver's state
changes after that segment, and when the two are consecutive they are drawn
as an X.

Connections: segments are grouped by their two endpoints; a new SYN with
another ISN on the same pair starts a new connection. They are numbered from
0 in the order of their first segment (like Wireshark's tcp.stream).
--list prints them. By default every connection is drawn (up to 20, more
with --all), each to its own files: PREFIX-N.svg and PREFIX-N.png; with
--conn, or --port picking one connection, or a capture holding just one,
PREFIX.svg and PREFIX.png. PREFIX defaults to the capture's path without its
extension. A long connection is cut after --max-segments (150); --from-frame
draws a later part (the states are still replayed from the start).

--text prints the ladder as text (one line per segment and per state change)
instead of drawing. The SVG is written by hand; PNG comes from rsvg-convert
(Debian's librsvg2-bin, installed by `make deps`). Captures are read with
scapy (python3-scapy): pcap or pcapng, Ethernet, Linux cooked or raw IP.
Run with Debian's /usr/bin/python3. Exit 0 on success, 1 when nothing
matched or a file could not be written or converted, 2 on usage errors.

Examples:
    tools/ladder.py build/captures/test_tcp_e2e.pcap --list
    tools/ladder.py build/demo.pcap --conn 0 --out build/demo-echo
    tools/ladder.py capture.pcap --port 7 --text
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
from xml.sax.saxutils import escape

FW_IP = "192.168.7.2"
MAX_FILES = 20          # connections drawn at once without --all

# RFC 9293 states
CLOSED = "CLOSED"
LISTEN = "LISTEN"
SYN_SENT = "SYN-SENT"
SYN_RECEIVED = "SYN-RECEIVED"
ESTABLISHED = "ESTABLISHED"
FIN_WAIT_1 = "FIN-WAIT-1"
FIN_WAIT_2 = "FIN-WAIT-2"
CLOSE_WAIT = "CLOSE-WAIT"
CLOSING = "CLOSING"
LAST_ACK = "LAST-ACK"
TIME_WAIT = "TIME-WAIT"

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
# Order of the names in a label: SYN-ACK, FIN-ACK, PSH-ACK, FIN-PSH-ACK, RST-ACK...
FLAG_NAMES = [("SYN", SYN), ("FIN", FIN), ("RST", RST), ("PSH", PSH), ("URG", URG),
              ("ACK", ACK), ("ECE", ECE), ("CWR", CWR)]

M32 = 0xFFFFFFFF


def seq_lt(a, b):
    """a < b in sequence space (mod 2**32)."""
    return (a - b) & M32 > 0x7FFFFFFF


def seq_le(a, b):
    return a == b or seq_lt(a, b)


def flag_names(flags):
    """'SYN-ACK', 'PSH-ACK', 'FIN-ACK', 'RST'... ('none' for no flag)."""
    return "-".join(n for n, b in FLAG_NAMES if flags & b) or "none"


# --------------------------------------------------------------------------
# Reading a capture


class Seg:
    """One TCP segment of a capture. `i`: frame number (1 = first frame, as
    Wireshark counts), `t`: timestamp (s), `plen`: payload bytes."""
    __slots__ = ("i", "t", "src", "sport", "dst", "dport", "seq", "ack", "flags", "wnd", "plen")

    def __init__(self, i, t, src, sport, dst, dport, seq, ack, flags, wnd=65535, plen=0):
        self.i, self.t = i, t
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.seq, self.ack, self.flags, self.wnd, self.plen = seq, ack, flags, wnd, plen

    syn = property(lambda s: bool(s.flags & SYN))
    fin = property(lambda s: bool(s.flags & FIN))
    rst = property(lambda s: bool(s.flags & RST))
    has_ack = property(lambda s: bool(s.flags & ACK))
    sender = property(lambda s: (s.src, s.sport))
    receiver = property(lambda s: (s.dst, s.dport))

    def seglen(self):
        """Sequence space it takes: payload + SYN + FIN."""
        return self.plen + self.syn + self.fin

    def __repr__(self):
        return "#%d %s:%d>%s:%d %s seq=%d ack=%d len=%d" % (
            self.i, self.src, self.sport, self.dst, self.dport, flag_names(self.flags),
            self.seq, self.ack, self.plen)


def read_segments(path):
    """The TCP-over-IPv4 segments of a pcap/pcapng file, in capture order.
    A truncated last record (a capture still being written) is ignored."""
    try:
        from scapy.layers.inet import IP, TCP
        from scapy.utils import PcapReader
    except ImportError:
        raise SystemExit("ladder: python3-scapy is not installed (make deps)")
    segs = []
    try:
        reader = PcapReader(path)
    except Exception as e:  # noqa: BLE001 - scapy raises several kinds
        raise SystemExit("ladder: cannot read %s: %s" % (path, e))
    with reader:
        i = 0
        while True:
            try:
                pkt = reader.read_packet()
            except EOFError:
                break
            except Exception:  # noqa: BLE001 - a truncated or damaged tail
                break
            if pkt is None:
                break
            i += 1
            if IP not in pkt or TCP not in pkt:
                continue
            ip, tcp = pkt[IP], pkt[TCP]
            if ip.frag or ip.flags.MF:
                continue
            # payload length from the IP header (Ethernet padding excluded)
            plen = max(0, ip.len - ip.ihl * 4 - tcp.dataofs * 4)
            segs.append(Seg(i, float(pkt.time), ip.src, tcp.sport, ip.dst, tcp.dport,
                            tcp.seq, tcp.ack, int(tcp.flags), tcp.window, plen))
    return segs


# --------------------------------------------------------------------------
# Connections


class Conn:
    """The segments of one TCP connection. `left` is the host's endpoint,
    `right` the firmware's ((ip, port) each)."""

    def __init__(self, index, segs, left, right):
        self.index, self.segs, self.left, self.right = index, segs, left, right

    def describe(self):
        return "%s:%d <-> %s:%d" % (self.left + self.right)


def split_connections(segs, fw_ip=FW_IP):
    """Group segments into connections (see the module doc); returns [Conn]."""
    current = {}   # endpoint pair -> [segs]
    groups = []
    for s in segs:
        key = tuple(sorted([s.sender, s.receiver]))
        g = current.get(key)
        if g is not None and s.syn and not s.has_ack:
            # a SYN: the same connection if it repeats this side's SYN, or is
            # the other side's (simultaneous open) before anything else happened
            old = [x.seq for x in g if x.syn and not x.has_ack and x.sender == s.sender]
            if old:
                new = old[0] != s.seq
            else:
                new = any(x.fin or x.rst or x.plen or (x.has_ack and not x.syn) for x in g)
            if new:
                g = None
        if g is None:
            g = []
            current[key] = g
            groups.append(g)
        g.append(s)
    conns = []
    for n, g in enumerate(groups):
        a, b = g[0].sender, g[0].receiver
        syn = next((x for x in g if x.syn and not x.has_ack), None)
        if syn is not None:
            a, b = syn.sender, syn.receiver      # initiator first
        if a[0] == fw_ip and b[0] != fw_ip:
            a, b = b, a     # the firmware on the right, else the initiator on the left
        conns.append(Conn(n, g, a, b))
    return conns


# --------------------------------------------------------------------------
# The RFC 9293 state tracker


class Side:
    """What the tracker knows of one endpoint."""

    def __init__(self, ep, state):
        self.ep = ep
        self.state = state
        self.passive = False    # left LISTEN (a SYN-RECEIVED that came from LISTEN)
        self.iss = None         # our ISN
        self.irs = None         # the peer's ISN
        self.snd_nxt = None     # highest sequence number sent + 1
        self.rcv_nxt = None     # next in-order sequence number from the peer
        self.fin_seq = None     # sequence number of our FIN
        self.sent_synack = False


class Event:
    """A state change: segment k (index into conn.segs) changed side ('L'
    or 'R') from `old` to `new`, `at` 'send' (its sender, at the arrow's
    start) or 'recv' (its receiver, at the arrow's end)."""
    __slots__ = ("k", "side", "at", "old", "new")

    def __init__(self, k, side, at, old, new):
        self.k, self.side, self.at, self.old, self.new = k, side, at, old, new

    def __repr__(self):
        return "Event(%d, %s, %s, %s -> %s)" % (self.k, self.side, self.at, self.old, self.new)


class Tracker:
    """Replays a connection through an RFC 9293 state machine per endpoint.

    After run(): `events` ([Event], in order), `initial` {'L': state, 'R':
    state}, `final` likewise, `retrans` (set of segment indexes that resend
    sequence space already sent), `base` {endpoint: sequence base for
    relative numbers}, `midstream` (no SYN at the start of the capture).
    """

    def __init__(self, conn):
        self.conn = conn
        self.segs = conn.segs
        self.events = []
        self.retrans = set()
        self.base = {}
        self.midstream = False
        self.sides = {}
        self.initial = {}
        self.final = {}
        self.cross = {}         # k -> j: segment k reached its receiver after it sent j
        self.isn = {}           # endpoint -> ISN, for those whose SYN is in the capture

    # -- helpers --

    def side_of(self, ep):
        return "L" if ep == self.conn.left else "R"

    def _set(self, side, new, path):
        if side.state != new:
            path.append(new)
            side.state = new

    def _later_sends(self, k, ep):
        """Does ep send anything but RST after segment k?"""
        return any(s.sender == ep and not s.rst for s in self.segs[k + 1:])

    # -- the run --

    def run(self):
        segs = self.segs
        left, right = self.conn.left, self.conn.right
        first = segs[0]
        init = {left: CLOSED, right: CLOSED}
        if first.syn and not first.has_ack:
            a, b = first.sender, first.receiver
            # b listens if it answers a SYN with a SYN-ACK, unless it opened too
            b_syn = any(s.sender == b and s.syn and not s.has_ack for s in segs)
            b_synack = any(s.sender == b and s.syn and s.has_ack for s in segs)
            init[a] = CLOSED
            init[b] = LISTEN if (b_synack and not b_syn) else CLOSED
        elif first.syn and first.has_ack:
            init[first.sender] = LISTEN
            init[first.receiver] = SYN_SENT
        else:
            init[left] = init[right] = ESTABLISHED
            self.midstream = True
        self.sides = {ep: Side(ep, init[ep]) for ep in (left, right)}
        self.initial = {self.side_of(ep): st for ep, st in init.items()}

        # Sequence bases for relative numbers, as Wireshark: the ISN, or the
        # first sequence number seen minus one without a SYN.
        for ep in (left, right):
            own = [s for s in segs if s.sender == ep]
            syn = next((s for s in own if s.syn), None)
            if syn is not None:
                self.base[ep] = self.isn[ep] = syn.seq
            elif own and self.midstream:
                self.base[ep] = (own[0].seq - 1) & M32
            elif own:
                self.base[ep] = 0       # e.g. a RST answering a SYN: absolute
            side = self.sides[ep]
            if self.midstream and own:
                side.iss = self.base[ep]
                side.snd_nxt = own[0].seq
        if self.midstream:
            for ep in (left, right):
                other = right if ep == left else left
                if other in self.base:
                    peer_first = next(s for s in segs if s.sender == other)
                    self.sides[ep].irs = self.base[other]
                    self.sides[ep].rcv_nxt = peer_first.seq

        # Segments that crossed one of the receiver's on the wire: it gets
        # them only after sending that one (see crossed_by()).
        deferred = {}
        for k in range(len(segs)):
            j = self.crossed_by(k)
            if j is not None:
                self.cross[k] = j
                deferred.setdefault(j, []).append(k)

        for k, s in enumerate(segs):
            snd = self.sides[s.sender]
            old = snd.state
            path = []
            self._on_send(k, s, snd, path)
            if path:
                self.events.append(Event(k, self.side_of(s.sender), "send", old, snd.state))
            for d in deferred.get(k, []) + ([] if k in self.cross else [k]):
                rcv = self.sides[segs[d].receiver]
                old = rcv.state
                path = []
                self._on_recv(d, segs[d], rcv, path)
                if path:
                    self.events.append(Event(d, self.side_of(segs[d].receiver), "recv", old,
                                             rcv.state))
        self.final = {self.side_of(ep): sd.state for ep, sd in self.sides.items()}
        return self

    def crossed_by(self, k):
        """The index of the receiver's segment that segment k crossed, or None.

        A capture is taken at one point, so it cannot tell directly whether
        the receiver had segment k when it sent its next segment. Its ACK
        field can: an endpoint always acknowledges everything it has taken in
        order, so if k carries a SYN or FIN and the receiver's next segment
        does not acknowledge it, that segment left before k arrived (e.g.
        the two FINs of a simultaneous close, or data echoed while the
        peer's FIN was on its way)."""
        s = self.segs[k]
        if s.rst or not (s.syn or s.fin):
            return None
        for j in range(k + 1, len(self.segs)):
            t = self.segs[j]
            if t.sender == s.receiver:
                if t.rst:
                    return None
                if not t.has_ack or seq_lt(t.ack, (s.seq + s.seglen()) & M32):
                    return j
                return None
        return None

    def _on_send(self, k, s, side, path):
        """Changes caused by sending s (the application's OPEN, CLOSE, ABORT)."""
        end = (s.seq + s.seglen()) & M32
        if side.snd_nxt is not None and s.seglen() and seq_lt(s.seq, side.snd_nxt):
            # (not the SYN-ACK that follows our SYN in a simultaneous open)
            if not (s.syn and s.has_ack and not side.sent_synack):
                self.retrans.add(k)
        if s.syn and s.has_ack:
            side.sent_synack = True
        if side.snd_nxt is None or seq_lt(side.snd_nxt, end):
            side.snd_nxt = end
        if s.syn:
            side.iss = s.seq
        if s.rst:
            if side.state not in (LISTEN, CLOSED):
                self._set(side, CLOSED, path)
            return
        if s.syn and not s.has_ack:
            if side.state in (CLOSED, LISTEN, TIME_WAIT):
                self._set(side, SYN_SENT, path)
        elif s.syn:
            if side.state in (LISTEN, CLOSED, TIME_WAIT):
                side.passive = side.state != CLOSED
                self._set(side, SYN_RECEIVED, path)
        if s.fin:
            side.fin_seq = (s.seq + s.syn + s.plen) & M32
            if side.state in (ESTABLISHED, SYN_RECEIVED):
                self._set(side, FIN_WAIT_1, path)
            elif side.state == CLOSE_WAIT:
                self._set(side, LAST_ACK, path)

    def _on_recv(self, k, s, side, path):
        """Changes caused by receiving s (RFC 9293 3.10.7, in its order)."""
        st = side.state
        if st == CLOSED:
            return
        if st == LISTEN:
            if s.syn and not s.has_ack and not s.rst:
                side.irs = s.seq
                side.rcv_nxt = (s.seq + 1) & M32
                # -> SYN-RECEIVED when it sends its SYN-ACK
            return
        if st == SYN_SENT:
            acks_syn = s.has_ack and side.iss is not None and s.ack == (side.iss + 1) & M32
            if s.rst:
                if acks_syn:
                    self._set(side, CLOSED, path)
                return
            if s.syn:
                side.irs = s.seq
                side.rcv_nxt = (s.seq + 1) & M32
                if acks_syn:
                    self._set(side, ESTABLISHED, path)
                elif not s.has_ack:
                    self._set(side, SYN_RECEIVED, path)    # simultaneous open
            return
        # Synchronized states (and SYN-RECEIVED).
        if s.rst:
            exact = side.rcv_nxt is None or s.seq == side.rcv_nxt
            # RFC 5961: a RST not at RCV.NXT gets a challenge ACK; unless
            # the receiver says nothing more, take it as accepted anyway
            # (an implementation without RFC 5961 takes any in-window RST).
            if exact or not self._later_sends(k, side.ep):
                self._set(side, LISTEN if (st == SYN_RECEIVED and side.passive) else CLOSED, path)
            return
        if s.syn:
            # The peer's SYN-ACK crossing ours in a simultaneous open (RFC
            # 9293 figure 8) completes it; any other SYN in a synchronized
            # state gets a challenge ACK and changes nothing.
            if st == SYN_RECEIVED and s.has_ack and side.iss is not None and \
                    s.ack == (side.iss + 1) & M32:
                self._set(side, ESTABLISHED, path)
            return
        if s.has_ack and side.iss is not None:
            if side.state == SYN_RECEIVED and seq_lt(side.iss, s.ack) and \
                    seq_le(s.ack, side.snd_nxt):
                self._set(side, ESTABLISHED, path)
            if side.fin_seq is not None and seq_lt(side.fin_seq, s.ack):
                if side.state == FIN_WAIT_1:
                    self._set(side, FIN_WAIT_2, path)
                elif side.state == CLOSING:
                    self._set(side, TIME_WAIT, path)
                elif side.state == LAST_ACK:
                    self._set(side, CLOSED, path)
                    return
        if side.state == SYN_RECEIVED:
            return      # no text or FIN before the handshake is done
        # Text and FIN: only in order (what the receiver can take).
        if side.rcv_nxt is None:
            side.rcv_nxt = s.seq
        data_end = (s.seq + s.plen) & M32
        if seq_le(s.seq, side.rcv_nxt) and seq_lt(side.rcv_nxt, data_end):
            side.rcv_nxt = data_end
        if s.fin and data_end == side.rcv_nxt:
            side.rcv_nxt = (data_end + 1) & M32
            nxt = {ESTABLISHED: CLOSE_WAIT, FIN_WAIT_1: CLOSING,
                   FIN_WAIT_2: TIME_WAIT}.get(side.state)
            if nxt:
                self._set(side, nxt, path)

    # -- what the diagram shows --

    def rel_seq(self, s):
        return (s.seq - self.base.get(s.sender, s.seq)) & M32

    def rel_ack(self, s):
        # absolute when the receiver sent nothing to be relative to
        return (s.ack - self.base.get(s.receiver, 0)) & M32

    def label(self, k):
        """The arrow's text: 'PSH-ACK seq=1 ack=1 len=16' (no ack= without
        ACK), ' retransmission' appended when it resends."""
        s = self.segs[k]
        text = "%s seq=%d" % (flag_names(s.flags), self.rel_seq(s))
        if s.has_ack:
            text += " ack=%d" % self.rel_ack(s)
        text += " len=%d" % s.plen
        if k in self.retrans:
            text += " (retransmission)"
        return text

    def states(self, side):
        """The states side ('L'/'R') went through: initial, then each change."""
        out = [self.initial[side]]
        out += [e.new for e in self.events if e.side == side]
        return out


def track(conn):
    return Tracker(conn).run()


# --------------------------------------------------------------------------
# Text output


def side_names(conn, fw_ip):
    """('host 192.168.7.1', 'firmware 192.168.7.2') or plain addresses."""
    def name(ep, word):
        return "%s %s" % (word, ep[0]) if word else ep[0]
    right = "firmware" if conn.right[0] == fw_ip else ""
    left = "host" if right else ""
    return name(conn.left, left), name(conn.right, right)


def text_ladder(tr, fw_ip=FW_IP):
    """The ladder as text: a line per segment (--> from the left, <-- from
    the right) and per state change, in the order they happened."""
    conn = tr.conn
    ln, rn = side_names(conn, fw_ip)
    out = ["connection %d: %s:%d (left) <-> %s:%d (right)" % (
        conn.index, ln, conn.left[1], rn, conn.right[1])]
    names = {"L": ln.split()[0], "R": rn.split()[0]}
    out.append(_text_state(names, "L", tr.initial["L"]))
    out.append(_text_state(names, "R", tr.initial["R"]))
    before, after = {}, {}
    for e in tr.events:
        if e.at == "send":
            before.setdefault(e.k, []).append(e)
        else:   # a crossing segment arrives after the one it crossed left
            after.setdefault(tr.cross.get(e.k, e.k), []).append(e)
    t0 = conn.segs[0].t
    for k, s in enumerate(conn.segs):
        for e in before.get(k, []):
            out.append(_text_state(names, e.side, "%s -> %s" % (e.old, e.new)))
        arrow = "-->" if s.sender == conn.left else "<--"
        note = ""
        if k in tr.cross:
            note = "  (crosses #%d)" % conn.segs[tr.cross[k]].i
        out.append("#%-4d %9.3f ms  %s %s%s" % (s.i, (s.t - t0) * 1e3, arrow, tr.label(k), note))
        for e in after.get(k, []):
            out.append(_text_state(names, e.side, "%s -> %s" % (e.old, e.new)))
    return "\n".join(out) + "\n"


def _text_state(names, side, what):
    if side == "L":
        return "  %s  %s" % (names["L"], what)
    return "%50s%s  %s" % ("", names["R"], what)


# --------------------------------------------------------------------------
# SVG

MONO = "DejaVu Sans Mono, monospace"
SANS = "DejaVu Sans, Arial, sans-serif"
MONO_W = 0.602          # DejaVu Sans Mono advance, in ems
SANS_W = 0.60           # a generous average for DejaVu Sans (header lines)
COL_L = "#1565c0"       # host: blue
COL_L_BG = "#e3effc"
COL_R = "#c2410c"       # firmware: orange-red
COL_R_BG = "#fdeee4"
INK = "#1a1a1a"
GREY = "#6b6b6b"

F_LABEL = 15            # arrow labels
F_STATE = 14            # state boxes
F_TIME = 13             # time column
F_HEAD = 16             # lifeline headers
F_TITLE = 20
ROW = 54                # vertical distance between two arrows
SLANT = 22              # how much lower an arrow ends than it starts
STATE_H = 24            # state box height
PAUSE = 0.05            # a gap of this many seconds between two segments is marked
PAUSE_H = 20            # with this much more room


def _w(text, size, em=MONO_W):
    return len(text) * size * em


class Svg:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, size, fill=INK, anchor="start", family=MONO, weight="normal",
             style="normal", extra=""):
        self.add('<text x="%.1f" y="%.1f" font-family="%s" font-size="%d" fill="%s" '
                 'text-anchor="%s" font-weight="%s" font-style="%s"%s>%s</text>'
                 % (x, y, family, size, fill, anchor, weight, style, extra, escape(s)))

    def line(self, x1, y1, x2, y2, stroke, width=1.5, extra=""):
        self.add('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>'
                 % (x1, y1, x2, y2, stroke, width, extra))

    def rect(self, x, y, w, h, fill, stroke="none", rx=4, width=1.2):
        self.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%d" fill="%s" '
                 'stroke="%s" stroke-width="%.1f"/>' % (x, y, w, h, rx, fill, stroke, width))


def fmt_time(dt):
    """Seconds since the connection's first segment, for the time column."""
    ms = dt * 1e3
    if ms < 10000:
        return "%.3f ms" % ms
    return "%.3f s" % dt


def fmt_gap(dt):
    if dt >= 1:
        return "%.2f s" % dt
    if dt >= 0.01:
        return "%.0f ms" % (dt * 1e3)
    return "%.1f ms" % (dt * 1e3)


def render_svg(tr, title=None, capture=None, fw_ip=FW_IP, max_segments=150, first=0):
    """The ladder of tr (a run Tracker) as an SVG document (str): segments
    first, first+1... of the connection, at most max_segments (0: all)."""
    conn = tr.conn
    lo = max(0, min(first, len(conn.segs) - 1))
    hi = min(len(conn.segs), lo + max_segments) if max_segments else len(conn.segs)
    segs = conn.segs[lo:hi]
    n = len(segs)
    ln, rn = side_names(conn, fw_ip)
    labels = [tr.label(lo + d) for d in range(n)]
    t0 = conn.segs[0].t
    frames = ["#%d" % s.i for s in segs]
    times = [fmt_time(s.t - t0) for s in segs]

    states = [CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2,
              CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT]
    state_w = max(_w(s, F_STATE) for s in states) + 18
    note_tw = "CLOSED after 2\u00d7MSL"
    state_col = max(state_w, _w(note_tw, F_TIME)) + 12
    frame_w = max(_w(f, F_TIME) for f in frames + ["frame"])
    time_w = frame_w + 14 + max(_w(t, F_TIME) for t in times + ["time"])
    label_w = max([_w(l, F_LABEL) for l in labels] + [0])
    span = max(560.0, label_w + 110)          # distance between the lifelines
    # Crossing pairs (segment k reached its receiver after that one sent
    # k+1) are drawn as an X, each label over its sender's half.
    # (indexes from here on are the window's: d = k - lo)
    cross = {}
    for k, j in sorted(tr.cross.items()):
        if j == k + 1 and lo <= k and j < hi and k - lo not in cross.values():
            cross[k - lo] = j - lo
    in_cross = set(cross) | set(cross.values())
    if in_cross:
        span = max(span, 2 * max(_w(labels[k], F_LABEL) for k in in_cross) + 90)
    margin = 24
    x_time = margin
    x_l = x_time + time_w + 16 + state_col
    x_r = x_l + span
    width = x_r + state_col + margin
    head_w = max(_w(ln, F_HEAD, SANS_W), _w(rn, F_HEAD, SANS_W)) + 28
    width = max(width, x_r + head_w / 2 + margin)
    if title is None:
        title = "TCP connection %d: %s:%d \u2194 %s:%d" % (
            conn.index, ln, conn.left[1], rn, conn.right[1])
    width = max(width, _w(title, F_TITLE, SANS_W) + 2 * margin)

    sub = []
    if capture:
        sub.append(os.path.basename(capture))
    if n == 1:
        sub.append("frame %d" % segs[0].i)
    else:
        sub.append("frames %d\u2013%d" % (segs[0].i, segs[-1].i))
    sub.append("%d segment%s" % (len(conn.segs), "" if len(conn.segs) == 1 else "s"))
    sub.append("%s" % fmt_time(conn.segs[-1].t - t0))
    subtitle = ", ".join(sub)

    y_title = margin + F_TITLE
    y_sub = y_title + 24
    y_head = y_sub + 20                       # header boxes' top
    head_h = 50
    y_init = y_head + head_h + 28             # initial states
    y0 = y_init + STATE_H / 2 + 34            # first arrow starts here
    # where each arrow starts: a row each, and a little more after a pause
    ys_of, extra = [], 0.0
    for k, s in enumerate(segs):
        if k and s.t - segs[k - 1].t >= PAUSE:
            extra += PAUSE_H
        if k >= 2 and k - 2 in cross:
            extra += ROW      # room for the end of the X's steeper arrow
        ys_of.append(y0 + k * ROW + extra)
    # where each arrow ends
    ye_of = [y + SLANT for y in ys_of]
    for k, j in cross.items():
        ye_of[k] = ys_of[k] + 2 * (ys_of[j] - ys_of[k]) + SLANT
    y_last = max(ye_of)
    y_end = y_last + 40                       # lifelines end
    foot = []
    if lo:
        foot.append("\u2026 %d earlier segments not drawn (--from-frame); the states at the "
                    "top are those after them" % lo)
    if hi < len(conn.segs):
        foot.append("\u2026 %d more segments not drawn (--max-segments)" % (len(conn.segs) - hi))
    isn = []
    for ep, nm in ((conn.left, ln.split()[0]), (conn.right, rn.split()[0])):
        if ep not in tr.base:
            continue
        if tr.midstream:
            isn.append("%s's first seq %d = 1" % (nm, (tr.base[ep] + 1) & M32))
        elif ep in tr.isn:
            isn.append("%s ISN %d" % (nm, tr.isn[ep]))
        else:
            isn.append("%s sent no SYN: its numbers are absolute" % nm)
    if tr.midstream:
        foot.append("the capture starts after the handshake: seq/ack relative to the first "
                    "seen (%s)" % ", ".join(isn))
    else:
        foot.append("seq/ack relative to each side's ISN (%s)" % ", ".join(isn))
    foot.append("states: RFC 9293, replayed from the segments in the capture")
    y_foot = y_end + 30 + (STATE_H if any(v == TIME_WAIT for v in tr.final.values()) else 0)
    height = y_foot + 20 * (len(foot) - 1) + margin

    svg = Svg()
    svg.add('<?xml version="1.0" encoding="UTF-8"?>')
    svg.add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
            % (math.ceil(width), math.ceil(height), math.ceil(width), math.ceil(height)))
    svg.add('<title>%s</title>' % escape(title))
    svg.add('<defs>')
    for name, col in (("L", COL_L), ("R", COL_R)):
        svg.add('<marker id="head%s" viewBox="0 0 12 10" refX="12" refY="5" markerWidth="12" '
                'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
                '<path d="M0,0 L12,5 L0,10 z" fill="%s"/></marker>' % (name, col))
    svg.add('</defs>')
    svg.rect(0, 0, width, height, "#ffffff", rx=0)
    svg.text(width / 2, y_title, title, F_TITLE, anchor="middle", family=SANS, weight="bold")
    svg.text(width / 2, y_sub, subtitle, F_TIME, fill=GREY, anchor="middle", family=SANS)

    # lifelines and their headers
    for x, nm, ep, col, bg in ((x_l, ln, conn.left, COL_L, COL_L_BG),
                               (x_r, rn, conn.right, COL_R, COL_R_BG)):
        svg.line(x, y_head + head_h, x, y_end, "#444444", 2)
        w = max(_w(nm, F_HEAD, SANS_W), _w("port %d" % ep[1], F_HEAD, SANS_W)) + 28
        svg.rect(x - w / 2, y_head, w, head_h, bg, col, rx=6, width=2)
        svg.text(x, y_head + 21, nm, F_HEAD, fill=INK, anchor="middle", family=SANS, weight="bold")
        svg.text(x, y_head + 41, "port %d" % ep[1], F_HEAD - 2, fill=GREY, anchor="middle",
                 family=SANS)
    x_frame_end, x_time_end = x_time + frame_w, x_time + time_w
    svg.text(x_frame_end, y_init + 5, "frame", F_TIME, fill=GREY, anchor="end", family=SANS)
    svg.text(x_time_end, y_init + 5, "time", F_TIME, fill=GREY, anchor="end", family=SANS)

    # state boxes: (y wanted, side, text); pushed down so that none overlap
    start = dict(tr.initial)
    boxes = []
    for e in tr.events:
        # the segment after which the change happened
        pos = tr.cross.get(e.k, e.k) if e.at == "recv" else e.k
        if pos < lo:
            start[e.side] = e.new
            continue
        if pos >= hi:
            continue
        d = e.k - lo
        if e.at == "send":
            y = ys_of[d]
        elif e.k in tr.cross and d not in cross:
            y = ys_of[pos - lo] + 6    # got it after sending that one
        else:
            y = ye_of[d]
        boxes.append((y, e.side, e.new))
    boxes = [(y_init, "L", start["L"]), (y_init, "R", start["R"])] + boxes
    last_bottom = {"L": -1e9, "R": -1e9}
    placed = []
    for y, side, st in sorted(boxes, key=lambda b: b[0]):
        top = max(y - STATE_H / 2, last_bottom[side] + 4)
        last_bottom[side] = top + STATE_H
        placed.append((y, top, side, st))

    # arrows and their labels
    for k, s in enumerate(segs):
        ys, yr = ys_of[k], ye_of[k]
        gk = lo + k     # the segment's index in the connection
        if s.sender == conn.left:
            x1, x2, col, side = x_l, x_r, COL_L, "L"
        else:
            x1, x2, col, side = x_r, x_l, COL_R, "R"
        dash = ' stroke-dasharray="8,5"' if gk in tr.retrans else ""
        svg.line(x1, ys, x2, yr, col, 2.2 if not s.rst else 3,
                 ' marker-end="url(#head%s)"%s' % (side, dash))
        # label above the arrow's middle, along it, read left to right
        # where the label sits along the arrow: the middle, or near the
        # sender in an X (clear of its lifeline, short of the crossing)
        u = (_w(labels[k], F_LABEL) / 2 + 28) / span if k in in_cross else 0.5
        mx, my = x1 + (x2 - x1) * u, ys + (yr - ys) * u
        ang = math.degrees(math.atan2(yr - ys, x2 - x1))
        if ang > 90:
            ang -= 180
        elif ang < -90:
            ang += 180
        lab = labels[k]
        flags, rest = (lab.split(" ", 1) + [""])[:2]
        svg.add('<text x="%.1f" y="%.1f" font-family="%s" font-size="%d" fill="%s" '
                'text-anchor="middle" transform="rotate(%.2f %.1f %.1f)">'
                '<tspan font-weight="bold" fill="%s">%s</tspan> %s</text>'
                % (mx, my - 7, MONO, F_LABEL, INK, ang, mx, my, col, escape(flags),
                   escape(rest)))
        svg.text(x_frame_end, ys + SLANT / 2 + 4, frames[k], F_TIME, fill=GREY, anchor="end")
        svg.text(x_time_end, ys + SLANT / 2 + 4, times[k], F_TIME, fill=INK, anchor="end")
        gap = segs[k].t - segs[k - 1].t if k else 0
        if gap >= PAUSE:
            # a pause worth seeing: a faint rule across the ladder, its length
            # in the time column
            yg = (ys_of[k - 1] + ys) / 2 + SLANT / 2
            svg.line(x_l + 6, yg, x_r - 6, yg, "#b8b8b8", 1, ' stroke-dasharray="2,4"')
            svg.text(x_time_end, yg + 4, "%s later" % fmt_gap(gap), F_TIME - 1,
                     fill=GREY, anchor="end", style="italic", family=SANS)

    for y, top, side, st in placed:
        col, bg, x = (COL_L, COL_L_BG, x_l) if side == "L" else (COL_R, COL_R_BG, x_r)
        w = _w(st, F_STATE) + 18
        bx = x - 12 - w if side == "L" else x + 12
        if abs(top + STATE_H / 2 - y) > 1:
            # moved down to stay clear of the box above: a leader line
            svg.line(x, y, bx + (w if side == "L" else 0), top + STATE_H / 2, col, 1)
        svg.rect(bx, top, w, STATE_H, bg, col, rx=5, width=1.5)
        svg.text(bx + w / 2, top + STATE_H / 2 + 5, st, F_STATE, fill=col, anchor="middle",
                 weight="bold")
        svg.add('<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s"/>' % (x, y, col))

    # TIME-WAIT outlives the capture
    for side, x, col in (("L", x_l, COL_L), ("R", x_r, COL_R)):
        if tr.final[side] == TIME_WAIT and hi == len(conn.segs):
            svg.line(x, y_end, x, y_end + STATE_H, col, 2, ' stroke-dasharray="3,4"')
            tx = x - 12 if side == "L" else x + 12
            svg.text(tx, y_end + STATE_H - 2, note_tw, F_TIME, fill=col,
                     anchor="end" if side == "L" else "start", style="italic")

    for j, f in enumerate(foot):
        svg.text(margin, y_foot + 20 * j, f, F_TIME, fill=GREY, family=SANS)
    svg.add('</svg>')
    return "\n".join(svg.parts) + "\n"


def svg_to_png(svg_path, png_path, zoom=1.0):
    """rsvg-convert (librsvg2-bin). Raises RuntimeError with the reason."""
    exe = shutil.which("rsvg-convert")
    if exe is None:
        raise RuntimeError("rsvg-convert not found: install librsvg2-bin (make deps)")
    r = subprocess.run([exe, "--format", "png", "--zoom", str(zoom), "--background-color",
                        "white", "--output", png_path, svg_path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("rsvg-convert failed (%d): %s" % (r.returncode,
                                                             r.stdout.decode(errors="replace")))


# --------------------------------------------------------------------------
# Command line


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="ladder.py", description="Draw a TCP connection of a capture as a ladder diagram "
        "with each side's RFC 9293 states (see the top of this file).")
    ap.add_argument("capture", help="pcap or pcapng file")
    sel = ap.add_mutually_exclusive_group()
    sel.add_argument("--conn", type=int, metavar="N",
                     help="only connection N (0 = the first; --list shows them)")
    sel.add_argument("--port", type=int, metavar="P",
                     help="only connections with TCP port P on either side")
    ap.add_argument("--out", metavar="PREFIX",
                    help="output path without extension (default: the capture's)")
    ap.add_argument("--title", help="title at the top (default: the connection's endpoints)")
    ap.add_argument("--format", default="svg,png",
                    help="comma-separated: svg, png (default svg,png)")
    ap.add_argument("--fw-ip", default=FW_IP,
                    help="the firmware's address, drawn on the right (default %s)" % FW_IP)
    ap.add_argument("--max-segments", type=int, default=150, metavar="N",
                    help="draw at most N segments of a connection (default 150, 0 = all)")
    ap.add_argument("--from-frame", type=int, default=0, metavar="F",
                    help="start the drawing at the connection's first segment in frame F or "
                    "later (the states before it are still replayed)")
    ap.add_argument("--all", action="store_true",
                    help="draw every connection even when there are more than %d" % MAX_FILES)
    ap.add_argument("--zoom", type=float, default=1.0, help="PNG scale (default 1)")
    ap.add_argument("--list", action="store_true", help="list the connections and exit")
    ap.add_argument("--text", action="store_true",
                    help="print the ladder as text instead of drawing it")
    args = ap.parse_args(argv)

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("svg", "png")]
    if bad or not formats:
        ap.error("--format: want svg, png or svg,png (got %r)" % args.format)
    if args.max_segments < 0:
        ap.error("--max-segments must be >= 0")
    if not (0.1 <= args.zoom <= 8):
        ap.error("--zoom must be in 0.1..8")
    if not os.path.isfile(args.capture):
        print("ladder: no such file: %s" % args.capture, file=sys.stderr)
        return 2

    conns = split_connections(read_segments(args.capture), args.fw_ip)
    if args.list:
        for c in conns:
            tr = track(c)
            print("%d  %s  %d segments, frames %d-%d, %s  left: %s  right: %s" % (
                c.index, c.describe(), len(c.segs), c.segs[0].i, c.segs[-1].i,
                fmt_time(c.segs[-1].t - c.segs[0].t), " > ".join(tr.states("L")),
                " > ".join(tr.states("R"))))
        if not conns:
            print("ladder: no TCP segments in %s" % args.capture, file=sys.stderr)
        return 0 if conns else 1
    if args.conn is not None:
        chosen = [c for c in conns if c.index == args.conn]
        if not chosen:
            print("ladder: no connection %d in %s (it has %d: --list)" % (
                args.conn, args.capture, len(conns)), file=sys.stderr)
            return 1
    elif args.port is not None:
        chosen = [c for c in conns if args.port in (c.left[1], c.right[1])]
        if not chosen:
            print("ladder: no connection with port %d in %s" % (args.port, args.capture),
                  file=sys.stderr)
            return 1
    else:
        chosen = conns
        if not chosen:
            print("ladder: no TCP segments in %s" % args.capture, file=sys.stderr)
            return 1
    if len(chosen) > MAX_FILES and not (args.all or args.text):
        print("ladder: %d connections in %s: pick one with --conn N or --port P (--list shows "
              "them), or draw them all with --all" % (len(chosen), args.capture), file=sys.stderr)
        return 1

    if args.text:
        for c in chosen:
            sys.stdout.write(text_ladder(track(c), args.fw_ip))
        return 0

    prefix = args.out or os.path.splitext(args.capture)[0]
    single = args.conn is not None or len(chosen) == 1
    rc = 0
    for c in chosen:
        first = next((k for k, sg in enumerate(c.segs) if sg.i >= args.from_frame), None)
        if first is None:
            print("ladder: connection %d has no segment in frame %d or later" % (
                c.index, args.from_frame), file=sys.stderr)
            rc = 1
            continue
        tr = track(c)
        base = prefix if single else "%s-%d" % (prefix, c.index)
        d = os.path.dirname(base)
        if d:
            os.makedirs(d, exist_ok=True)
        svg_path = base + ".svg"
        keep_svg = "svg" in formats
        if not keep_svg:
            svg_path = base + ".tmp.svg"
        with open(svg_path, "w", encoding="utf-8") as f:
            f.write(render_svg(tr, title=args.title, capture=args.capture, fw_ip=args.fw_ip,
                               max_segments=args.max_segments, first=first))
        if keep_svg:
            print(svg_path)
        if "png" in formats:
            try:
                svg_to_png(svg_path, base + ".png", args.zoom)
                print(base + ".png")
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                print("ladder: %s" % e, file=sys.stderr)
                rc = 1
        if not keep_svg:
            os.unlink(svg_path)
    return rc


if __name__ == "__main__":
    sys.exit(main())
