#!/usr/bin/python3
"""TCP end to end against Linux (issue 3), each run checked in its capture.

Passive open, passive close (the host opens and closes first):
  echo-256k            `nc -N 192.168.7.2 7` sends 256 KiB of random bytes and
                       gets the same bytes back (sha256), then ends by itself
                       (the firmware's echo closes once the peer's FIN came and
                       its data is echoed)
  echo-256k-capture    that connection in the capture (scapy): exactly SYN,
                       SYN-ACK, ACK first; both byte streams equal the data;
                       the close is the host's FIN, then the firmware's FIN
                       (its ACK of the host's FIN is a segment of its own, or
                       rides on the FIN), then the host's ACK of it, and nothing
                       after; no RST, one FIN each way, checksums valid
  echo-256k-freed      netstat: the connection is gone (LAST-ACK -> CLOSED)

Active open, active close (the firmware opens and closes first):
  active-nc            `connect 192.168.7.1 <port>` to `nc -l`; console `send`
                       reaches nc's stdout, nc's stdin reaches the console
                       (`conn <id> data`); `close <id>`; netstat shows the id in
                       TIME-WAIT with una = nxt = 2 + bytes sent (SYN, data,
                       FIN) and rcv = 2 + bytes received; the trace shows
                       SYN-SENT, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT
  active-nc-capture    exactly SYN, SYN-ACK, ACK first (the firmware's SYN with
                       MSS 1460); the close is the firmware's FIN, then either
                       the host's ACK and the host's FIN (FIN, ACK, FIN, ACK)
                       or both in one FIN+ACK (FIN, FIN+ACK, ACK: Linux delays
                       the ACK of a FIN in CLOSE-WAIT for up to ~40-200 ms to
                       piggyback it on its own FIN, and nc -l closes at once),
                       then the firmware's ACK, and nothing after
  active-slow-peer     the same with a Linux peer (a python socket) that closes
                       1 s after the firmware's FIN: netstat shows FIN-WAIT-2 in
                       between, and the capture shows exactly FIN, ACK, FIN, ACK
  active-slow-peer-capture

The firmware's 2*MSL (240 s by default) is longer than this test: the
TIME-WAIT entries stay until QEMU is stopped, which is fine here.
"""
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwlab  # noqa: E402
from fwlab import FW_IP, HOST_IP  # noqa: E402

ECHO_PORT = 7
ECHO_SIZE = 256 * 1024
NC_PORT = 5001        # nc -l on the host
SLOW_PORT = 5002      # the python listener that closes late
FW_MSS = 1460

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


def sha(b):
    return hashlib.sha256(b).hexdigest()


wait_until = fwlab.wait_until  # shared by the e2e tests


def host_listening(port):
    r = fwlab.sh(["ss", "-Hltn", "sport = :%d" % port], timeout=5)
    return bool(r.stdout.strip())


def conn_segments(segs, a, b):
    """Segments between endpoints a and b ((ip, port) each), both ways, in
    capture order."""
    return [s for s in segs if ((s.src, s.sport) == a and (s.dst, s.dport) == b) or
            ((s.src, s.sport) == b and (s.dst, s.dport) == a)]


def seg_list(segs, n=12):
    return "; ".join(repr(s) for s in segs[:n]) + (" ..." if len(segs) > n else "")


