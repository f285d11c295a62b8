#!/usr/bin/python3
"""Tests of tools/ladder.py: synthetic captures (written with scapy) run
through its reader, connection splitter and RFC 9293 state tracker; the
states each side goes through, where each change is drawn, the arrow labels,
and the files the command line writes.

    /usr/bin/python3 tests/tools/test_ladder.py [-v]
    /usr/bin/python3 -m unittest discover -s tests/tools -p 'test_*.py'

Needs python3-scapy (skipped without it); the PNG check needs rsvg-convert
(librsvg2-bin; skipped without it).
"""
import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("ladder", os.path.join(ROOT, "tools", "ladder.py"))
ladder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ladder)

try:
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap
    HAVE_SCAPY = True
except ImportError:
    HAVE_SCAPY = False

HOST_IP, FW_IP = "192.168.7.1", "192.168.7.2"
HOST_MAC, FW_MAC = "02:11:22:33:44:55", "52:54:00:12:34:56"
HISN, FISN = 1000000, 4294967000     # the firmware's ISN wraps within the test


class Capture:
    """Builds a conversation between the host (hport) and the firmware (fport)
    as absolute segments, then writes it as a pcap."""

    def __init__(self, hport=40000, fport=7, hisn=HISN, fisn=FISN):
        self.hport, self.fport = hport, fport
        self.isn = {"h": hisn, "f": fisn}
        self.pkts = []
        self.t = 1700000000.0

    def seg(self, who, flags, seq, ack=0, data=b"", dt=0.001):
        """who 'h' or 'f'; seq/ack relative to the sender's / receiver's ISN."""
        other = "f" if who == "h" else "h"
        src, dst = (HOST_IP, FW_IP) if who == "h" else (FW_IP, HOST_IP)
        sport, dport = (self.hport, self.fport) if who == "h" else (self.fport, self.hport)
        smac, dmac = (HOST_MAC, FW_MAC) if who == "h" else (FW_MAC, HOST_MAC)
        p = (Ether(src=smac, dst=dmac) / IP(src=src, dst=dst) /
             TCP(sport=sport, dport=dport, flags=flags,
                 seq=(self.isn[who] + seq) & 0xFFFFFFFF,
                 ack=(self.isn[other] + ack) & 0xFFFFFFFF if "A" in flags else 0,
                 window=4096))
        if data:
            p = p / data
        self.t += dt
        p.time = self.t
        self.pkts.append(p)
        return self

    def write(self, path):
        wrpcap(path, self.pkts)
        return path


def passive_open_echo_close(c=None):
    """nc -N to port 7: handshake, a line echoed, the host closes first,
    four segments of close."""
    c = c or Capture()
    (c.seg("h", "S", 0)
     .seg("f", "SA", 0, 1)
     .seg("h", "A", 1, 1)
     .seg("h", "PA", 1, 1, b"hello\n")
     .seg("f", "PA", 1, 7, b"hello\n")
     .seg("h", "A", 7, 7)
     .seg("h", "FA", 7, 7)
     .seg("f", "A", 7, 8)
     .seg("f", "FA", 7, 8, dt=0.2)
     .seg("h", "A", 8, 8))
    return c


def intersect(a, b):
    """Do the segments a and b ([x1, y1, x2, y2]) cross?"""
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    p1, p2, p3, p4 = a[:2], a[2:], b[:2], b[2:]
    return side(p3, p4, p1) * side(p3, p4, p2) < 0 and side(p1, p2, p3) * side(p1, p2, p4) < 0


