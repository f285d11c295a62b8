#!/usr/bin/python3
# fwlab-netns: --no-addr
"""TCP conformance (RFC 9293, RFC 5961, RFC 1122): crafted segments against
the firmware, one case per rule.

One QEMU boot for every case. tap0 has no kernel address (`--no-addr`), so
the host kernel never answers; this script is the peer 192.168.7.1 with a
made-up MAC (PEER_MAC): it sends frames with an AF_PACKET socket on tap0,
receives everything the firmware sends, and answers the firmware's ARP
requests itself. Every case uses its own TCP port on our side and leaves no
connection behind (it finishes it or resets it); `table-clean` checks that.

Each case asserts the exact flags, the sequence and acknowledgement numbers
relative to the ISNs (ours from the SYN we send, the firmware's from its SYN
or SYN,ACK) and the state the console's `netstat` shows (una/nxt relative to
the firmware's ISN, rcv to ours). Drops are checked by silence on that port
and by the `stats` counter of the reason.

Cases (rule under test):
  passive-open          3.10.7.2: SYN -> SYN,ACK <ACK=ISN+1> with MSS; ACK -> ESTABLISHED
  active-open           3.10.7.3: console connect -> SYN; our SYN,ACK -> ACK, ESTABLISHED; data
  abort                 3.10.5: console abort -> <SEQ=SND.NXT><CTL=RST>, slot freed
  simultaneous-open     3.10.7.3 / fig. 8: crossing SYNs -> SYN,ACK with the same ISS
  connect-refused       3.10.7.3: RST,ACK acking our SYN -> refused, CLOSED
  syn-sent-bad-ack      3.10.7.3: SEG.ACK =< ISS or > SND.NXT -> <SEQ=SEG.ACK><CTL=RST>;
                        a RST that does not ack the SYN -> dropped
  dup-syn-in-syn-received   the peer's SYN again -> SYN,ACK at once
  syn-ack-retransmit    no ACK: the SYN,ACK again after the initial RTO (1 s)
  passive-close         3.10.7.4: FIN -> ACK, CLOSE-WAIT; close -> FIN, LAST-ACK; ACK -> CLOSED
  passive-close-echo    half-close: data+FIN to echo -> the data, then the FIN
  active-close          3.10.4: close -> FIN-WAIT-1 -> FIN-WAIT-2 (data and FIN|PSH|ACK
                        still taken) -> TIME-WAIT
  fin-wait-1-fin-ack    FIN,ACK acking our FIN in FIN-WAIT-1 -> TIME-WAIT directly
  simultaneous-close    FIN crossing ours: FIN-WAIT-1 -> CLOSING -> TIME-WAIT
  time-wait-reack       a retransmitted FIN in TIME-WAIT is ACKed again; RST frees it
  time-wait-old-syn     RFC 5961 4: a SYN below RCV.NXT in TIME-WAIT -> ACK, TIME-WAIT kept
  time-wait-new-syn-no-listener   a SYN above RCV.NXT in TIME-WAIT on a port without a
                        listener (nothing to reopen, RFC 1122 4.2.2.13) -> challenge ACK,
                        TIME-WAIT kept
  rst-closed-port       3.10.7.1: ACK -> <SEQ=SEG.ACK><CTL=RST>; no ACK ->
                        <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; RST -> nothing
  listen-ack-rst        3.10.7.2: an ACK to a listening port -> <SEQ=SEG.ACK><CTL=RST>
  rst-in-syn-received   3.10.7.4 / RFC 5961: in-window RST -> challenge ACK; exact RST ->
                        back to LISTEN, slot freed
  rst-exact             RFC 5961 3.2: RST at RCV.NXT -> CLOSED, nothing sent
  rst-in-window         RFC 5961 3.2: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>, once
  rst-out-of-window     RST outside the window (ahead, behind) -> ignored
  syn-in-window         RFC 5961 4: SYN in ESTABLISHED -> challenge ACK
  unacceptable-seq      3.10.7.4 first: ahead of the window / old / bare ACK -> ACK, dropped
  ack-unsent-data       3.10.7.4 fifth: SEG.ACK > SND.NXT -> ACK, segment dropped
  ack-too-old           RFC 5961 5.2: SEG.ACK < SND.UNA - MAX.SND.WND -> ACK, dropped;
                        an old ACK inside the range is ignored and the data taken
  out-of-order          out-of-order data -> immediate duplicate ACK; repair -> echo intact
  rto-retransmit        RFC 6298: unacked data again after the RTO, then with backoff
  send-window           3.8.6: never past the right edge of the peer's window (100)
  zero-window-probe     3.8.6.1: window 0 to chargen -> 1-byte probe after ~RTO, backoff, reopen
  seq-wraparound        our ISN 0xFFFFFF00, data and FIN across 2^32 through echo
  mss-absent            3.7.1: no MSS option -> segments <= 536 (firmware: min(MSS, 512))
  mss-100               MSS 100 -> segments <= 100
  bad-options           option length 0, 1, past the header, MSS length 3: dropped, tcp_bad_opt
  bad-checksum          dropped (SYN, RST, data), tcp_bad_csum
  truncated-header      TCP header under 20 bytes: dropped, tcp_bad_hdr
  bad-data-offset       data offset < 5 or past the segment: dropped, tcp_bad_hdr
  invalid-flags         SYN+FIN, SYN+RST, no flags: dropped, tcp_bad_flags, even in ESTABLISHED
  fin-xmas-no-ack       FIN / FIN+PSH+URG without ACK: closed port -> RST,ACK; listener -> nothing
  other-address         to 192.168.7.3, or to another MAC: no answer
  netstat-isn-tracking  console: netstat's relative numbers survive SYNs that TCP rejected
                        (a bad SYN,ACK in SYN-SENT, an old SYN in TIME-WAIT)
  table-clean           netstat: the three listeners, no connection left

Env: CONF_ONLY=<regex> runs the matching cases only; CONF_TRACE=1 turns the
firmware's trace on (in the UART log); CONF_VERBOSE=1 prints measurements
(timings, segment sizes) as `  note:` lines.
"""
import os
import re
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwlab  # noqa: E402
from fwlab import FW_IP, FW_MAC, HOST_IP  # noqa: E402

PEER_MAC = "02:00:00:07:00:01"   # made up: the host side's MAC as we play it
OTHER_MAC = "52:54:00:aa:bb:cc"  # a unicast MAC that is not the firmware's
OTHER_IP = "192.168.7.3"
ECHO, DISCARD, CHARGEN = 7, 9, 19
CLOSED_PORT = 4444
M32 = 0xFFFFFFFF

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
LETTERS = "FSRPAUEC"  # the console's order: the header's bits from FIN up

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4

VERBOSE = os.environ.get("CONF_VERBOSE") == "1"
QUIET = 0.3     # s of silence that counts as "no answer"
TIMEOUT = 2.0   # s to wait for an expected segment
MAX_SKIP = 200  # segments a wait may pass over before it gives up


def note(msg):
    """A measurement worth seeing (CONF_VERBOSE=1)."""
    if VERBOSE:
        fwlab.log("  note: " + msg)


def flag_str(f):
    s = "".join(LETTERS[i] for i in range(8) if f >> i & 1)
    return s or "."


def flag_bits(s):
    return sum(1 << LETTERS.index(ch) for ch in s if ch != ".")


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def mss_opt(mss):
    return struct.pack("!BBH", 2, 4, mss)


# --------------------------------------------------------------------------
# Frames


def ipv4(src, dst, payload, proto=6, ident=0x1234):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", fwlab.csum16(h)) + h[12:]
    return h + payload