def check_handshake(conn, client, server):
    """The first three segments are exactly SYN, SYN-ACK, ACK with the right
    numbers, and no other SYN appears. Returns (client ISN, server ISN)."""
    assert len(conn) >= 3, "only %d segments: %s" % (len(conn), seg_list(conn))
    syn, synack, ack = conn[:3]
    ctl = SYN | FIN | RST | ACK
    frm = lambda s, ep: (s.src, s.sport) == ep  # noqa: E731
    problems = []
    if not (frm(syn, client) and syn.flags & ctl == SYN and not syn.payload):
        problems.append("1st is not the client's bare SYN: %r" % syn)
    if not (frm(synack, server) and synack.flags & ctl == SYN | ACK and not synack.payload):
        problems.append("2nd is not the server's SYN-ACK: %r" % synack)
    elif synack.ack != (syn.seq + 1) & 0xFFFFFFFF:
        problems.append("SYN-ACK acks %d, want SYN.seq+1 = %d" % (synack.ack, syn.seq + 1))
    # RFC 9293 would allow data on the third segment; Linux and this firmware
    # send a bare ACK, but data would not make it wrong.
    if not (frm(ack, client) and ack.flags & ctl == ACK):
        problems.append("3rd is not the client's ACK: %r" % ack)
    else:
        if ack.seq != (syn.seq + 1) & 0xFFFFFFFF:
            problems.append("ACK has seq %d, want ISN+1 = %d" % (ack.seq, syn.seq + 1))
        if ack.ack != (synack.seq + 1) & 0xFFFFFFFF:
            problems.append("ACK acks %d, want server ISN+1 = %d" % (ack.ack, synack.seq + 1))
    extra = [s for s in conn[3:] if s.syn]
    if extra:
        problems.append("more SYNs after the handshake: %s" % seg_list(extra))
    assert not problems, "; ".join(problems) + " | segments: " + seg_list(conn, 6)
    return syn.seq, synack.seq


def check_close(conn, closer, other, want_form=None):
    """The close: `closer` (ip, port) sends the first FIN. Checks everything
    that follows it and returns the form seen: "FIN, ACK, FIN, ACK" or
    "FIN, FIN+ACK, ACK"."""
    frm = lambda s, ep: (s.src, s.sport) == ep  # noqa: E731
    rst = [s for s in conn if s.rst]
    assert not rst, "RST in the connection: %s" % seg_list(rst)
    fa = [s for s in conn if s.fin and frm(s, closer)]
    fb = [s for s in conn if s.fin and frm(s, other)]
    assert len(fa) == 1 and len(fb) == 1, "want one FIN each way, got %d from %s:%d and %d " \
        "from %s:%d: %s" % (len(fa), closer[0], closer[1], len(fb), other[0], other[1],
                            seg_list(fa + fb))
    fa, fb = fa[0], fb[0]
    assert fa.i < fb.i, "the FIN of %s:%d came first (%r, then %r)" % (other + (fb, fa))
    a_fin = (fa.seq + len(fa.payload)) & 0xFFFFFFFF   # the sequence number of each FIN
    b_fin = (fb.seq + len(fb.payload)) & 0xFFFFFFFF
    want_a = (a_fin + 1) & 0xFFFFFFFF
    want_b = (b_fin + 1) & 0xFFFFFFFF
    # The first ACK of the first FIN, from the other side, after it.
    acks_a = [s for s in conn if frm(s, other) and s.i > fa.i and s.has_ack and s.ack == want_a]
    assert acks_a, "%s:%d never ACKed the FIN %r" % (other + (fa,))
    ack_a = acks_a[0]
    assert fb.has_ack and fb.ack == want_a, \
        "the second FIN %r does not ack the first (want ack=%d)" % (fb, want_a)
    assert ack_a.i <= fb.i, "impossible: %r acks the FIN before %r" % (ack_a, fb)
    # The last ACK: the closer acks the second FIN; nothing follows it. Bare
    # ACKs of earlier data may still come in between (e.g. a delayed ACK).
    finals = [s for s in conn if frm(s, closer) and s.i > fb.i and s.has_ack and s.ack == want_b]
    assert finals, "%s:%d never ACKed the FIN %r" % (closer + (fb,))
    final = finals[0]
    assert final.flags & (SYN | FIN | RST | ACK) == ACK and not final.payload and \
        final.seq == want_a, "after the second FIN %r, want a bare ACK seq=%d ack=%d from " \
        "%s:%d, got %r" % (fb, want_a, want_b, closer[0], closer[1], final)
    between = [s for s in conn if frm(s, closer) and fb.i < s.i < final.i and
               (s.payload or s.fin or (s.ack - want_b) & 0x80000000 == 0)]
    assert not between, "between the second FIN and its ACK, %s:%d sent %s" % (
        closer + (seg_list(between),))
    after = [s for s in conn if s.i > final.i]
    assert not after, "segments after the last ACK %r: %s" % (final, seg_list(after))
    form = "FIN, FIN+ACK, ACK" if ack_a is fb else "FIN, ACK, FIN, ACK"
    if form == "FIN, ACK, FIN, ACK" and other[0] == HOST_IP:
        # Linux's ACK of a FIN it did not answer at once is a bare ACK.
        assert not ack_a.payload and not ack_a.fin, "the ACK of the first FIN: %r" % ack_a
    if want_form:
        assert form == want_form, "close was %s, want %s: %r / %r / %r / %r" % (
            form, want_form, fa, ack_a, fb, final)
    return form


