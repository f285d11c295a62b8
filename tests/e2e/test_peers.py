#!/usr/bin/python3
"""Linux peers (nc, socat) against echo, discard and chargen (issue 4 item 2).

Bulk data, 1 MiB each way, once with `nc` (netcat-openbsd) and once with
`socat`:
  echo-1m-nc, echo-1m-socat       1 MiB of random bytes through echo (port 7)
                                  come back identical (sha256); the peer ends
                                  by itself after its half-close
  discard-1m-nc, discard-1m-socat 1 MiB into discard (port 9), the peer keeping
                                  the connection open afterwards (nc without -N,
                                  socat with ignoreeof): the firmware's netstat
                                  shows rcv = 1 + 1 MiB (all of it taken), the
                                  host's `ss` shows bytes_acked = 1 + 1 MiB and
                                  nothing unacked, the firmware's tcp_seg_in and
                                  tcp_seg_out grew by exactly the segments the
                                  capture shows each way and no error counter
                                  moved; then the peer is stopped (FIN), the
                                  firmware ACKs the FIN and the entry goes
  chargen-1m-nc, chargen-1m-socat the first 1 MiB out of chargen (port 19) is
                                  the firmware's RFC 864 stream
                                  (firmware/app/services.c: line L holds the 72
                                  printable characters from ' ' + L mod 95,
                                  then CR LF; 95 lines, 7030 bytes, repeat);
                                  stopping the peer resets the connection and
                                  the entry goes
Many connections:
  parallel-8       8 connections at once (the table size; 4 nc, 4 socat) are
                   all ESTABLISHED together, then each echoes 128 KiB of its
                   own random bytes correctly
  sequential-200   200 connections one after another (100 nc, 100 socat), each
                   echoing a line; netstat at the end: no entry left behind
                   (the peer closes first in every one, so the firmware goes
                   CLOSE-WAIT, LAST-ACK, CLOSED and has no TIME-WAIT to keep)
  time-wait-12     the firmware connects out 12 times to a socat listener and
                   closes first each time: its table (8) ends up holding exactly
                   8 TIME-WAIT entries, those of the 8 newest connections (the
                   oldest TIME-WAIT is recycled for each new one) and nothing
                   else; then a passive echo connection still gets a slot (the
                   oldest TIME-WAIT again) and afterwards the 7 newest remain

No short-MSL build is needed: only time-wait-12 leaves TIME-WAIT entries, and
it wants them to stay (2*MSL = 240 s by default) while it counts them.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwlab  # noqa: E402
from fwlab import FW_IP, HOST_IP  # noqa: E402

MIB = 1 << 20
ECHO, DISCARD, CHARGEN = 7, 9, 19
TW_PORT = 5003
TABLE = 8  # TCP_MAX_CONNS, also printed in the banner ("tcp conns 8")
ERROR_STATS = ("tcp_bad_csum", "tcp_bad_hdr", "tcp_bad_opt", "tcp_bad_flags", "tcp_bad_seq",
               "tcp_bad_ack", "tcp_ooo", "tcp_no_conn", "tcp_rst_in", "tcp_rst_out",
               "tcp_retrans", "tcp_timeouts", "eth_rx_dropped", "eth_rx_overrun", "eth_rx_errors",
               "eth_tx_errors", "arp_unresolved")


def sha(b):
    return hashlib.sha256(b).hexdigest()[:16]


wait_until = fwlab.wait_until  # shared by the e2e tests


stop = fwlab.stop_process  # end a peer process we started, by its pid


def echo_cmd(tool, port=ECHO):
    if tool == "nc":
        return ["nc", "-N", FW_IP, str(port)]
    # -t: after our EOF, wait (up to 60 s) for the echo to end with the FIN
    return ["socat", "-t", "60", "-", "TCP:%s:%d" % (FW_IP, port)]


def tool_conns(fw, port):
    return [c for c in fw.netstat() if c.lport == port]


def gone(fw, port, rport=None):
    return not [c for c in tool_conns(fw, port) if rport is None or c.rport == rport]


class Tmp:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="test-peers-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def cleanup(self):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)


# --------------------------------------------------------------------------
# 1 MiB each way


def case_echo(fw, tmp, tool):
    data = os.urandom(MIB)
    src, dst = tmp.path("echo-in-" + tool), tmp.path("echo-out-" + tool)
    with open(src, "wb") as f:
        f.write(data)
    t0 = time.monotonic()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        p = subprocess.Popen(echo_cmd(tool), stdin=fin, stdout=fout, stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            stop(p)
            raise AssertionError("%s did not end within 90 s (%d bytes back)"
                                 % (tool, os.path.getsize(dst)))
    took = time.monotonic() - t0
    with open(dst, "rb") as f:
        got = f.read()
    assert p.returncode == 0, "%s exited %d: %s" % (tool, p.returncode,
                                                    err.decode(errors="replace"))
    assert got == data, "sent %d bytes (sha256 %s), got %d back (sha256 %s)" % (
        len(data), sha(data), len(got), sha(got))
    wait_until(lambda: gone(fw, ECHO), 5, "the echo connection to leave netstat")
    fwlab.log("  %s: 1 MiB echoed in %.2f s" % (tool, took))


def ss_info(port):
    """The host's established connections to the firmware's port: [ss -i text]."""
    r = fwlab.sh(["ss", "-Htni", "state", "established", "dst", "%s:%d" % (FW_IP, port)],
                 timeout=5)
    return r.stdout


def case_discard(fw, tmp, tool):
    src = tmp.path("discard-in")
    with open(src, "wb") as f:
        f.write(os.urandom(MIB))
    since = len(fw.frames())
    s0 = fw.stats()
    if tool == "nc":  # no -N: stays connected after EOF on stdin, sends no FIN
        cmd = ["nc", FW_IP, str(DISCARD)]
    else:             # ignoreeof: keeps reading the file after its end, no FIN
        cmd = ["socat", "-u", "OPEN:%s,ignoreeof" % src, "TCP:%s:%d" % (FW_IP, DISCARD)]
    with open(src, "rb") as fin:
        p = subprocess.Popen(cmd, stdin=fin if tool == "nc" else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.monotonic()
        c = wait_until(lambda: [c for c in tool_conns(fw, DISCARD) if c.rcv == MIB + 1], 60,
                       "netstat to show rcv=%d on port 9 (%s)" % (MIB + 1, tool), step=0.2)[0]
        took = time.monotonic() - t0
        assert c.state == "ESTABLISHED" and c.una == 1 and c.nxt == 1, "netstat: %r" % c
        # The firmware may still hold a delayed ACK (up to 200 ms) for the tail.
        acked = "bytes_acked:%d " % (MIB + 1)

        def all_acked():
            i = ss_info(DISCARD)
            return (acked in i + " " and "unacked:" not in i, i)
        deadline = time.monotonic() + 5
        while True:
            ok, info = all_acked()
            if ok or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        m = re.search(r"bytes_acked:(\d+)", info)
        assert m and int(m.group(1)) == MIB + 1, "host's ss: bytes_acked %s, want %d: %s" % (
            m and m.group(1), MIB + 1, info.strip())
        assert "unacked:" not in info, "host's ss shows unacked data: %s" % info.strip()
        assert p.poll() is None, "%s ended early (exit %s)" % (tool, p.returncode)
        time.sleep(0.3)  # let the last ACK reach the capture
        s1 = fw.stats()
        conn = [s for s in fwlab.tcp_segments(fw.pcap, since=since, port=DISCARD)
                if s.sport == c.rport or s.dport == c.rport]
        n_in = len([s for s in conn if s.src == HOST_IP])
        n_out = len([s for s in conn if s.src == FW_IP])
        d_in, d_out = s1["tcp_seg_in"] - s0["tcp_seg_in"], s1["tcp_seg_out"] - s0["tcp_seg_out"]
        assert (d_in, d_out) == (n_in, n_out), "stats: tcp_seg_in +%d, tcp_seg_out +%d; the " \
            "capture: %d segments in, %d out" % (d_in, d_out, n_in, n_out)
        moved = {k: s1[k] - s0[k] for k in ERROR_STATS if k in s0 and s1[k] != s0[k]}
        assert not moved, "error counters moved: %s" % moved
        data, problems = fwlab.tcp_stream(conn, HOST_IP, c.rport)
        assert len(data) == MIB and not problems, "capture: %d bytes from the host %s" % (
            len(data), problems)
        acks = [s.ack for s in conn if s.src == FW_IP and s.has_ack]
        syn = next(s for s in conn if s.syn and s.src == HOST_IP)
        assert acks and (acks[-1] - syn.seq) & 0xFFFFFFFF == MIB + 1, \
            "the firmware's last ACK: %s, want ISN + %d" % (
                acks and (acks[-1] - syn.seq) & 0xFFFFFFFF, MIB + 1)
        # The end: the peer goes away, its FIN is ACKed and the entry freed.
        stop(p)
        wait_until(lambda: gone(fw, DISCARD, c.rport), 5, "the discard connection to go")
        time.sleep(0.3)
        fin = [s for s in fwlab.tcp_segments(fw.pcap, since=since, port=DISCARD)
               if s.src == HOST_IP and s.sport == c.rport and s.fin]
        assert fin, "the peer sent no FIN"
        want = (fin[0].seq + len(fin[0].payload) + 1) & 0xFFFFFFFF
        after = [s for s in fwlab.tcp_segments(fw.pcap, since=since, port=DISCARD)
                 if s.src == FW_IP and s.dport == c.rport and s.has_ack and s.ack == want]
        assert after, "the firmware did not ACK the peer's FIN"
        fwlab.log("  %s: 1 MiB discarded in %.2f s, %d segments in, %d out" % (
            tool, took, n_in, n_out))
    finally:
        stop(p)


def chargen_expected(n):
    cycle = bytearray()
    for line in range(95):
        cycle += bytes(32 + (line + col) % 95 for col in range(72)) + b"\r\n"
    assert len(cycle) == 7030
    reps = n // len(cycle) + 1
    return bytes(cycle * reps)[:n]


def case_chargen(fw, tool):
    cmd = ["nc", FW_IP, str(CHARGEN)] if tool == "nc" else \
        ["socat", "-u", "TCP:%s:%d" % (FW_IP, CHARGEN), "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = bytearray()
    result = {}

    def reader():
        try:
            while len(buf) < MIB:
                b = p.stdout.read1(65536)
                if not b:
                    break
                buf.extend(b)
        except (OSError, ValueError) as e:
            result["error"] = e
    try:
        t0 = time.monotonic()
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        th.join(60)
        took = time.monotonic() - t0
        assert not th.is_alive(), "only %d bytes from chargen in 60 s" % len(buf)
        assert len(buf) >= MIB, "chargen stream ended after %d bytes (%s)" % (len(buf), result)
        got = bytes(buf[:MIB])
        want = chargen_expected(MIB)
        if got != want:
            i = next(i for i in range(MIB) if got[i] != want[i])
            raise AssertionError("byte %d (line %d, column %d) is %r, want %r; got %r" % (
                i, i // 74, i % 74, got[i:i + 1], want[i:i + 1], got[max(0, i - 20):i + 20]))
        assert [c for c in tool_conns(fw, CHARGEN) if c.state == "ESTABLISHED"], \
            "no chargen connection in netstat"
    finally:
        stop(p)
        if p.stdout:
            p.stdout.close()
    # The peer closed with unread data: Linux resets the connection.
    wait_until(lambda: gone(fw, CHARGEN), 5, "the chargen connection to go")
    fwlab.log("  %s: 1 MiB of chargen in %.2f s" % (tool, took))


# --------------------------------------------------------------------------
# Many connections


def case_parallel(fw, tmp):
    tools = ["nc", "socat"] * (TABLE // 2)
    datas = [os.urandom(128 * 1024) for _ in tools]
    procs, outs = [], []
    try:
        for i, tool in enumerate(tools):
            out = open(tmp.path("par-out-%d" % i), "wb")
            outs.append(out)
            procs.append(subprocess.Popen(echo_cmd(tool), stdin=subprocess.PIPE, stdout=out,
                                          stderr=subprocess.DEVNULL))
        # All 8 open at once before any data flows.
        est = wait_until(lambda: (lambda l: l if len(l) == TABLE else None)(
            [c for c in tool_conns(fw, ECHO) if c.state == "ESTABLISHED"]), 10,
            "%d echo connections ESTABLISHED at once" % TABLE)
        assert len({c.id for c in est}) == TABLE
        errors = []

        def feed(p, d):
            try:
                p.stdin.write(d)
                p.stdin.close()
            except OSError as e:
                errors.append(e)
        feeders = [threading.Thread(target=feed, args=(p, d), daemon=True)
                   for p, d in zip(procs, datas)]
        for t in feeders:
            t.start()
        deadline = time.monotonic() + 60
        for t in feeders:
            t.join(max(0.1, deadline - time.monotonic()))
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        assert not errors, "writing to the peers: %s" % errors
        bad = []
        for i, (p, d) in enumerate(zip(procs, datas)):
            outs[i].close()
            with open(outs[i].name, "rb") as f:
                got = f.read()
            if p.returncode != 0 or got != d:
                bad.append("#%d (%s): exit %s, %d of %d bytes back, %s" % (
                    i, tools[i], p.returncode, len(got), len(d),
                    "equal" if got == d else "differ"))
        assert not bad, "; ".join(bad)
    finally:
        for p in procs:
            stop(p)
        for o in outs:
            o.close()
    wait_until(lambda: gone(fw, ECHO), 5, "all echo connections to go")


def case_sequential(fw, tw_before):
    t0 = time.monotonic()
    bad = []
    for i in range(200):
        tool = "nc" if i % 2 == 0 else "socat"
        line = ("connection %d of 200 via %s\n" % (i + 1, tool)).encode()
        try:
            r = subprocess.run(echo_cmd(tool), input=line, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            if r.returncode != 0 or r.stdout != line:
                bad.append("#%d %s: exit %d, got %r" % (i + 1, tool, r.returncode, r.stdout))
        except subprocess.TimeoutExpired:
            bad.append("#%d %s: no end within 10 s" % (i + 1, tool))
        if len(bad) >= 5 or time.monotonic() - t0 > 120:
            break
    assert not bad, "; ".join(bad)
    took = time.monotonic() - t0

    def left():
        conns = [c for c in fw.netstat() if not (c.state == "TIME-WAIT" and c.id in tw_before)]
        return conns
    try:
        wait_until(lambda: not left(), 5, "no connection left")
    except AssertionError:
        raise AssertionError("left behind after 200 connections: %s" % left())
    tw = [c for c in fw.netstat() if c.state == "TIME-WAIT"]
    assert len(tw) <= TABLE
    fwlab.log("  200 connections in %.1f s; netstat afterwards: %d TIME-WAIT (from before), "
              "nothing else" % (took, len(tw)))


def case_time_wait(fw, tmp):
    log = tmp.path("tw-received")
    listener = subprocess.Popen(
        ["socat", "-u", "TCP-LISTEN:%d,bind=%s,reuseaddr,fork" % (TW_PORT, HOST_IP),
         "OPEN:%s,creat,append" % log], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    order = []  # (id, local port) of each connection, oldest first
    try:
        wait_until(lambda: fwlab.sh(["ss", "-Hltn", "sport = :%d" % TW_PORT]).stdout.strip(), 5,
                   "socat to listen")
        for n in range(12):
            cid = fw.connect(HOST_IP, TW_PORT)
            fw.wait_for(r"^conn %d established$" % cid, 5)
            out = fw.ask("send %d time-wait test %d" % (cid, n), r"^(send: \d+ bytes|error: .*)$")
            assert out.strip().endswith("bytes"), out
            out = fw.ask("close %d" % cid, r"^(close: id \d+|error: .*)$")
            assert "close: id %d" % cid in out, out
            entry = wait_until(lambda: [c for c in fw.netstat() if c.id == cid and
                                        c.rport == TW_PORT and c.state == "TIME-WAIT"], 5,
                               "connection %d (#%d) in TIME-WAIT" % (cid, n))[0]
            order.append((cid, entry.lport))
        conns = fw.netstat()
        tw = sorted((c.id, c.lport) for c in conns if c.state == "TIME-WAIT")
        others = [c for c in conns if c.state != "TIME-WAIT"]
        assert not others, "besides TIME-WAIT: %s" % others
        assert tw == sorted(order[-TABLE:]), "TIME-WAIT entries %s, want the %d newest %s" % (
            tw, TABLE, sorted(order[-TABLE:]))
        # A passive open with the table full of TIME-WAIT still gets a slot.
        line = b"table full of TIME-WAIT\n"
        r = subprocess.run(echo_cmd("nc"), input=line, stdout=subprocess.PIPE, timeout=10)
        assert r.returncode == 0 and r.stdout == line, "echo with a full table: exit %d, got %r" % (
            r.returncode, r.stdout)
        wait_until(lambda: gone(fw, ECHO), 5, "the echo connection to go")
        conns = fw.netstat()
        tw = sorted((c.id, c.lport) for c in conns if c.state == "TIME-WAIT")
        assert tw == sorted(order[-(TABLE - 1):]) and len(conns) == TABLE - 1, \
            "after the echo: %s, want TIME-WAIT of %s only" % (conns, sorted(order[-(TABLE - 1):]))
        with open(log, "rb") as f:
            got = f.read().decode(errors="replace")
        missing = [n for n in range(12) if "time-wait test %d\n" % n not in got]
        assert not missing, "socat did not get the lines of connections %s: %r" % (missing, got)
    finally:
        stop(listener)


def main():
    suite = fwlab.Suite(__file__)
    fw = suite.boot()
    tmp = Tmp()
    try:
        for tool in ("nc", "socat"):
            suite.case("echo-1m-" + tool, case_echo, fw, tmp, tool)
            suite.case("discard-1m-" + tool, case_discard, fw, tmp, tool)
            suite.case("chargen-1m-" + tool, case_chargen, fw, tool)
        suite.case("parallel-8", case_parallel, fw, tmp)
        tw_before = {c.id for c in fw.netstat() if c.state == "TIME-WAIT"}
        suite.case("sequential-200", case_sequential, fw, tw_before)
        suite.case("time-wait-12", case_time_wait, fw, tmp)
    finally:
        tmp.cleanup()
    suite.exit()


if __name__ == "__main__":
    main()