def tcp_bytes(src, dst, sport, dport, seq, ack, flags, wnd=8192, data=b"", opts=b"", doff=None,
              csum_delta=0, urp=0):
    """A TCP segment. opts are padded with EOL to a multiple of 4 unless doff
    (in 32-bit words) is given; csum_delta spoils the checksum."""
    if doff is None:
        opts += b"\0" * (-len(opts) % 4)
        doff = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & M32, ack & M32, (doff & 15) << 4, flags,
                    wnd, 0, urp) + opts
    seg = h + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = (fwlab.csum16(pseudo + seg) + csum_delta) & 0xFFFF
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def eth(dst, src, etype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", etype) + payload


class Seg:
    """A TCP segment the firmware sent."""

    def __init__(self, t, frame, hdr, p):
        self.t = t
        self.frame = frame
        self.ip = hdr
        self.sport, self.dport, self.seq, self.ack, off, self.flags, self.wnd, _c, self.urp = \
            struct.unpack("!HHIIBBHHH", p[:20])
        self.doff = (off >> 4) * 4
        self.data = p[self.doff:]
        self.opts = p[20:self.doff]
        pseudo = socket.inet_aton(hdr["src"]) + socket.inet_aton(hdr["dst"]) + \
            struct.pack("!BBH", 0, 6, len(p))
        self.csum_ok = fwlab.csum16(pseudo + p) == 0 and hdr["csum_ok"]
        self.mss = None
        i = 0
        while i < len(self.opts):
            k = self.opts[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(self.opts) or self.opts[i + 1] < 2:
                break
            if k == 2 and self.opts[i + 1] == 4:
                self.mss = struct.unpack("!H", self.opts[i + 2:i + 4])[0]
            i += self.opts[i + 1]

    @property
    def fl(self):
        return flag_str(self.flags)

    @property
    def sent(self):
        return self.frame, self.t

    @property
    def seg_len(self):
        return len(self.data) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    def __repr__(self):
        return "%s seq=%#x ack=%#x wnd=%d len=%d" % (self.fl, self.seq, self.ack, self.wnd,
                                                     len(self.data))


# --------------------------------------------------------------------------
# The peer: an AF_PACKET socket on tap0 and a reader thread


class Peer:
    def __init__(self, mac=PEER_MAC, ip=HOST_IP):
        self.mac, self.ip = mac, ip
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((fwlab.TAP, ETH_P_ALL))
        self.cv = threading.Condition()
        self.by_port = {}    # our port -> [Seg] from the firmware, not yet taken
        self.fw_frames = []  # (time, frame) of every frame from the firmware
        self.arp_replies = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def close(self):
        self.stop_flag = True
        self.thread.join(timeout=2)
        self.sock.close()

    def _reader(self):
        fw_mac = mac_bytes(FW_MAC)
        while not self.stop_flag:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            try:
                frame, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING or frame[6:12] != fw_mac:
                continue
            now = time.monotonic()
            with self.cv:
                self.fw_frames.append((now, frame))
                self.cv.notify_all()
            etype = struct.unpack("!H", frame[12:14])[0]
            if etype == ETH_P_ARP:
                self._arp(frame)
                continue
            p = fwlab.parse_ipv4(frame)
            if not p or p[0]["proto"] != 6 or len(p[1]) < 20:
                continue
            seg = Seg(now, frame, p[0], p[1])
            with self.cv:
                self.by_port.setdefault(seg.dport, []).append(seg)
                self.cv.notify_all()

    def _arp(self, frame):
        a = frame[14:42]
        if len(a) < 28 or a[6:8] != b"\0\1" or socket.inet_ntoa(a[24:28]) != self.ip:
            return
        sha, spa = a[8:14], a[14:18]
        rep = a[:6] + b"\0\2" + mac_bytes(self.mac) + socket.inet_aton(self.ip) + sha + spa
        self.sock.send(sha + mac_bytes(self.mac) + struct.pack("!H", ETH_P_ARP) + rep)
        self.arp_replies += 1

    # -- sending --

    def send_frame(self, frame):
        self.sock.send(frame)
        return frame, time.monotonic()

    def send_ip(self, payload, dst_ip=FW_IP, dst_mac=FW_MAC, proto=6):
        return self.send_frame(eth(dst_mac, self.mac, ETH_P_IP,
                                   ipv4(self.ip, dst_ip, payload, proto)))

    def send_tcp(self, sport, dport, seq, ack, flags, dst_ip=FW_IP, dst_mac=FW_MAC, **kw):
        """Returns (frame, host time sent)."""
        return self.send_ip(tcp_bytes(self.ip, dst_ip, sport, dport, seq, ack, flags, **kw),
                            dst_ip=dst_ip, dst_mac=dst_mac)

    # -- receiving --

    def take(self, port, timeout=TIMEOUT):
        """The next segment the firmware sent to our `port`, or None."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                q = self.by_port.get(port)
                if q:
                    return q.pop(0)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(min(left, 0.1))

    def pending(self, port):
        with self.cv:
            return list(self.by_port.get(port, []))

    def mark(self):
        with self.cv:
            return len(self.fw_frames)

    def frames_since(self, mark):
        with self.cv:
            return list(self.fw_frames[mark:])

    def silent(self, ports, dur=QUIET):
        """Wait dur; assert the firmware sent nothing to any of `ports`."""
        time.sleep(dur)
        bad = {p: self.pending(p) for p in ports if self.pending(p)}
        assert not bad, "expected no answer, got: %s" % "; ".join(
            "to port %d: %s" % (p, s) for p, s in bad.items())


# --------------------------------------------------------------------------
# The console


class Console:
    def __init__(self, fw, trace):
        self.fw = fw
        self.sync = "trace %s" % ("on" if trace else "off")
        # Once, alone: every query() then ends at the answer of its own sync.
        fw.cmd(self.sync, expect=r"^trace: (?:on|off)$")

    def query(self, line, timeout=3.0):
        """Output of the command `line` (the echoed lines included), synced by
        a `trace` command whose answer ends it."""
        fw = self.fw
        start = fw.mark()
        fw.send(line + "\r" + self.sync + "\r")
        m = fw.wait_for(r"^trace: (?:on|off)$", timeout, since=start)
        return fw.output()[start:m.start()]

    def cmd(self, line, expect, timeout=3.0):
        """Run a command, wait for the regex `expect` (or an error) in its
        answer; returns the match."""
        out = self.query(line, timeout)
        m = re.search(expect, out, re.M)
        assert m, "`%s` answered %r, expected /%s/" % (line, out.strip(), expect)
        return m

    def netstat(self):
        rx = re.compile(r"^(\d+) ([\d.]+):(\d+) ([\d.]+):(\d+) (\S+) una=(\d+) nxt=(\d+) "
                        r"rcv=(\d+) rtx=(\d+)$", re.M)
        out = self.query("netstat")
        conns = []
        for m in rx.finditer(out):
            conns.append({"id": int(m.group(1)), "lip": m.group(2), "lport": int(m.group(3)),
                          "rip": m.group(4), "rport": int(m.group(5)), "state": m.group(6),
                          "una": int(m.group(7)), "nxt": int(m.group(8)), "rcv": int(m.group(9)),
                          "rtx": int(m.group(10)), "line": m.group(0)})
        listeners = re.findall(r"^L ([\d.]+):(\d+) LISTEN$", out, re.M)
        return conns, [(ip, int(p)) for ip, p in listeners], out

    def stats(self):
        out = self.query("stats")
        return {k: int(v) for k, v in re.findall(r"^([a-z][a-z0-9_]*) (\d+)$", out, re.M)}


def stats_delta(before, after, *names):
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


# --------------------------------------------------------------------------
# A connection as the peer sees it


class Conn:
    """Our side of one connection. Our ISN is `iss`, the firmware's `irs`;
    snd_nxt/rcv_nxt are absolute. Relative numbers: ours from iss, the
    firmware's from irs."""

    def __init__(self, t, sport, dport, isn, wnd=8192):
        self.t = t
        self.sport, self.dport = sport, dport
        self.iss = isn & M32
        self.snd_nxt = self.iss
        self.irs = None
        self.rcv_nxt = 0
        self.wnd = wnd
        self.seen = []  # every segment taken, for retransmission detection
        self.id = None  # console id (active opens)

    # relative <-> absolute
    def ours(self, rel):
        return (self.iss + rel) & M32

    def theirs(self, rel):
        return (self.irs + rel) & M32

    def rel(self, seg):
        """(seq relative to the firmware's ISN, ack relative to ours)."""
        rs = (seg.seq - self.irs) & M32 if self.irs is not None else seg.seq
        ra = (seg.ack - self.iss) & M32
        return rs, ra

    def show(self, seg):
        if seg is None:
            return "nothing"
        rs, ra = self.rel(seg)
        return "%s seq=%d ack=%d wnd=%d len=%d%s" % (
            seg.fl, rs, ra if seg.flags & ACK else 0, seg.wnd, len(seg.data),
            "" if seg.csum_ok else " BAD-CHECKSUM")

    @property
    def snd_rel(self):
        return (self.snd_nxt - self.iss) & M32

    @property
    def rcv_rel(self):
        return (self.rcv_nxt - self.irs) & M32

    # sending
    def tx(self, flags, data=b"", seq=None, ack=None, wnd=None, advance=True, **kw):
        if isinstance(flags, str):
            flags = flag_bits(flags)
        if isinstance(data, str):
            data = data.encode()
        seq = self.snd_nxt if seq is None else seq & M32
        ack = self.rcv_nxt if ack is None else ack & M32
        sent = self.t.peer.send_tcp(self.sport, self.dport, seq, ack, flags,
                                    wnd=self.wnd if wnd is None else wnd, data=data, **kw)
        if advance and seq == self.snd_nxt:
            self.snd_nxt = (seq + len(data) + (1 if flags & SYN else 0) +
                            (1 if flags & FIN else 0)) & M32
        return sent

    def ack(self, wnd=None):
        return self.tx(ACK, wnd=wnd)

    def rst(self):
        """Reset the connection from our side (RST at the firmware's RCV.NXT)."""
        self.tx(RST, ack=0, advance=False)

    # receiving
    def _is_retx(self, seg):
        return seg.seg_len > 0 and any(
            s.seq == seg.seq and s.flags == seg.flags and s.data == seg.data for s in self.seen)

    def rx(self, timeout=TIMEOUT, skip_retx=True):
        deadline = time.monotonic() + timeout
        for _ in range(MAX_SKIP):
            seg = self.t.peer.take(self.sport, max(0.0, deadline - time.monotonic()))
            if seg is None:
                return None
            if seg.sport != self.dport:
                raise AssertionError("segment from port %d, expected %d: %s"
                                     % (seg.sport, self.dport, self.show(seg)))
            if skip_retx and self._is_retx(seg):
                if time.monotonic() >= deadline:
                    return None
                continue  # a retransmission while we were slow: legal
            self.seen.append(seg)
            return seg
        raise AssertionError("more than %d retransmissions in a row" % MAX_SKIP)

    def expect(self, flags, seq=None, ack=None, data=None, length=None, timeout=TIMEOUT,
               what="", skip_retx=True, skip_old_acks=False):
        """The next segment: exact flags (a string as the console prints
        them, e.g. "SA"; a tuple for alternatives), seq relative to the
        firmware's ISN, ack relative to ours, data or its length.
        skip_old_acks: first pass over bare ACKs that acknowledge less than
        `ack` (a window update sent before our last segment arrived)."""
        deadline = time.monotonic() + timeout
        for _ in range(MAX_SKIP):
            seg = self.rx(max(0.0, deadline - time.monotonic()), skip_retx)
            if not (skip_old_acks and seg is not None and seg.fl == "A" and not seg.data and
                    ack is not None and self.irs is not None and
                    0 < ((ack - self.rel(seg)[1]) & M32) < 0x80000000):
                break
        ctx = (" (%s)" % what) if what else ""
        want = "%s seq=%s ack=%s" % (flags, seq, ack)
        assert seg is not None, "expected %s%s, got nothing in %gs" % (want, ctx, timeout)
        assert seg.csum_ok, "bad checksum on %s%s" % (self.show(seg), ctx)
        if self.irs is None and seg.flags & SYN:
            self.irs = seg.seq
            self.rcv_nxt = (seg.seq + 1) & M32
        rs, ra = self.rel(seg)
        alts = flags if isinstance(flags, tuple) else (flags,)
        ok = seg.fl in alts and (seq is None or rs == seq & M32) and \
            (ack is None or (seg.flags & ACK and ra == ack & M32))
        if data is not None:
            ok = ok and seg.data == (data.encode() if isinstance(data, str) else data)
        if length is not None:
            ok = ok and len(seg.data) == length
        assert ok, "expected %s%s%s, got %s%s" % (
            want, "" if length is None else " len=%d" % length,
            "" if data is None else " data=%r" % data, self.show(seg), ctx)
        return seg

    def silent(self, dur=QUIET, what=""):
        """Nothing new within dur (a timer's retransmission of a segment
        already taken does not count)."""
        time.sleep(dur)
        left = [s for s in self.t.peer.pending(self.sport) if not self._is_retx(s)]
        assert not left, "expected no answer%s, got: %s" % (
            (" to " + what) if what else "", ", ".join(self.show(s) for s in left))

    def only_acks(self, dur=QUIET, what=""):
        """Within dur, nothing but pure ACKs at SND.NXT/RCV.NXT (e.g. window
        updates); returns them."""
        time.sleep(dur)
        segs = []
        for _ in range(MAX_SKIP):
            s = self.t.peer.take(self.sport, 0)
            if s is None:
                return segs
            rs, ra = self.rel(s)
            assert s.fl == "A" and not s.data and ra == self.snd_rel, \
                "expected nothing but ACKs%s, got %s" % ((" after " + what) if what else "",
                                                         self.show(s))
            segs.append(s)
        raise AssertionError("more than %d ACKs%s" % (MAX_SKIP, (" after " + what) if what else ""))

    def recv_stream(self, n, timeout=5.0, ack=True, max_seg=None, segs_out=None,
                    check_wnd=False):
        """Collect n bytes of in-order data, ACKing every segment; returns the
        bytes. Every data segment: flags A or PA; its ack never goes back and
        never passes our SND.NXT (it may lag when we sent more meanwhile)."""
        got = b""
        last_ack = None
        edge = (self.rcv_nxt + self.wnd) & M32  # right edge of the window we offered
        deadline = time.monotonic() + timeout
        while len(got) < n:
            assert time.monotonic() < deadline, "got %d of %d bytes in %gs" % (len(got), n, timeout)
            seg = self.rx(max(0.0, deadline - time.monotonic()))
            assert seg is not None, "got %d of %d bytes (%r...) in %gs" % (len(got), n, got[:40],
                                                                          timeout)
            assert seg.csum_ok, "bad checksum on %s" % self.show(seg)
            rs, ra = self.rel(seg)
            if not seg.data and seg.fl == "A":
                continue  # a bare ACK (delayed ACK, window update)
            assert seg.fl in ("A", "PA"), "unexpected %s while receiving data" % self.show(seg)
            assert ra <= self.snd_rel and (last_ack is None or ra >= last_ack), \
                "data segment %s: ack outside [%s, %d]" % (self.show(seg), last_ack, self.snd_rel)
            last_ack = ra
            if check_wnd:
                assert ((edge - seg.seq - len(seg.data)) & M32) < 0x80000000, \
                    "%s goes past the right edge %d of our window" % (
                        self.show(seg), (edge - self.irs) & M32)
            if max_seg is not None:
                assert len(seg.data) <= max_seg, "segment of %d bytes > %d: %s" % (
                    len(seg.data), max_seg, self.show(seg))
            if segs_out is not None:
                segs_out.append(seg)
            data = seg.data
            if seg.seq != self.rcv_nxt:
                # A retransmission: the bytes we already have must be the
                # same; the rest (if any) is new.
                off = (self.rcv_nxt - seg.seq) & M32
                assert off <= len(got), "segment %s, expected seq %d" % (self.show(seg),
                                                                         self.rcv_rel)
                old = min(off, len(data))
                assert got[len(got) - off:len(got) - off + old] == data[:old], \
                    "retransmitted %s differs from the bytes first sent" % self.show(seg)
                data = data[old:]
                if not data:
                    continue
            got += data
            self.rcv_nxt = (self.rcv_nxt + len(data)) & M32
            if ack:
                self.ack()
                edge = (self.rcv_nxt + self.wnd) & M32
        return got

    # state
    def entry(self):
        conns, _, _ = self.t.con.netstat()
        for e in conns:
            if e["rport"] == self.sport or (self.id is not None and e["id"] == self.id):
                return e
        return None

    def state(self, want, una=None, nxt=None, rcv=None, timeout=2.0):
        """Poll netstat until our connection is in state `want` (None: gone);
        then check una/nxt (relative to the firmware's ISN) and rcv (to ours)."""
        deadline = time.monotonic() + timeout
        while True:
            e = self.entry()
            if (e is None and want is None) or (e and e["state"] == want):
                break
            if time.monotonic() > deadline:
                raise AssertionError("netstat: %s, expected %s" % (
                    e["line"] if e else "no connection for port %d" % self.sport,
                    want or "no connection"))
            time.sleep(0.02)
        if e is None:
            return None
        got = (e["una"], e["nxt"], e["rcv"])
        exp = tuple(g if w is None else w for g, w in zip(got, (una, nxt, rcv)))
        assert got == exp, "netstat: %s, expected una=%s nxt=%s rcv=%s" % (e["line"], *exp)
        return e

    def gone(self, timeout=2.0):
        self.state(None, timeout=timeout)


# --------------------------------------------------------------------------
# The cases


class T:
    """Everything a case needs: fw, the peer, the console."""

    def __init__(self, fw, trace):
        self.fw = fw
        self.peer = Peer()
        self.con = Console(fw, trace)

    def cleanup(self):
        """After a failed case: abort every connection netstat still lists
        (all of them are that case's: passing cases leave none), so the next
        cases start clean. Returns what was aborted."""
        conns, _, _ = self.con.netstat()
        for e in conns:
            self.con.query("abort %d" % e["id"])
        time.sleep(0.05)
        return [e["line"] for e in conns]

    def stamp(self, frame):
        """QEMU's time stamp of a frame in the capture (None if not there).
        Frames we sent may appear padded to 60 bytes."""
        for ts, f in reversed(self.fw.frames()):
            if f == frame or (len(frame) < 60 and len(f) == 60 and f[:len(frame)] == frame):
                return ts
        return None

    def interval(self, a, b):
        """Seconds from frame a to frame b, each (frame, host time): by the
        capture's time stamps (no Python latency), else by the host's."""
        ta, tb = self.stamp(a[0]), self.stamp(b[0])
        if ta is not None and tb is not None:
            return tb - ta
        return b[1] - a[1]

    # opening helpers
    def open_passive(self, sport, dport=ECHO, isn=0x10000000, wnd=8192, opts=None):
        """A connection to one of the firmware's services, ESTABLISHED."""
        c = Conn(self, sport, dport, isn, wnd)
        c.tx(SYN, opts=mss_opt(1460) if opts is None else opts)
        c.expect("SA", ack=1, what="SYN,ACK to our SYN")
        c.ack()
        c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
        return c

    def connect(self, port, isn=0x20000000):
        """Console `connect 192.168.7.1 port`: returns (Conn, firmware's SYN),
        the connection in SYN-SENT."""
        m = self.con.cmd("connect %s %d" % (HOST_IP, port), r"^connect: id (\d+)$|^error: .*$")
        assert m.group(1), "connect failed: %s" % m.group(0)
        syn = self.peer.take(port)
        assert syn is not None, "no SYN from the firmware after `connect`"
        c = Conn(self, port, syn.sport, isn)
        c.id = int(m.group(1))
        c.seen.append(syn)
        c.irs = syn.seq
        c.rcv_nxt = (syn.seq + 1) & M32
        return c, syn

    def open_active(self, port, isn=0x20000000):
        """Console connect, our SYN,ACK, its ACK: ESTABLISHED."""
        mark = self.fw.mark()
        c, syn = self.connect(port, isn)
        c.tx(SYN | ACK, opts=mss_opt(1460))
        c.expect("A", seq=1, ack=1, length=0, what="ACK of our SYN,ACK")
        self.fw.wait_for(r"^conn %d established$" % c.id, 2, since=mark)
        c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
        return c

    def echo_roundtrip(self, c, data):
        c.tx(PSH | ACK, data)
        got = c.recv_stream(len(data))
        assert got == data, "echo returned %r, sent %r" % (got, data)

    def finish(self, c):
        """Reset our connection and check its slot is free."""
        c.rst()
        c.gone()


def case_passive_open(t):
    c = Conn(t, 41001, ECHO, 0x1000)
    c.tx(SYN, opts=mss_opt(1460))
    sa = c.expect("SA", ack=1, length=0, what="SYN,ACK")
    assert sa.mss == 1460, "SYN,ACK carries MSS %s, expected 1460" % sa.mss
    assert sa.wnd > 0, "SYN,ACK offers window 0"
    c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    c.silent(what="the handshake's last ACK")
    t.finish(c)


def case_active_open(t):
    mark = t.fw.mark()
    c, syn = t.connect(42001, isn=0x2000)
    assert syn.fl == "S" and syn.ack == 0 and not syn.data, "firmware's SYN: %s" % c.show(syn)
    assert syn.mss == 1460, "SYN carries MSS %s, expected 1460" % syn.mss
    assert syn.sport >= 49152, "ephemeral port %d < 49152" % syn.sport
    c.state("SYN-SENT", una=0, nxt=1)
    c.tx(SYN | ACK, opts=mss_opt(1460))
    c.expect("A", seq=1, ack=1, length=0, what="ACK of our SYN,ACK")
    t.fw.wait_for(r"^conn %d established$" % c.id, 2, since=mark)
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    # Data both ways.
    t.con.cmd("send %d hello" % c.id, r"^send: 6 bytes$")
    c.expect("PA", seq=1, ack=1, data="hello\n", what="console send")
    c.rcv_nxt = c.theirs(7)
    c.tx(PSH | ACK, b"world")
    t.fw.wait_for(r'^conn %d data "world"$' % c.id, 2, since=mark)
    c.expect("A", seq=7, ack=6, length=0, what="ACK of our data")
    c.state("ESTABLISHED", una=7, nxt=7, rcv=6)
    t.con.cmd("abort %d" % c.id, r"^abort: id %d$" % c.id)
    c.expect("R", seq=7, length=0, what="abort")
    c.gone()


def case_abort(t):
    c = t.open_active(42002)
    t.con.cmd("abort %d" % c.id, r"^abort: id %d$" % c.id)
    # 3.10.5: <SEQ=SND.NXT><CTL=RST>, no ACK bit
    c.expect("R", seq=1, length=0, what="abort")
    c.gone()
    c.silent(what="abort")


def case_simultaneous_open(t):
    mark = t.fw.mark()
    c, syn = t.connect(42003, isn=0x3000)
    assert syn.fl == "S", "firmware's SYN: %s" % c.show(syn)
    # Our SYN crosses its SYN (figure 8 line 3): no ACK bit.
    c.tx(SYN, ack=0, opts=mss_opt(1460))
    # line 5: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, the same ISS
    c.expect("SA", seq=0, ack=1, length=0, what="SYN,ACK after crossing SYNs")
    c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    # line 6: our SYN,ACK (repeating our SYN) acknowledges its SYN
    c.tx(SYN | ACK, seq=c.iss, opts=mss_opt(1460), advance=False)
    t.fw.wait_for(r"^conn %d established$" % c.id, 2, since=mark)
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    c.only_acks(what="the final SYN,ACK")
    t.con.cmd("abort %d" % c.id, r"^abort: id %d$" % c.id)
    c.expect("R", seq=1, length=0, what="abort")
    c.gone()


def case_passive_close(t):
    c = t.open_active(42004)
    mark = t.fw.mark()
    c.tx(FIN | ACK)
    c.expect("A", seq=1, ack=2, length=0, what="ACK of our FIN")
    t.fw.wait_for(r"^conn %d peer closed$" % c.id, 2, since=mark)
    c.state("CLOSE-WAIT", una=1, nxt=1, rcv=2)
    t.con.cmd("close %d" % c.id, r"^close: id %d$" % c.id)
    c.expect("FA", seq=1, ack=2, length=0, what="our close in CLOSE-WAIT")
    c.state("LAST-ACK", una=1, nxt=2, rcv=2)
    c.rcv_nxt = c.theirs(2)
    c.ack()
    c.gone()
    t.fw.wait_for(r"^conn %d closed$" % c.id, 2, since=mark)
    c.silent(what="the last ACK")


def case_passive_close_echo(t):
    c = t.open_passive(41002)
    c.tx(FIN | PSH | ACK, b"bye")  # data and FIN in one segment
    got = b""
    fin = None
    for _ in range(MAX_SKIP):
        if fin is not None:
            break
        s = c.rx()
        assert s is not None, "echo sent %r and no FIN" % got
        rs, ra = c.rel(s)
        assert s.flags & ACK and not s.flags & (SYN | RST), "unexpected %s" % c.show(s)
        if s.data:
            assert rs == 1 + len(got), "data at %s, expected seq %d" % (c.show(s), 1 + len(got))
            got += s.data
        if s.flags & FIN:
            fin = s
    assert fin is not None, "no FIN from echo after %d segments" % MAX_SKIP
    assert got == b"bye", "echo returned %r before its FIN, expected b'bye'" % got
    rs, ra = c.rel(fin)
    assert rs + len(fin.data) == 4 and ra == 5, \
        "FIN %s: expected it at seq 4 (after the data) acking 5" % c.show(fin)
    c.rcv_nxt = c.theirs(5)
    c.ack()
    c.gone()


def to_fin_wait_1(t, port):
    c = t.open_active(port)
    t.con.cmd("close %d" % c.id, r"^close: id %d$" % c.id)
    c.expect("FA", seq=1, ack=1, length=0, what="FIN after close")
    c.state("FIN-WAIT-1", una=1, nxt=2, rcv=1)
    return c


def to_time_wait(t, port, data=b""):
    c = to_fin_wait_1(t, port)
    mark = t.fw.mark()
    c.rcv_nxt = c.theirs(2)
    c.ack()
    c.state("FIN-WAIT-2", una=2, nxt=2, rcv=1)
    # Data and FIN|PSH|ACK: still taken in FIN-WAIT-2 (a half-closed connection).
    c.tx(FIN | PSH | ACK if data else FIN | ACK, data)
    end = 2 + len(data)
    c.expect("A", seq=2, ack=end, length=0, what="ACK of our FIN in FIN-WAIT-2")
    c.state("TIME-WAIT", una=2, nxt=2, rcv=end)
    if data:
        t.fw.wait_for(r'^conn %d data "%s"$' % (c.id, data.decode()), 2, since=mark)
    t.fw.wait_for(r"^conn %d closed$" % c.id, 2, since=mark)
    return c


def case_active_close(t):
    c = to_time_wait(t, 42005, data=b"tail")
    c.silent(what="TIME-WAIT")
    t.finish(c)  # 3.10.7.4: RST in TIME-WAIT -> CLOSED


def case_fin_wait_1_fin_ack(t):
    c = to_fin_wait_1(t, 42012)
    c.rcv_nxt = c.theirs(2)
    c.tx(FIN | ACK)  # acknowledges its FIN and carries ours
    c.expect("A", seq=2, ack=2, length=0, what="ACK of our FIN,ACK in FIN-WAIT-1")
    c.state("TIME-WAIT", una=2, nxt=2, rcv=2)
    c.silent(what="TIME-WAIT")
    t.finish(c)


def case_simultaneous_close(t):
    c = to_fin_wait_1(t, 42006)
    c.tx(FIN | ACK)  # our FIN crosses its FIN: it does not ack it
    c.expect("A", seq=2, ack=2, length=0, what="ACK of our FIN in FIN-WAIT-1")
    c.state("CLOSING", una=1, nxt=2, rcv=2)
    c.rcv_nxt = c.theirs(2)
    c.ack()
    c.state("TIME-WAIT", una=2, nxt=2, rcv=2)
    c.silent(what="the ACK in CLOSING")
    t.finish(c)


def case_time_wait_reack(t):
    c = to_time_wait(t, 42007)
    # The FIN again (as if its ACK was lost): ACK it again, stay in TIME-WAIT.
    for i in range(2):
        c.tx(FIN | ACK, seq=c.ours(1), advance=False)
        c.expect("A", seq=2, ack=2, length=0, what="retransmitted FIN #%d in TIME-WAIT" % (i + 1))
        c.state("TIME-WAIT", una=2, nxt=2, rcv=2)
    t.finish(c)


def case_time_wait_old_syn(t):
    c = to_time_wait(t, 42013)
    # A SYN below RCV.NXT (an old duplicate of the peer's SYN): 3.10.7.4 /
    # RFC 5961 4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, stay in TIME-WAIT.
    c.tx(SYN, seq=c.iss, ack=0, advance=False, opts=mss_opt(1460))
    c.expect("A", seq=2, ack=2, length=0, what="old SYN in TIME-WAIT")
    c.state("TIME-WAIT")  # its numbers: see netstat-isn-tracking
    c.silent(what="the ACK to an old SYN")
    t.finish(c)


def case_time_wait_new_syn_no_listener(t):
    c = to_time_wait(t, 42014)
    # A SYN above RCV.NXT, in the window. RFC 1122 4.2.2.13 lets a listener
    # reopen the connection from TIME-WAIT; this port (the console's
    # ephemeral one) has no listener, so nothing can be reopened: 3.10.7.4
    # (RFC 5961 4) challenge ACK, and TIME-WAIT stays (as Linux does).
    c.tx(SYN, seq=c.ours(2 + 10), ack=0, advance=False, opts=mss_opt(1460))
    s = c.rx()
    e = c.entry()
    ok = s is not None and s.fl == "A" and c.rel(s) == (2, 2) and not s.data
    if s is None:
        got = "nothing"
    elif s.flags & RST:
        got = "%s seq=%#x ack=%#x (SEG.SEQ%+d: answered as on a closed port)" % (
            s.fl, s.seq, s.ack, (s.ack - c.ours(12)) & M32)
    else:
        got = c.show(s)
    assert ok and e and e["state"] == "TIME-WAIT", (
        "SYN at RCV.NXT+10 to TIME-WAIT on port %d (no listener): got %s, netstat: %s; expected "
        "A seq=2 ack=2 (RFC 5961 4 challenge ACK) and TIME-WAIT kept" % (
            c.dport, got, e["line"] if e else "connection gone"))
    c.silent(what="the challenge ACK")
    t.finish(c)


def case_netstat_isn_tracking(t):
    """The console's netstat numbers (relative to the ISNs it learns from the
    trace) must not be taken from SYNs that TCP rejected."""
    problems = []
    # SYN-SENT: a SYN,ACK whose ACK is unacceptable (answered by RST).
    mark = t.fw.mark()
    c, syn = t.connect(42015, isn=0x6000)
    c.tx(SYN | ACK, seq=c.iss + 0x1000, ack=c.theirs(2), advance=False, opts=mss_opt(1460))
    c.expect("R", length=0, what="SYN,ACK acking ISS+2 in SYN-SENT")
    e = c.state("SYN-SENT")
    if (e["una"], e["nxt"]) != (0, 1):
        problems.append("SYN-SENT after a rejected SYN,ACK (seq=IRS', ack=ISS+2): `%s`, expected "
                        "una=0 nxt=1" % e["line"])
    c.tx(SYN | ACK, opts=mss_opt(1460))
    c.expect("A", seq=1, ack=1, length=0, what="ACK of our SYN,ACK")
    t.fw.wait_for(r"^conn %d established$" % c.id, 2, since=mark)
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    t.con.cmd("abort %d" % c.id, r"^abort: id %d$" % c.id)
    c.expect("R", seq=1, length=0, what="abort")
    c.gone()
    # TIME-WAIT: an old SYN without the ACK bit, answered by an ACK.
    c = to_time_wait(t, 42016)
    c.tx(SYN, seq=c.iss - 5000, ack=0, advance=False, opts=mss_opt(1460))
    c.expect("A", seq=2, ack=2, length=0, what="old SYN in TIME-WAIT")
    e = c.state("TIME-WAIT")
    if (e["una"], e["nxt"], e["rcv"]) != (2, 2, 2):
        problems.append("TIME-WAIT after an old SYN (seq=IRS-5000, no ACK bit): `%s`, expected "
                        "una=2 nxt=2 rcv=2" % e["line"])
    t.finish(c)
    assert not problems, "; ".join(problems)


def case_rst_closed_port(t):
    before = t.con.stats()
    probes = [
        # (our port, flags, seq, ack, data, expected flags, seq, ack)
        (41010, ACK, 0x5000, 0x77770000, b"", "R", 0x77770000, None),
        (41011, PSH | ACK, 0x5000, 0x12345678, b"data!", "R", 0x12345678, None),
        (41012, SYN | ACK, 0x5000, 0xCAFEBABE, b"", "R", 0xCAFEBABE, None),
        (41013, SYN, 0x5000, 0, b"", "RA", 0, 0x5001),
        (41014, PSH, 0x6000, 0, b"seven!!", "RA", 0, 0x6007),
        (41015, SYN, 0xFFFFFFFF, 0, b"", "RA", 0, 0),  # SEG.SEQ+SEG.LEN wraps
    ]
    for sport, fl, seq, ack, data, *_ in probes:
        t.peer.send_tcp(sport, CLOSED_PORT, seq, ack, fl, data=data)
    for sport, fl, seq, ack, data, efl, eseq, eack in probes:
        s = t.peer.take(sport)
        sent = "%s seq=%#x ack=%#x len=%d" % (flag_str(fl), seq, ack, len(data))
        assert s is not None, "no RST to %s on a closed port" % sent
        ok = s.fl == efl and s.seq == eseq and (eack is None or s.ack == eack) and \
            not s.data and s.sport == CLOSED_PORT and s.csum_ok
        assert ok, "to %s: got %r, expected %s seq=%#x%s" % (
            sent, s, efl, eseq, "" if eack is None else " ack=%#x" % eack)
    # Never a RST for a RST.
    t.peer.send_tcp(41016, CLOSED_PORT, 0x5000, 0, RST)
    t.peer.send_tcp(41017, CLOSED_PORT, 0x5000, 0x1234, RST | ACK)
    t.peer.silent([p[0] for p in probes] + [41016, 41017])
    d = stats_delta(before, t.con.stats(), "tcp_rst_out")
    assert d["tcp_rst_out"] == len(probes), "tcp_rst_out grew by %d, expected %d" % (
        d["tcp_rst_out"], len(probes))


def case_listen_ack_rst(t):
    # No connection on our port: the listener gets a bare ACK.
    t.peer.send_tcp(41020, ECHO, 0x5000, 0x600DF00D, ACK)
    s = t.peer.take(41020)
    assert s is not None, "no RST to an ACK sent to a listening port"
    assert s.fl == "R" and s.seq == 0x600DF00D and not s.data, \
        "got %r, expected R seq=0x600df00d" % s
    # ... and a RST to it is ignored.
    t.peer.send_tcp(41021, ECHO, 0x5000, 0, RST)
    t.peer.silent([41020, 41021])
    c = Conn(t, 41020, ECHO, 0)
    c.gone()


def case_rst_in_syn_received(t):
    before = t.con.stats()
    c = Conn(t, 41030, ECHO, 0x30000)
    c.tx(SYN, opts=mss_opt(1460))
    c.expect("SA", ack=1, what="SYN,ACK")
    c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    c.tx(RST, seq=c.snd_nxt + 10, ack=0, advance=False)  # in window, not exact
    c.expect("A", seq=1, ack=1, length=0, what="challenge ACK to an in-window RST")
    c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    c.tx(RST, ack=0, advance=False)  # SEG.SEQ = RCV.NXT
    c.gone()
    c.silent(what="RST in SYN-RECEIVED")
    _, listeners, out = t.con.netstat()
    assert (FW_IP, ECHO) in listeners, "listener on %d gone after the RST: %r" % (ECHO, out)
    d = stats_delta(before, t.con.stats(), "tcp_rst_in")
    assert d["tcp_rst_in"] == 1, "tcp_rst_in grew by %d, expected 1" % d["tcp_rst_in"]
    # The listener still answers: a new connection from the same port.
    c2 = t.open_passive(41030, isn=0x40000)
    t.finish(c2)


def case_rst_exact(t):
    before = t.con.stats()
    c = t.open_passive(41040)
    t.echo_roundtrip(c, b"abc")
    c.tx(RST, ack=0, advance=False)  # SEG.SEQ = RCV.NXT
    c.gone()
    c.silent(what="an exact RST")
    d = stats_delta(before, t.con.stats(), "tcp_rst_in", "tcp_challenge")
    assert d == {"tcp_rst_in": 1, "tcp_challenge": 0}, "counters grew by %s" % d


def case_rst_in_window(t):
    c = t.open_passive(41050)
    t.echo_roundtrip(c, b"abc")  # so SND.NXT and RCV.NXT are not 1
    before = t.con.stats()
    for fl, off in ((RST, 100), (RST | ACK, 1), (RST, 500)):
        c.tx(fl, seq=c.snd_nxt + off, advance=False)
        c.expect("A", seq=4, ack=4, length=0,
                 what="challenge ACK to %s at RCV.NXT+%d" % (flag_str(fl), off))
        c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    c.silent(what="the challenge ACKs (no ping-pong)")
    d = stats_delta(before, t.con.stats(), "tcp_rst_in", "tcp_challenge")
    assert d == {"tcp_rst_in": 0, "tcp_challenge": 3}, "counters grew by %s" % d
    t.echo_roundtrip(c, b"still here")
    t.finish(c)


def case_rst_out_of_window(t):
    c = t.open_passive(41060)
    t.echo_roundtrip(c, b"abc")
    before = t.con.stats()
    for off in (5000, 0x40000000, -1, -100, -0x1000):
        c.tx(RST, seq=c.snd_nxt + off, advance=False)
        c.tx(RST | ACK, seq=c.snd_nxt + off, advance=False)
    c.silent(what="RSTs outside the window")
    c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    d = stats_delta(before, t.con.stats(), "tcp_rst_in", "tcp_challenge")
    assert d == {"tcp_rst_in": 0, "tcp_challenge": 0}, "counters grew by %s" % d
    t.echo_roundtrip(c, b"alive")
    t.finish(c)


def case_syn_in_window(t):
    c = t.open_passive(41070)
    t.echo_roundtrip(c, b"abc")
    before = t.con.stats()
    c.tx(SYN, seq=c.snd_nxt + 10, ack=0, advance=False, opts=mss_opt(1460))
    c.expect("A", seq=4, ack=4, length=0, what="challenge ACK to a SYN in ESTABLISHED")
    c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    c.silent(what="the challenge ACK")
    d = stats_delta(before, t.con.stats(), "tcp_challenge", "tcp_rst_in")
    assert d == {"tcp_challenge": 1, "tcp_rst_in": 0}, "counters grew by %s" % d
    t.echo_roundtrip(c, b"alive")
    t.finish(c)


def case_unacceptable_seq(t):
    c = t.open_passive(41080)
    t.echo_roundtrip(c, b"abc")
    before = t.con.stats()
    tests = [
        (PSH | ACK, c.snd_nxt + 3000, b"AHEAD"),   # past the window (echo's is <= 1024)
        (PSH | ACK, c.ours(1), b"abc"),            # all old: a duplicate
        (ACK, c.snd_nxt + 40000, b""),             # bare ACK out of the window
        (ACK, c.snd_nxt - 2, b""),                 # bare ACK below RCV.NXT
    ]
    for fl, seq, data in tests:
        c.tx(fl, data, seq=seq, advance=False)
        rel = (seq - c.iss) & M32
        c.expect("A", seq=4, ack=4, length=0,
                 what="%s at seq %d len %d (RCV.NXT 4)" % (flag_str(fl), rel, len(data)))
    c.silent(what="unacceptable segments (their data must not be echoed)")
    c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    d = stats_delta(before, t.con.stats(), "tcp_bad_seq")
    assert d["tcp_bad_seq"] == len(tests), "tcp_bad_seq grew by %d, expected %d" % (
        d["tcp_bad_seq"], len(tests))
    t.echo_roundtrip(c, b"def")
    t.finish(c)


def case_ack_unsent_data(t):
    c = t.open_passive(41090)
    t.echo_roundtrip(c, b"abc")
    before = t.con.stats()
    c.tx(PSH | ACK, b"zzz", ack=c.theirs(4 + 1000), advance=False)  # SND.NXT is 4
    c.expect("A", seq=4, ack=4, length=0, what="ACK of unsent data")
    c.silent(what="ACK of unsent data (its data must be dropped)")
    c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    d = stats_delta(before, t.con.stats(), "tcp_bad_ack")
    assert d["tcp_bad_ack"] == 1, "tcp_bad_ack grew by %d, expected 1" % d["tcp_bad_ack"]
    t.echo_roundtrip(c, b"ok")
    t.finish(c)


def case_ack_too_old(t):
    c = t.open_passive(41100)
    t.echo_roundtrip(c, b"abc")
    before = t.con.stats()
    # RFC 5961 5.2: acceptable only if SND.UNA - MAX.SND.WND <= SEG.ACK;
    # MAX.SND.WND <= 65535 without window scaling.
    c.tx(PSH | ACK, b"old", ack=c.theirs(4 - 0x20000), advance=False)
    c.expect("A", seq=4, ack=4, length=0, what="ACK far below SND.UNA")
    c.silent(what="a too old ACK (its data must be dropped)")
    c.state("ESTABLISHED", una=4, nxt=4, rcv=4)
    d = stats_delta(before, t.con.stats(), "tcp_bad_ack")
    assert d["tcp_bad_ack"] == 1, "tcp_bad_ack grew by %d, expected 1" % d["tcp_bad_ack"]
    # Control: an old ACK inside the range is a duplicate: ignored, data taken.
    c.tx(PSH | ACK, b"ok", ack=c.theirs(4 - 100))
    got = c.recv_stream(2)
    assert got == b"ok", "echo of data with an old (in range) ACK: %r" % got
    t.finish(c)


def case_out_of_order(t):
    c = t.open_passive(41110)
    before = t.con.stats()
    # Leave a hole at 1..5: send 6..10 and 11..15 first.
    delays = []
    for rel, chunk in ((6, b"WORLD"), (11, b"!!!!!")):
        sent = c.tx(PSH | ACK, chunk, seq=c.ours(rel), advance=False)
        s = c.expect("A", seq=1, ack=1, length=0, what="duplicate ACK for data at %d" % rel)
        delays.append(t.interval(sent, s.sent))
    # Immediate: well before the 200 ms delayed ACK (RFC 9293 3.10.7.4 / 5681 4.2).
    note("out-of-order: duplicate ACKs after %s s" % ", ".join("%.4f" % x for x in delays))
    assert max(delays) < 0.15, "duplicate ACKs after %s s: not immediate" % (
        ", ".join("%.3f" % x for x in delays))
    c.silent(what="out-of-order data (nothing may be echoed yet)")
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    d = stats_delta(before, t.con.stats(), "tcp_ooo")
    assert d["tcp_ooo"] == 2, "tcp_ooo grew by %d, expected 2" % d["tcp_ooo"]
    # Repair: the hole, then (the firmware keeps no out-of-order data) the rest.
    c.tx(PSH | ACK, b"hello")
    got = c.recv_stream(5)
    c.tx(PSH | ACK, b"WORLD")
    c.tx(PSH | ACK, b"!!!!!")
    got += c.recv_stream(10)
    assert got == b"helloWORLD!!!!!", "echo returned %r" % got
    c.state("ESTABLISHED", una=16, nxt=16, rcv=16)
    t.finish(c)


def case_connect_refused(t):
    mark = t.fw.mark()
    c, syn = t.connect(42010, isn=0x4000)
    assert syn.fl == "S", "firmware's SYN: %s" % c.show(syn)
    # 3.10.7.3: RST,ACK acknowledging the SYN -> "connection refused", CLOSED
    c.tx(RST | ACK, seq=0, ack=c.theirs(1), advance=False)
    t.fw.wait_for(r"^conn %d refused$" % c.id, 2, since=mark)
    c.gone()
    c.silent(what="RST,ACK in SYN-SENT")


def case_syn_sent_bad_ack(t):
    mark = t.fw.mark()
    c, syn = t.connect(42011, isn=0x5000)
    # 3.10.7.3 first: SEG.ACK =< ISS or > SND.NXT -> <SEQ=SEG.ACK><CTL=RST>
    for fl, rel in ((ACK, 1000), (SYN | ACK, 0), (SYN | ACK, 2)):
        c.tx(fl, seq=c.iss, ack=c.theirs(rel), advance=False, opts=mss_opt(1460) if fl & SYN else b"")
        s = c.expect("R", length=0, what="%s acking %d in SYN-SENT" % (flag_str(fl), rel))
        assert s.seq == c.theirs(rel), "RST seq=%#x, expected SEG.ACK %#x" % (s.seq, c.theirs(rel))
    # RST without ACK, RST with an unacceptable ACK: dropped.
    c.tx(RST, seq=c.iss, ack=0, advance=False)
    c.tx(RST | ACK, seq=c.iss, ack=c.theirs(5), advance=False)
    c.silent(what="RSTs that do not acknowledge the SYN")
    c.state("SYN-SENT")  # its numbers: see netstat-isn-tracking
    # A good SYN,ACK still opens it.
    c.tx(SYN | ACK, opts=mss_opt(1460))
    c.expect("A", seq=1, ack=1, length=0, what="ACK of our SYN,ACK")
    t.fw.wait_for(r"^conn %d established$" % c.id, 2, since=mark)
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    t.con.cmd("abort %d" % c.id, r"^abort: id %d$" % c.id)
    c.expect("R", seq=1, length=0, what="abort")
    c.gone()


def case_dup_syn_in_syn_received(t):
    c = Conn(t, 41250, ECHO, 0x250000)
    c.tx(SYN, opts=mss_opt(1460))
    c.expect("SA", ack=1, what="SYN,ACK")
    sent = c.tx(SYN, seq=c.iss, advance=False, opts=mss_opt(1460))  # our SYN again
    s = c.expect("SA", seq=0, ack=1, length=0, skip_retx=False,
                 what="SYN,ACK again for a repeated SYN")
    d = t.interval(sent, s.sent)
    note("dup-syn: SYN,ACK after %.4f s" % d)
    assert d < 0.15, "SYN,ACK %.3f s after the repeated SYN: not at once" % d
    c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    t.finish(c)


def case_syn_ack_retransmit(t):
    c = Conn(t, 41251, ECHO, 0x251000)
    c.tx(SYN, opts=mss_opt(1460))
    s1 = c.expect("SA", ack=1, what="SYN,ACK")
    # No ACK from us: the SYN,ACK again after the initial RTO (1 s, RFC 6298 2.1).
    s2 = c.expect("SA", seq=0, ack=1, length=0, timeout=3.0, skip_retx=False,
                  what="retransmitted SYN,ACK")
    d = t.interval(s1.sent, s2.sent)
    note("syn-ack-retransmit: after %.3f s" % d)
    assert 0.8 <= d <= 1.6, "SYN,ACK retransmitted after %.3f s, expected ~1 s" % d
    e = c.state("SYN-RECEIVED", una=0, nxt=1, rcv=1)
    assert e["rtx"] == 1, "netstat: %s, expected rtx=1" % e["line"]
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    t.finish(c)


def case_rto_retransmit(t):
    c = t.open_passive(41270)
    data = b"retransmit me"
    c.tx(PSH | ACK, data)
    s1 = c.expect("PA", seq=1, ack=14, data=data, what="echo")
    # We do not acknowledge it: the same segment after the RTO, then after 2 * RTO.
    s2 = c.expect("PA", seq=1, ack=14, data=data, timeout=3.0, skip_retx=False,
                  what="first retransmission")
    e = c.state("ESTABLISHED", una=1, nxt=14, rcv=14)
    assert e["rtx"] == 1, "netstat: %s, expected rtx=1" % e["line"]
    s3 = c.expect("PA", seq=1, ack=14, data=data, timeout=4.0, skip_retx=False,
                  what="second retransmission")
    d1, d2 = t.interval(s1.sent, s2.sent), t.interval(s2.sent, s3.sent)
    note("rto-retransmit: after %.3f s, then %.3f s" % (d1, d2))
    assert 0.15 <= d1 <= 1.6, "first retransmission after %.3f s" % d1
    assert d2 >= 1.5 * d1 * 0.9, "retransmissions after %.3f s then %.3f s: no backoff" % (d1, d2)
    c.rcv_nxt = c.theirs(14)
    c.ack()
    e = c.state("ESTABLISHED", una=14, nxt=14, rcv=14)
    t.finish(c)


def case_send_window(t):
    c = t.open_passive(41260, wnd=100)
    data = bytes((i * 17 + 5) & 0xFF for i in range(350))
    c.tx(PSH | ACK, data)
    segs = []
    got = c.recv_stream(len(data), segs_out=segs, check_wnd=True)
    assert got == data, "echo returned different bytes"
    assert max(len(s.data) for s in segs) == 100, "segment sizes %s" % [len(s.data) for s in segs]
    t.finish(c)


def chargen_stream(n, start=0):
    out = bytearray()
    pos = start
    while len(out) < n:
        line, col = divmod(pos % (95 * 74), 74)
        out += bytes([32 + (line + col) % 95]) if col < 72 else (b"\r" if col == 72 else b"\n")
        pos += 1
    return bytes(out)


def case_zero_window_probe(t):
    c = Conn(t, 41120, CHARGEN, 0x120000, wnd=0)
    c.tx(SYN, opts=mss_opt(1460))
    c.expect("SA", ack=1, what="SYN,ACK")
    sent = c.ack()  # ESTABLISHED with our window 0: chargen has data queued
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    p1 = c.expect("A", seq=1, ack=1, length=1, timeout=3.0, what="first zero-window probe")
    d1 = t.interval(sent, p1.sent)
    assert p1.data == chargen_stream(1), "probe byte %r, expected %r" % (p1.data, chargen_stream(1))
    assert 0.15 <= d1 <= 2.5, "first probe after %.3f s, expected about one RTO (0.2-1 s)" % d1
    c.ack(wnd=0)  # do not take the byte: the window is still 0
    p2 = c.expect("A", seq=1, ack=1, length=1, timeout=5.0, what="second probe", skip_retx=False)
    d2 = t.interval(p1.sent, p2.sent)
    note("zero-window: probes %.3f s after the window closed, then %.3f s later" % (d1, d2))
    assert p2.data == p1.data, "second probe %r, expected the same byte %r" % (p2.data, p1.data)
    assert d2 >= 1.5 * d1 * 0.9, "second probe %.3f s after the first (first after %.3f s): " \
        "no backoff" % (d2, d1)
    c.state("ESTABLISHED", una=1, nxt=2, rcv=1)
    # The window opens: we take the probe byte and offer 600.
    c.rcv_nxt = c.theirs(2)
    c.wnd = 600
    c.ack(wnd=600)
    segs = []
    c.wnd = 0  # take what comes, keep offering 0 so chargen stops
    got = c.recv_stream(512, timeout=3.0, ack=False, segs_out=segs)
    assert segs[0].seq == c.theirs(2), "after the window opened: %s" % c.show(segs[0])
    assert got == chargen_stream(512, 1), "chargen bytes after the probe differ: %r" % got[:40]
    assert all(len(s.data) <= 600 for s in segs), "sent past our window: %s" % [
        c.show(s) for s in segs]
    t.finish(c)


def case_seq_wraparound(t):
    c = Conn(t, 41130, ECHO, 0xFFFFFF00)
    c.tx(SYN, opts=mss_opt(1460))
    sa = c.expect("SA", ack=1, what="SYN,ACK")
    assert sa.ack == 0xFFFFFF01, "SYN,ACK ack=%#x, expected 0xffffff01" % sa.ack
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    a = bytes((i * 7 + 3) & 0xFF for i in range(300))  # 0xffffff01..0x2c: crosses 2^32
    b = bytes((i * 13 + 1) & 0xFF for i in range(300))  # 0x2d..0x158
    c.tx(PSH | ACK, a)
    assert c.snd_nxt == 0x2D, "test bug: snd_nxt %#x" % c.snd_nxt
    segs = []
    got = c.recv_stream(300, segs_out=segs)
    c.tx(PSH | ACK, b)
    got += c.recv_stream(300, segs_out=segs)
    assert got == a + b, "echo across the wrap returned different bytes"
    assert segs[-1].ack == 0x159, "last echo acks %#x, expected 0x159" % segs[-1].ack
    c.state("ESTABLISHED", una=601, nxt=601, rcv=601)
    # The FIN has a wrapped sequence number too.
    c.tx(FIN | ACK)
    f = c.expect(("FA", "A"), seq=601, ack=602, length=0, what="answer to our FIN at 0x159",
                 skip_old_acks=True)
    if f.fl == "A":
        f = c.expect("FA", seq=601, ack=602, length=0, what="echo's FIN")
    assert f.ack == 0x15A, "FIN acks %#x, expected 0x15a" % f.ack
    c.rcv_nxt = c.theirs(602)
    c.ack()
    c.gone()


def case_mss_absent(t):
    c = Conn(t, 41140, ECHO, 0x140000)
    c.tx(SYN)  # no options at all
    sa = c.expect("SA", ack=1, what="SYN,ACK")
    assert sa.mss == 1460, "SYN,ACK carries MSS %s, expected 1460" % sa.mss
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    data = bytes(range(256)) * 3 + bytes(232)  # 1000 bytes, fits echo's window
    c.tx(PSH | ACK, data)
    segs = []
    got = c.recv_stream(len(data), max_seg=536, segs_out=segs)
    assert got == data, "echo returned different bytes"
    sizes = [len(s.data) for s in segs]
    note("mss-absent: segment sizes %s" % sizes)
    # The firmware's segment size is min(MSS, TCP_TXBUF/2 = 512).
    assert max(sizes) <= 512, "segment sizes %s" % sizes
    t.finish(c)


def case_mss_100(t):
    c = Conn(t, 41150, ECHO, 0x150000)
    c.tx(SYN, opts=mss_opt(100))
    c.expect("SA", ack=1, what="SYN,ACK")
    c.ack()
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    data = bytes((i * 31) & 0xFF for i in range(450))
    c.tx(PSH | ACK, data)
    segs = []
    got = c.recv_stream(len(data), max_seg=100, segs_out=segs)
    assert got == data, "echo returned different bytes"
    sizes = [len(s.data) for s in segs]
    note("mss-100: segment sizes %s" % sizes)
    assert sizes[:4] == [100] * 4, "segment sizes %s, expected full 100-byte segments" % sizes
    t.finish(c)


BAD_OPTIONS = [
    ("length 0", b"\x08\x00\x00\x00"),
    ("length 1", b"\x03\x01\x00\x00"),
    ("past the header", b"\x01\x01\x08\x0a"),          # timestamps claim 10, 2 left
    ("MSS past the header", b"\x01\x01\x01\x02"),      # kind 2 as the last byte
    ("MSS length 3", b"\x02\x03\x05\x00"),
]


def case_bad_options(t):
    before = t.con.stats()
    ports = []
    for i, (_, opts) in enumerate(BAD_OPTIONS):
        for dport in (ECHO, CLOSED_PORT):
            sport = 41160 + 2 * i + (dport == CLOSED_PORT)
            t.peer.send_tcp(sport, dport, 0x160000, 0, SYN, opts=opts, doff=6)
            ports.append(sport)
    t.peer.silent(ports)
    n = 2 * len(BAD_OPTIONS)
    # An established connection: a data segment with a bad option is dropped.
    c = t.open_passive(41180)
    c.tx(PSH | ACK, b"bad", opts=b"\x08\x00\x00\x00", advance=False)
    c.silent(what="data with an option of length 0")
    d = stats_delta(before, t.con.stats(), "tcp_bad_opt", "tcp_rst_out")
    assert d == {"tcp_bad_opt": n + 1, "tcp_rst_out": 0}, \
        "counters grew by %s, expected tcp_bad_opt %d, tcp_rst_out 0" % (d, n + 1)
    t.echo_roundtrip(c, b"good")
    t.finish(c)
    # Control: legal options (NOP, unknown kind with length 2, MSS, EOL) are fine.
    c = Conn(t, 41181, ECHO, 0x161000)
    c.tx(SYN, opts=b"\x01\x01\x1e\x02" + mss_opt(1200) + b"\x00\x00\x00\x00")
    c.expect("SA", ack=1, what="SYN with unusual but valid options")
    t.finish(c)


def case_bad_checksum(t):
    before = t.con.stats()
    t.peer.send_tcp(41190, ECHO, 0x190000, 0, SYN, opts=mss_opt(1460), csum_delta=1)
    t.peer.send_tcp(41191, CLOSED_PORT, 0x190000, 0, SYN, csum_delta=0x100)
    t.peer.silent([41190, 41191])
    c = t.open_passive(41192)
    c.tx(RST, ack=0, advance=False, csum_delta=1)      # would reset it
    c.tx(PSH | ACK, b"junk", advance=False, csum_delta=7)
    c.silent(what="segments with bad checksums")
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    d = stats_delta(before, t.con.stats(), "tcp_bad_csum", "tcp_rst_in")
    assert d == {"tcp_bad_csum": 4, "tcp_rst_in": 0}, "counters grew by %s" % d
    t.echo_roundtrip(c, b"clean")
    t.finish(c)


def case_truncated_header(t):
    before = t.con.stats()
    ports = []
    for i, n in enumerate((19, 12, 4)):
        sport = 41200 + i
        full = tcp_bytes(HOST_IP, FW_IP, sport, ECHO, 0x200000, 0, SYN)[:n]
        # A correct checksum over what is left, where a checksum field remains.
        if n >= 18:
            pseudo = socket.inet_aton(HOST_IP) + socket.inet_aton(FW_IP) + \
                struct.pack("!BBH", 0, 6, n)
            full = full[:16] + b"\0\0" + full[18:]
            full = full[:16] + struct.pack("!H", fwlab.csum16(pseudo + full)) + full[18:]
        t.peer.send_ip(full)
        ports.append(sport)
    t.peer.silent(ports)
    d = stats_delta(before, t.con.stats(), "tcp_bad_hdr", "tcp_bad_csum")
    assert d == {"tcp_bad_hdr": 3, "tcp_bad_csum": 0}, \
        "counters grew by %s, expected tcp_bad_hdr 3 (short segments)" % d


def case_bad_data_offset(t):
    before = t.con.stats()
    ports = []
    for i, (doff, dport) in enumerate(((4, ECHO), (0, ECHO), (4, CLOSED_PORT), (15, ECHO),
                                       (7, CLOSED_PORT))):
        sport = 41210 + i
        t.peer.send_tcp(sport, dport, 0x210000, 0, SYN, doff=doff)  # 20 bytes, no options
        ports.append(sport)
    t.peer.silent(ports)
    d = stats_delta(before, t.con.stats(), "tcp_bad_hdr", "tcp_rst_out")
    assert d == {"tcp_bad_hdr": 5, "tcp_rst_out": 0}, "counters grew by %s" % d
    # On a connection: data offset 4 (the header would eat 4 bytes less).
    c = t.open_passive(41219)
    c.tx(PSH | ACK, b"xxxxoffset", doff=4, advance=False)
    c.silent(what="data offset 4 on an open connection")
    t.echo_roundtrip(c, b"fine")
    t.finish(c)


def case_invalid_flags(t):
    before = t.con.stats()
    probes = [
        (41220, ECHO, SYN | FIN, b""),
        (41221, ECHO, SYN | RST, b""),
        (41222, ECHO, 0, b""),
        (41223, ECHO, 0, b"nullflags"),
        (41224, CLOSED_PORT, SYN | FIN, b""),
        (41225, CLOSED_PORT, SYN | FIN | PSH | URG, b""),
        (41226, CLOSED_PORT, 0, b""),
        (41227, CLOSED_PORT, SYN | RST | ACK, b""),
    ]
    for sport, dport, fl, data in probes:
        t.peer.send_tcp(sport, dport, 0x220000, 0, fl, data=data)
    t.peer.silent([p[0] for p in probes])
    n = len(probes)
    # In ESTABLISHED: SYN+FIN in the window draws no challenge ACK; a segment
    # without flags carrying data is neither ACKed nor echoed.
    c = t.open_passive(41228)
    c.tx(SYN | FIN | ACK, seq=c.snd_nxt, advance=False)
    c.tx(0, b"noflags", ack=0, advance=False)
    c.silent(what="invalid flag mixes in ESTABLISHED")
    c.state("ESTABLISHED", una=1, nxt=1, rcv=1)
    d = stats_delta(before, t.con.stats(), "tcp_bad_flags", "tcp_rst_out", "tcp_challenge")
    assert d == {"tcp_bad_flags": n + 2, "tcp_rst_out": 0, "tcp_challenge": 0}, \
        "counters grew by %s, expected tcp_bad_flags %d" % (d, n + 2)
    t.echo_roundtrip(c, b"ok")
    t.finish(c)


def case_fin_xmas_no_ack(t):
    # Closed port: 3.10.7.1, no ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    probes = [
        (41230, FIN, b"", 0x230001),
        (41231, FIN | PSH | URG, b"", 0x230001),
        (41232, FIN | PSH | URG, b"xmas", 0x230005),
    ]
    for sport, fl, data, _ in probes:
        t.peer.send_tcp(sport, CLOSED_PORT, 0x230000, 0, fl, data=data, urp=1 if fl & URG else 0)
    for sport, fl, data, eack in probes:
        s = t.peer.take(sport)
        assert s is not None, "no RST to %s on a closed port" % flag_str(fl)
        assert s.fl == "RA" and s.seq == 0 and s.ack == eack and s.csum_ok, \
            "to %s len=%d: got %r, expected RA seq=0 ack=%#x" % (flag_str(fl), len(data), s, eack)
    # Listening port, no connection: 3.10.7.2 "fourth": no SYN, no ACK -> drop.
    t.peer.send_tcp(41233, ECHO, 0x230000, 0, FIN)
    t.peer.send_tcp(41234, ECHO, 0x230000, 0, FIN | PSH | URG, urp=1)
    t.peer.silent([p[0] for p in probes] + [41233, 41234])
    for p in (41233, 41234):
        Conn(t, p, ECHO, 0).gone()


def case_other_address(t):
    before = t.con.stats()
    mark = t.peer.mark()
    # Right MAC, another IP; another unicast MAC, right IP; to a closed port too.
    t.peer.send_tcp(41240, ECHO, 0x240000, 0, SYN, dst_ip=OTHER_IP, opts=mss_opt(1460))
    t.peer.send_tcp(41241, CLOSED_PORT, 0x240000, 0x1, ACK, dst_ip=OTHER_IP)
    t.peer.send_tcp(41242, ECHO, 0x240000, 0, SYN, dst_mac=OTHER_MAC, opts=mss_opt(1460))
    t.peer.send_tcp(41243, CLOSED_PORT, 0x240000, 0x1, ACK, dst_mac=OTHER_MAC)
    time.sleep(QUIET)
    sent = t.peer.frames_since(mark)
    assert not sent, "the firmware sent %d frame(s), first: %s" % (len(sent), sent[0][1][:54].hex())
    d = stats_delta(before, t.con.stats(), "ip_not_us", "eth_not_us", "rx_frames", "tcp_seg_in")
    note("other-address: counters grew by %s" % d)
    assert d["ip_not_us"] == 2, "ip_not_us grew by %d, expected 2" % d["ip_not_us"]
    # QEMU's LAN9118 filters unicast MACs itself: the stack sees them (and
    # counts eth_not_us) only if it does not.
    assert d["tcp_seg_in"] == 0, "segments not for us reached TCP: %s" % d
    assert d["rx_frames"] - d["eth_not_us"] == 2, \
        "counters %s: frames for another MAC got through the filters" % d


def case_table_clean(t):
    conns, listeners, out = t.con.netstat()
    want = [(FW_IP, p) for p in (ECHO, DISCARD, CHARGEN)]
    assert sorted(listeners) == sorted(want), "listeners %s, expected %s" % (listeners, want)
    assert not conns, "connections left: %s" % "; ".join(e["line"] for e in conns)


CASES = [
    ("passive-open", case_passive_open),
    ("active-open", case_active_open),
    ("abort", case_abort),
    ("simultaneous-open", case_simultaneous_open),
    ("connect-refused", case_connect_refused),
    ("syn-sent-bad-ack", case_syn_sent_bad_ack),
    ("dup-syn-in-syn-received", case_dup_syn_in_syn_received),
    ("syn-ack-retransmit", case_syn_ack_retransmit),
    ("passive-close", case_passive_close),
    ("passive-close-echo", case_passive_close_echo),
    ("active-close", case_active_close),
    ("fin-wait-1-fin-ack", case_fin_wait_1_fin_ack),
    ("simultaneous-close", case_simultaneous_close),
    ("time-wait-reack", case_time_wait_reack),
    ("time-wait-old-syn", case_time_wait_old_syn),
    ("time-wait-new-syn-no-listener", case_time_wait_new_syn_no_listener),
    ("rst-closed-port", case_rst_closed_port),
    ("listen-ack-rst", case_listen_ack_rst),
    ("rst-in-syn-received", case_rst_in_syn_received),
    ("rst-exact", case_rst_exact),
    ("rst-in-window", case_rst_in_window),
    ("rst-out-of-window", case_rst_out_of_window),
    ("syn-in-window", case_syn_in_window),
    ("unacceptable-seq", case_unacceptable_seq),
    ("ack-unsent-data", case_ack_unsent_data),
    ("ack-too-old", case_ack_too_old),
    ("out-of-order", case_out_of_order),
    ("rto-retransmit", case_rto_retransmit),
    ("send-window", case_send_window),
    ("zero-window-probe", case_zero_window_probe),
    ("seq-wraparound", case_seq_wraparound),
    ("mss-absent", case_mss_absent),
    ("mss-100", case_mss_100),
    ("bad-options", case_bad_options),
    ("bad-checksum", case_bad_checksum),
    ("truncated-header", case_truncated_header),
    ("bad-data-offset", case_bad_data_offset),
    ("invalid-flags", case_invalid_flags),
    ("fin-xmas-no-ack", case_fin_xmas_no_ack),
    ("other-address", case_other_address),
    ("netstat-isn-tracking", case_netstat_isn_tracking),
    ("table-clean", case_table_clean),
]


def main():
    suite = fwlab.Suite(__file__)
    fw = suite.boot()
    only = os.environ.get("CONF_ONLY")
    t0 = time.monotonic()
    try:
        t = T(fw, os.environ.get("CONF_TRACE") == "1")
    except Exception as e:  # noqa: BLE001
        suite.fail("setup", "%s: %s" % (type(e).__name__, e))
        suite.exit()
    try:
        for name, fn in CASES:
            if only and not re.search(only, name):
                continue
            if not suite.case(name, fn, t) and fw.alive():
                try:
                    left = t.cleanup()
                except Exception as e:  # noqa: BLE001
                    left = ["cleanup failed: %s" % e]
                if left:
                    fwlab.log("  (aborted after %s: %s)" % (name, "; ".join(left)))
            if not fw.alive():
                suite.fail("firmware", "QEMU exited after %s: %s" % (name, fw.qemu_output(400)))
                break
    finally:
        t.peer.close()
    fwlab.log("conformance: %.1f s" % (time.monotonic() - t0))
    suite.exit()


if __name__ == "__main__":
    main()