def check_checksums(conn):
    bad = [s for s in conn if not s.csum_ok]
    assert not bad, "%d segments with a bad TCP checksum: %s" % (len(bad), seg_list(bad))


# --------------------------------------------------------------------------
# Passive: nc -> echo


class EchoRun:
    def __init__(self):
        self.data = os.urandom(ECHO_SIZE)
        self.since = 0
        self.got = None
        self.client = None  # (HOST_IP, port)


def case_echo(fw, run):
    run.since = len(fw.frames())
    with tempfile.TemporaryDirectory(prefix="tcp-e2e-") as d:
        src, dst = os.path.join(d, "in"), os.path.join(d, "out")
        with open(src, "wb") as f:
            f.write(run.data)
        t0 = time.monotonic()
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            try:
                r = subprocess.run(["nc", "-N", FW_IP, str(ECHO_PORT)], stdin=fin, stdout=fout,
                                   stderr=subprocess.PIPE, timeout=60)
            except subprocess.TimeoutExpired:
                raise AssertionError("nc did not end within 60 s (got %d bytes back)"
                                     % os.path.getsize(dst))
        took = time.monotonic() - t0
        with open(dst, "rb") as f:
            run.got = f.read()
    assert r.returncode == 0, "nc exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace"))
    assert len(run.got) == len(run.data) and sha(run.got) == sha(run.data), \
        "sent %d bytes (sha256 %s), got %d back (sha256 %s)" % (
            len(run.data), sha(run.data)[:16], len(run.got), sha(run.got)[:16])
    fwlab.log("  echo: %d bytes both ways in %.2f s" % (len(run.data), took))


def echo_conn(fw, run):
    time.sleep(0.3)  # the last ACK may still be on its way into the capture
    segs = fwlab.tcp_segments(fw.pcap, since=run.since, port=ECHO_PORT)
    syns = [s for s in segs if s.syn and not s.has_ack and s.dport == ECHO_PORT]
    assert len(syns) == 1, "want one SYN to port 7, got %s" % seg_list(syns)
    run.client = (syns[0].src, syns[0].sport)
    return conn_segments(segs, run.client, (FW_IP, ECHO_PORT))


def case_echo_capture(fw, run):
    conn = echo_conn(fw, run)
    fw_ep = (FW_IP, ECHO_PORT)
    check_handshake(conn, run.client, fw_ep)
    synack = conn[1]
    assert synack.mss == FW_MSS, "the firmware's SYN-ACK has MSS %s, want %d" % (synack.mss, FW_MSS)
    check_checksums(conn)
    up, p1 = fwlab.tcp_stream(conn, *run.client)
    down, p2 = fwlab.tcp_stream(conn, *fw_ep)
    assert not p1 and up == run.data, "host->firmware stream: %d bytes, %s %s" % (
        len(up), "equal" if up == run.data else "differ", p1)
    assert not p2 and down == run.data, "firmware->host stream: %d bytes, %s %s" % (
        len(down), "equal" if down == run.data else "differ", p2)
    form = check_close(conn, run.client, fw_ep)
    fwlab.log("  capture: %d segments, handshake ok, close %s" % (len(conn), form))


def case_echo_freed(fw, run):
    assert run.client, "no connection found in the capture"
    port = run.client[1]
    wait_until(lambda: not [c for c in fw.netstat() if c.rport == port], 5,
               "the echo connection (host port %d) to leave netstat" % port)