@unittest.skipUnless(HAVE_SCAPY, "python3-scapy is not installed (make deps)")
class LadderTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ladder-test-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def conns(self, cap, name="c.pcap"):
        path = cap.write(os.path.join(self.dir, name))
        return ladder.split_connections(ladder.read_segments(path))

    def tracker(self, cap):
        conns = self.conns(cap)
        self.assertEqual(len(conns), 1, conns)
        return ladder.track(conns[0])

    def where(self, tr, side):
        """[(segment index, 'send'|'recv', new state)] of one side."""
        return [(e.k, e.at, e.new) for e in tr.events if e.side == side]

    # -- the state tracker --

    def test_passive_open_data_four_way_close(self):
        tr = self.tracker(passive_open_echo_close())
        self.assertEqual((tr.conn.left, tr.conn.right), ((HOST_IP, 40000), (FW_IP, 7)))
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                          "FIN-WAIT-2", "TIME-WAIT"])
        self.assertEqual(tr.states("R"), ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT",
                                          "LAST-ACK", "CLOSED"])
        # a sender changes where its arrow leaves, a receiver where it arrives
        self.assertEqual(self.where(tr, "L"), [(0, "send", "SYN-SENT"), (1, "recv", "ESTABLISHED"),
                                               (6, "send", "FIN-WAIT-1"),
                                               (7, "recv", "FIN-WAIT-2"),
                                               (8, "recv", "TIME-WAIT")])
        self.assertEqual(self.where(tr, "R"), [(1, "send", "SYN-RECEIVED"),
                                               (2, "recv", "ESTABLISHED"),
                                               (6, "recv", "CLOSE-WAIT"), (8, "send", "LAST-ACK"),
                                               (9, "recv", "CLOSED")])
        self.assertEqual([tr.label(k) for k in range(len(tr.segs))], [
            "SYN seq=0 len=0",
            "SYN-ACK seq=0 ack=1 len=0",
            "ACK seq=1 ack=1 len=0",
            "PSH-ACK seq=1 ack=1 len=6",
            "PSH-ACK seq=1 ack=7 len=6",        # the firmware's ISN wrapped: still 1
            "ACK seq=7 ack=7 len=0",
            "FIN-ACK seq=7 ack=7 len=0",
            "ACK seq=7 ack=8 len=0",
            "FIN-ACK seq=7 ack=8 len=0",
            "ACK seq=8 ack=8 len=0",
        ])
        self.assertEqual(tr.retrans, set())
        self.assertEqual(tr.final, {"L": "TIME-WAIT", "R": "CLOSED"})

    def test_active_open_active_close_by_the_firmware(self):
        c = Capture(hport=5001, fport=49152)
        (c.seg("f", "S", 0)
         .seg("h", "SA", 0, 1)
         .seg("f", "A", 1, 1)
         .seg("f", "PA", 1, 1, b"hi\n")
         .seg("h", "A", 1, 4)
         .seg("f", "FA", 4, 1)
         .seg("h", "A", 1, 5)
         .seg("h", "FA", 1, 5, dt=0.5)
         .seg("f", "A", 5, 2))
        tr = self.tracker(c)
        # the firmware stays on the right although it opened
        self.assertEqual((tr.conn.left, tr.conn.right), ((HOST_IP, 5001), (FW_IP, 49152)))
        self.assertEqual(tr.states("R"), ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                          "FIN-WAIT-2", "TIME-WAIT"])
        self.assertEqual(tr.states("L"), ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT",
                                          "LAST-ACK", "CLOSED"])
        self.assertEqual(self.where(tr, "R"), [(0, "send", "SYN-SENT"), (1, "recv", "ESTABLISHED"),
                                               (5, "send", "FIN-WAIT-1"),
                                               (6, "recv", "FIN-WAIT-2"),
                                               (7, "recv", "TIME-WAIT")])
        self.assertEqual(tr.label(5), "FIN-ACK seq=4 ack=1 len=0")
        self.assertEqual(tr.label(8), "ACK seq=5 ack=2 len=0")

    def test_fin_ack_that_acks_our_fin_goes_straight_to_time_wait(self):
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("h", "FA", 1, 1).seg("f", "FA", 1, 2).seg("h", "A", 2, 2))
        tr = self.tracker(c)
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                          "TIME-WAIT"])
        self.assertEqual(tr.states("R"), ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT",
                                          "LAST-ACK", "CLOSED"])

    def test_simultaneous_close(self):
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("h", "FA", 1, 1)           # the two FINs cross
         .seg("f", "FA", 1, 1)
         .seg("h", "A", 2, 2)
         .seg("f", "A", 2, 2))
        tr = self.tracker(c)
        for side in "LR":
            self.assertEqual(tr.states(side)[-3:], ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"], side)
        # the FINs crossed: the firmware's FIN (4) does not ACK the host's (3),
        # so the firmware got the host's FIN only after sending its own
        self.assertEqual(tr.cross, {3: 4})
        # the exact places: each FIN-WAIT-1 at its FIN, CLOSING at the other FIN
        self.assertIn((3, "send", "FIN-WAIT-1"), self.where(tr, "L"))
        self.assertIn((4, "recv", "CLOSING"), self.where(tr, "L"))
        self.assertIn((6, "recv", "TIME-WAIT"), self.where(tr, "L"))
        self.assertIn((4, "send", "FIN-WAIT-1"), self.where(tr, "R"))
        self.assertIn((5, "recv", "TIME-WAIT"), self.where(tr, "R"))

    def test_simultaneous_close_fin_received_first(self):
        # the firmware's FIN reaches the host before the host's FIN reaches it
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("f", "FA", 1, 1)
         .seg("h", "FA", 1, 2)
         .seg("f", "A", 2, 2))
        tr = self.tracker(c)
        self.assertEqual(tr.states("R"), ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
                                          "TIME-WAIT"])
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "ESTABLISHED", "CLOSE-WAIT",
                                          "LAST-ACK", "CLOSED"])

    def test_simultaneous_open(self):
        c = Capture(hport=5000, fport=5000)
        (c.seg("h", "S", 0).seg("f", "S", 0)
         .seg("h", "SA", 0, 1).seg("f", "SA", 0, 1))
        tr = self.tracker(c)
        for side in "LR":
            self.assertEqual(tr.states(side), ["CLOSED", "SYN-SENT", "SYN-RECEIVED",
                                               "ESTABLISHED"], side)
        self.assertEqual(tr.cross, {0: 1})      # the SYNs crossed
        self.assertEqual(tr.retrans, set())     # a SYN-ACK after our SYN is no retransmission
        self.assertEqual(tr.label(2), "SYN-ACK seq=0 ack=1 len=0")

    def test_fin_crossing_the_echo(self):
        # nc -N: the host's FIN leaves before the echo arrives; the echo does
        # not ACK the FIN, so the firmware was still ESTABLISHED when it sent it
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("h", "PA", 1, 1, b"hello\n")
         .seg("h", "FA", 7, 1)
         .seg("f", "PA", 1, 7, b"hello\n")
         .seg("h", "A", 8, 7)
         .seg("f", "FA", 7, 8)
         .seg("h", "A", 8, 8))
        tr = self.tracker(c)
        self.assertEqual(tr.cross, {4: 5})
        self.assertEqual(self.where(tr, "R")[2:], [(4, "recv", "CLOSE-WAIT"),
                                                   (7, "send", "LAST-ACK"),
                                                   (8, "recv", "CLOSED")])
        self.assertEqual(self.where(tr, "L")[2:], [(4, "send", "FIN-WAIT-1"),
                                                   (7, "recv", "TIME-WAIT")])
        # the firmware's CLOSE-WAIT is listed after its echo left
        text = ladder.text_ladder(tr)
        self.assertLess(text.index("<-- PSH-ACK seq=1 ack=7 len=6"),
                        text.index("firmware  ESTABLISHED -> CLOSE-WAIT"))
        self.assertIn("FIN-ACK seq=7 ack=1 len=0  (crosses #6)", text)
        # drawn as an X: the two arrows intersect, and CLOSE-WAIT is drawn
        # below the start of the echo's arrow
        root = ET.fromstring(ladder.render_svg(tr))
        ns = "{http://www.w3.org/2000/svg}"
        arrows = [[float(l.get(a)) for a in ("x1", "y1", "x2", "y2")]
                  for l in root.iter(ns + "line") if "marker-end" in l.attrib]
        fin, echo = arrows[4], arrows[5]
        self.assertTrue(intersect(fin, echo), (fin, echo))
        self.assertGreater(fin[3], echo[1])
        for a, b in zip(arrows[5:], arrows[6:]):
            self.assertFalse(intersect(a, b), (a, b))

    def test_refused_with_rst(self):
        c = Capture(fport=23)
        c.seg("h", "S", 0).seg("f", "RA", 0, 1)
        # the RST's seq is 0, not relative to anything the firmware sent
        c.isn["f"] = 0
        c.pkts.pop()
        c.seg("f", "RA", 0, 1)
        tr = self.tracker(c)
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "CLOSED"])
        self.assertEqual(tr.states("R"), ["CLOSED"])
        self.assertEqual(tr.label(1), "RST-ACK seq=0 ack=1 len=0")

    def test_reset_in_established(self):
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("f", "PA", 1, 1, b"x" * 10)
         .seg("h", "R", 1))
        tr = self.tracker(c)
        self.assertEqual(tr.states("L")[-2:], ["ESTABLISHED", "CLOSED"])
        self.assertEqual(tr.states("R")[-2:], ["ESTABLISHED", "CLOSED"])
        self.assertIn((4, "send", "CLOSED"), self.where(tr, "L"))
        self.assertIn((4, "recv", "CLOSED"), self.where(tr, "R"))
        self.assertEqual(tr.label(4), "RST seq=1 len=0")

    def test_out_of_window_rst_is_challenged(self):
        c = Capture()
        (c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("h", "R", 100)              # not at RCV.NXT
         .seg("f", "A", 1, 1)             # challenge ACK: the firmware lives on
         .seg("h", "R", 1))
        tr = self.tracker(c)
        self.assertEqual(self.where(tr, "R")[-1], (5, "recv", "CLOSED"))

    def test_reset_in_syn_received(self):
        c = Capture()
        c.seg("h", "S", 0).seg("f", "SA", 0, 1).seg("h", "R", 1)
        tr = self.tracker(c)
        # the host aborts right after its handshake; the firmware, in
        # SYN-RECEIVED from a passive open, returns to LISTEN
        self.assertEqual(tr.states("R"), ["LISTEN", "SYN-RECEIVED", "LISTEN"])
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "ESTABLISHED", "CLOSED"])

    def test_retransmissions(self):
        c = Capture()
        (c.seg("h", "S", 0).seg("h", "S", 0, dt=1.0)
         .seg("f", "SA", 0, 1).seg("h", "A", 1, 1)
         .seg("h", "PA", 1, 1, b"abc").seg("h", "PA", 1, 1, b"abc", dt=0.2)
         .seg("f", "A", 1, 4))
        tr = self.tracker(c)
        self.assertEqual(tr.retrans, {1, 5})
        self.assertEqual(tr.label(1), "SYN seq=0 len=0 (retransmission)")
        self.assertEqual(tr.states("L"), ["CLOSED", "SYN-SENT", "ESTABLISHED"])

    def test_capture_starting_after_the_handshake(self):
        c = Capture()
        c.seg("h", "PA", 1, 1, b"abc").seg("f", "A", 1, 4).seg("f", "FA", 1, 4)
        c.seg("h", "FA", 4, 2).seg("f", "A", 2, 5)
        tr = self.tracker(c)
        self.assertTrue(tr.midstream)
        self.assertEqual(tr.states("R"), ["ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT"])
        self.assertEqual(tr.states("L"), ["ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"])
        self.assertEqual(tr.label(0), "PSH-ACK seq=1 ack=1 len=3")

    def test_connections_split_on_a_new_syn(self):
        a = passive_open_echo_close(Capture(hport=40000))
        b = passive_open_echo_close(Capture(hport=40000, hisn=7, fisn=9))   # same 4-tuple
        a.pkts += b.pkts
        other = passive_open_echo_close(Capture(hport=40002, fport=19))
        a.pkts += other.pkts
        conns = self.conns(a)
        self.assertEqual([(c.index, c.left[1], c.right[1], len(c.segs)) for c in conns],
                         [(0, 40000, 7, 10), (1, 40000, 7, 10), (2, 40002, 19, 10)])
        for c in conns:
            self.assertEqual(ladder.track(c).states("R")[-1], "CLOSED")

    # -- drawing and the command line --

    def test_svg_labels_and_states(self):
        tr = self.tracker(passive_open_echo_close())
        svg = ladder.render_svg(tr, title="a <title> & more", capture="x.pcap")
        root = ET.fromstring(svg)            # well-formed XML
        ns = "{http://www.w3.org/2000/svg}"
        texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
        for want in ["SYN seq=0 len=0", "SYN-ACK seq=0 ack=1 len=0", "FIN-ACK seq=7 ack=8 len=0",
                     "host 192.168.7.1", "firmware 192.168.7.2", "a <title> & more",
                     "LISTEN", "SYN-RECEIVED", "CLOSE-WAIT", "LAST-ACK", "FIN-WAIT-2",
                     "TIME-WAIT"]:
            self.assertIn(want, texts)
        # one arrow (a line with an arrow head) per segment
        arrows = [l for l in root.iter(ns + "line") if "marker-end" in l.attrib]
        self.assertEqual(len(arrows), 10)
        for l in arrows:      # slanted: each ends lower than it starts
            self.assertGreater(float(l.get("y2")), float(l.get("y1")))
        # state boxes on one side never overlap
        boxes = {}
        for r in root.iter(ns + "rect"):
            if r.get("fill") in (ladder.COL_L_BG, ladder.COL_R_BG) and r.get("rx") == "5":
                boxes.setdefault(r.get("fill"), []).append(
                    (float(r.get("y")), float(r.get("y")) + float(r.get("height"))))
        self.assertEqual(sum(len(v) for v in boxes.values()), 12)   # 2 initial + 10 changes
        for v in boxes.values():
            v.sort()
            for (a0, a1), (b0, b1) in zip(v, v[1:]):
                self.assertLessEqual(a1, b0, v)

    def test_text_output(self):
        tr = self.tracker(passive_open_echo_close())
        out = ladder.text_ladder(tr)
        self.assertIn("--> SYN seq=0 len=0", out)
        self.assertIn("<-- SYN-ACK seq=0 ack=1 len=0", out)
        self.assertIn("\n%sfirmware  LAST-ACK -> CLOSED\n" % (" " * 50), out)
        self.assertIn("\n  host  FIN-WAIT-2 -> TIME-WAIT\n", out)

    def run_main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = ladder.main(list(argv))
            except SystemExit as e:
                rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def test_linux_cooked_capture(self):
        # tcpdump -i any writes Linux cooked frames (link type 113)
        from scapy.layers.l2 import CookedLinux
        cap = passive_open_echo_close()
        pkts = []
        for p in cap.pkts:
            q = CookedLinux(proto=0x0800) / p[IP]
            q.time = p.time
            pkts.append(q)
        path = os.path.join(self.dir, "any.pcap")
        wrpcap(path, pkts, linktype=113)
        conns = ladder.split_connections(ladder.read_segments(path))
        self.assertEqual(len(conns), 1)
        self.assertEqual(ladder.track(conns[0]).states("L")[-1], "TIME-WAIT")

    def test_max_segments(self):
        tr = self.tracker(passive_open_echo_close())
        root = ET.fromstring(ladder.render_svg(tr, max_segments=3))
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(len([l for l in root.iter(ns + "line") if "marker-end" in l.attrib]), 3)
        texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
        self.assertIn("\u2026 7 more segments not drawn (--max-segments)", texts)
        self.assertNotIn("TIME-WAIT", texts)

    def test_command_line_selects_and_names_files(self):
        a = passive_open_echo_close(Capture(hport=40000))
        a.pkts += passive_open_echo_close(Capture(hport=40002, fport=19)).pkts
        path = a.write(os.path.join(self.dir, "two.pcap"))
        rc, out, _ = self.run_main(path, "--list")
        self.assertEqual(rc, 0)
        self.assertEqual(len(out.splitlines()), 2)
        self.assertRegex(out, r"^0  192\.168\.7\.1:40000 <-> 192\.168\.7\.2:7  10 segments")
        # all connections: one file each
        rc, out, _ = self.run_main(path, "--format", "svg", "--out", os.path.join(self.dir, "all"))
        self.assertEqual(rc, 0)
        self.assertEqual(sorted(os.path.basename(l) for l in out.split()), ["all-0.svg", "all-1.svg"])
        # --port / --conn: one file, named PREFIX.svg
        rc, out, _ = self.run_main(path, "--format", "svg", "--port", "19", "--out",
                                   os.path.join(self.dir, "p"))
        self.assertEqual((rc, out.strip()), (0, os.path.join(self.dir, "p.svg")))
        with open(os.path.join(self.dir, "p.svg"), encoding="utf-8") as f:
            self.assertIn("192.168.7.2:19", f.read())
        rc, _, err = self.run_main(path, "--conn", "5")
        self.assertEqual(rc, 1)
        self.assertIn("no connection 5", err)
        rc, _, _ = self.run_main(path, "--format", "gif")
        self.assertEqual(rc, 2)

    @unittest.skipUnless(shutil.which("rsvg-convert"), "rsvg-convert missing (librsvg2-bin)")
    def test_png(self):
        path = passive_open_echo_close().write(os.path.join(self.dir, "e.pcap"))
        prefix = os.path.join(self.dir, "out", "echo")
        rc, out, err = self.run_main(path, "--out", prefix, "--title", "echo")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), [prefix + ".svg", prefix + ".png"])
        with open(prefix + ".png", "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        self.assertGreater(w, 800)
        self.assertGreater(h, 600)


if __name__ == "__main__":
    unittest.main()