# --------------------------------------------------------------------------
# Active: the firmware connects out and closes first


class ActiveRun:
    def __init__(self, port):
        self.port = port
        self.since = 0
        self.id = None
        self.lport = None
        self.fw_text = "hello host, here is the firmware"
        self.host_text = "hello firmware, here is the host"


def trace_states(fw, start, cid):
    return re.findall(r"^tcp %d ([A-Z0-9-]+) -> ([A-Z0-9-]+)$" % cid, fw.output()[start:], re.M)


def netstat_entry(fw, cid):
    return next((c for c in fw.netstat() if c.id == cid), None)


def expect_sent_in_time_wait(fw, run, cid):
    fw_len = len(run.fw_text) + 1   # `send` adds LF
    host_len = len(run.host_text) + 1
    c = wait_until(lambda: (lambda e: e if e and e.state == "TIME-WAIT" else None)(
        netstat_entry(fw, cid)), 5, "connection %d in TIME-WAIT (netstat)" % cid)
    want = (FW_IP, HOST_IP, run.port, 2 + fw_len, 2 + fw_len, 2 + host_len, 0)
    got = (c.lip, c.rip, c.rport, c.una, c.nxt, c.rcv, c.rtx)
    assert got == want, "netstat: %r; want %s:%d, una=nxt=%d (SYN+data+FIN), rcv=%d, rtx=0" % (
        c, HOST_IP, run.port, 2 + fw_len, 2 + host_len)
    return c


def firmware_open_and_talk(fw, run, peer_send):
    """connect, wait for established, send both ways. peer_send(bytes) writes
    to the host side. Returns the console output start (for the trace)."""
    fw.ask("trace on", r"^trace: on$")
    start = fw.mark()
    run.since = len(fw.frames())
    run.id = fw.connect(HOST_IP, run.port)
    fw.wait_for(r"^conn %d established$" % run.id, 5)
    out = fw.ask("send %d %s" % (run.id, run.fw_text), r"^(send: \d+ bytes|error: .*)$")
    assert re.search(r"^send: %d bytes$" % (len(run.fw_text) + 1), out, re.M), out
    peer_send((run.host_text + "\n").encode())
    want = 'conn %d data "%s\\\\n"' % (run.id, re.escape(run.host_text))
    fw.wait_for(r"^" + want + "$", 5)
    e = netstat_entry(fw, run.id)
    assert e and e.state == "ESTABLISHED", "netstat before close: %r" % e
    run.lport = e.lport
    return start


def check_trace(fw, start, run):
    want = [("CLOSED", "SYN-SENT"), ("SYN-SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN-WAIT-1"),
            ("FIN-WAIT-1", "FIN-WAIT-2"), ("FIN-WAIT-2", "TIME-WAIT")]
    got = trace_states(fw, start, run.id)
    assert got == want, "trace state changes of %d: %s, want %s" % (run.id, got, want)


def case_active_nc(fw, run):
    assert host_listening(run.port) is False, "port %d already in use on the host" % run.port
    nc = subprocess.Popen(["nc", "-l", HOST_IP, str(run.port)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: host_listening(run.port), 5, "nc -l to listen")

        def peer_send(b):
            nc.stdin.write(b)
            nc.stdin.flush()
        start = firmware_open_and_talk(fw, run, peer_send)
        out = fw.ask("close %d" % run.id, r"^(close: id \d+|error: .*)$")
        assert "close: id %d" % run.id in out, out
        expect_sent_in_time_wait(fw, run, run.id)
        try:
            stdout, stderr = nc.communicate(timeout=5)  # closes nc's stdin too
        except subprocess.TimeoutExpired:
            raise AssertionError("nc -l did not end within 5 s of the firmware's close")
        assert nc.returncode == 0, "nc -l exited %d: %s" % (nc.returncode, stderr)
        assert stdout == (run.fw_text + "\n").encode(), "nc -l got %r" % stdout
        fw.ask("trace off", r"^trace: off$")
        check_trace(fw, start, run)
    finally:
        if nc.poll() is None:
            nc.kill()
            nc.wait(timeout=5)


def case_active_capture(fw, run, want_form=None):
    assert run.lport, "no connection (the case before failed)"
    time.sleep(0.3)
    segs = fwlab.tcp_segments(fw.pcap, since=run.since, port=run.port)
    fw_ep, host_ep = (FW_IP, run.lport), (HOST_IP, run.port)
    conn = conn_segments(segs, fw_ep, host_ep)
    check_handshake(conn, fw_ep, host_ep)
    assert conn[0].mss == FW_MSS, "the firmware's SYN has MSS %s, want %d" % (conn[0].mss, FW_MSS)
    check_checksums(conn)
    up, p1 = fwlab.tcp_stream(conn, *fw_ep)
    down, p2 = fwlab.tcp_stream(conn, *host_ep)
    assert up == (run.fw_text + "\n").encode() and not p1, "firmware sent %r %s" % (up, p1)
    assert down == (run.host_text + "\n").encode() and not p2, "host sent %r %s" % (down, p2)
    form = check_close(conn, fw_ep, host_ep, want_form)
    fwlab.log("  capture: %d segments, handshake ok, close %s" % (len(conn), form))


class SlowPeer(threading.Thread):
    """A Linux TCP peer (python socket) for the firmware to connect to: it
    answers the firmware's data, and closes `delay` s after the firmware's FIN."""

    def __init__(self, port, delay):
        super().__init__(daemon=True)
        self.delay = delay
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((HOST_IP, port))
        self.ls.listen(1)
        self.ls.settimeout(10)
        self.conn = None
        self.ready = threading.Event()
        self.got = b""
        self.eof_at = None
        self.error = None

    def run(self):
        try:
            self.conn, _ = self.ls.accept()
            self.conn.settimeout(15)
            self.ready.set()
            while True:
                b = self.conn.recv(4096)
                if not b:
                    break
                self.got += b
            self.eof_at = time.monotonic()
            time.sleep(self.delay)
            self.conn.close()
        except Exception as e:  # noqa: BLE001
            self.error = e
            self.ready.set()
        finally:
            self.ls.close()

    def send(self, b):
        assert self.ready.wait(5) and self.conn, "no connection accepted: %s" % self.error
        self.conn.sendall(b)


def case_active_slow(fw, run):
    peer = SlowPeer(run.port, 1.0)
    peer.start()
    try:
        start = firmware_open_and_talk(fw, run, peer.send)
        out = fw.ask("close %d" % run.id, r"^(close: id \d+|error: .*)$")
        assert "close: id %d" % run.id in out, out
        c = wait_until(lambda: (lambda e: e if e and e.state != "FIN-WAIT-1" else None)(
            netstat_entry(fw, run.id)), 2, "the firmware's FIN to be ACKed")
        assert c.state == "FIN-WAIT-2", "while the peer has not closed: %r, want FIN-WAIT-2" % c
        expect_sent_in_time_wait(fw, run, run.id)
        peer.join(10)
        assert peer.error is None, "peer: %s" % peer.error
        assert peer.got == (run.fw_text + "\n").encode(), "peer got %r" % peer.got
        fw.ask("trace off", r"^trace: off$")
        check_trace(fw, start, run)
    finally:
        peer.join(10)


def main():
    suite = fwlab.Suite(__file__)
    fw = suite.boot()
    echo = EchoRun()
    suite.case("echo-256k", case_echo, fw, echo)
    suite.case("echo-256k-capture", case_echo_capture, fw, echo)
    suite.case("echo-256k-freed", case_echo_freed, fw, echo)
    nc = ActiveRun(NC_PORT)
    suite.case("active-nc", case_active_nc, fw, nc)
    suite.case("active-nc-capture", case_active_capture, fw, nc)
    slow = ActiveRun(SLOW_PORT)
    suite.case("active-slow-peer", case_active_slow, fw, slow)
    suite.case("active-slow-peer-capture", case_active_capture, fw, slow, "FIN, ACK, FIN, ACK")
    suite.exit()


if __name__ == "__main__":
    main()
