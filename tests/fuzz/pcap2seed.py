#!/usr/bin/python3
"""pcap2seed: seed inputs for tests/fuzz/fuzz_stack.c from captures of real runs.

    tests/fuzz/pcap2seed.py [-o DIR] [--max-records N] PCAP...
        convert captures (the frames the firmware's NIC saw, both ways) into
        fuzz inputs DIR/<pcap name>.seed (default DIR: tests/fuzz/corpus)
    tests/fuzz/pcap2seed.py --capture [-o DIR]
        boot build/firmware.elf under QEMU in a network namespace of its own
        (tools/netns.sh, tests/e2e/fwlab.py), run the scenarios below against
        it while QEMU records build/captures/seed-<scenario>.pcap, then
        convert each capture
    tests/fuzz/pcap2seed.py --dump SEED
        print the records of a seed, one per line (for reading inputs)

Scenarios: ping, an echo session that sends two lines and closes, a discard
session, a chargen read of 3000 bytes then close, a connection refused (SYN to
a closed port), and an active open from the console to a listener on the host
(data both ways, closed by the host), and one closed by the board first
(FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT).

Conversion (see the input format at the top of fuzz_stack.c): only the frames
the peer sent become records; the firmware's own frames are used to follow
each connection. TCP segments become TCP records aimed at the same service
(echo 7, discard 9, chargen 19, 5000; the local port of an active open via
"the live connection to that peer port"; any other port as the closed port),
host ports numbered 40000, 40001... in order of appearance. Sequence and
acknowledgement numbers become offsets from what the firmware had received
and sent at that point of the capture (RCV.NXT, SND.NXT), so the replayed
segment hits the replayed connection whatever ISN the harness's stack picks;
a SYN without ACK keeps its absolute ISN. Payloads are cut to 64 bytes (the
harness repeats them up to the real length). The firmware's SYN without ACK
(an active open) becomes an APP connect record; the gaps in time become
TIME records; the data it sent and its FIN sent first become APP send and
close records. A capture with an active open is converted a second time as
<name>-console.seed, those calls typed as console commands (connect, send,
netstat, close) with the console's trace hook installed. ARP and ICMP echo
requests become ARP and ICMP records; other frames become RAW records with
the firmware's MAC replaced by the harness's.

Run with Debian's /usr/bin/python3 (scapy from python3-scapy).
"""

import argparse
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
CAPTURES = os.path.join(ROOT, "build", "captures")

FW_IP = "192.168.7.2"
HOST_IP = "192.168.7.1"
FW_MAC = bytes.fromhex("525400123456")       # QEMU's NIC in fwlab / run.sh
HARNESS_MAC = bytes.fromhex("020000123456")  # the stack in fuzz_stack.c
PEER_PORT0 = 40000
PORT_SEL = {7: 0, 9: 1, 19: 2, 5000: 3}  # fuzz_stack.c target bits 3-5
PAYLOAD_KEEP = 64

# Record kinds (fuzz_stack.c)
K_TCP, K_TIME, K_APP, K_ARP, K_ICMP, K_RAWIP, K_RAW, K_CONSOLE = range(8)
KIND_NAMES = ["TCP", "TIME", "APP", "ARP", "ICMP", "RAWIP", "RAW", "CONSOLE"]


def record(kind, body):
    body = bytes(body)
    if len(body) < 255:
        return bytes([kind, len(body)]) + body
    return bytes([kind, 255]) + struct.pack("!H", len(body)) + body


def s32(v):
    return v & 0xFFFFFFFF


class Conv:
    """Converts the frames of one capture, in order, into records."""

    def __init__(self, console=False):
        self.console = console  # the application's calls as console commands
        self.out = []
        self.t_last = None
        self.ports = {}      # host port -> index 0..7
        self.conns = {}      # (host port, fw port) -> {"rcv": n, "snd": n}

    def port_index(self, port):
        if port not in self.ports:
            self.ports[port] = len(self.ports) % 8
        return self.ports[port]

    def time_to(self, t):
        if self.t_last is not None:
            ms = int(round((t - self.t_last) * 1000))
            while ms > 0:
                step = min(ms, 65535)
                self.out.append(record(K_TIME, struct.pack("!HBB", step, 0, 0)))
                ms -= step
        self.t_last = t

    def new_conn(self, hport, fport, **kw):
        """A connection as the harness's stack makes it: in the first free slot."""
        used = {c["slot"] for c in self.conns.values()}
        slot = next((i for i in range(8) if i not in used), 7)
        c = self.conns[(hport, fport)] = dict(rcv=0, snd=None, slot=slot, **kw)
        return c

    def fw_frame(self, t, ip, tcp):
        """A frame the firmware sent: follow its connection."""
        if tcp is None:
            return
        flags = int(tcp.flags)
        hport, fport = tcp.dport, tcp.sport
        c = self.conns.get((hport, fport))
        if flags & 0x04:  # RST: the connection is gone
            self.conns.pop((hport, fport), None)
            return
        if flags & 0x12 == 0x02:  # our SYN: an active open from the console
            self.time_to(t)
            c = self.new_conn(hport, fport, active=True)
            if self.console:
                if not any(r[0] == K_APP and r[2:4] == b"\x07\x00" for r in self.out):
                    self.out.append(record(K_APP, [7, 0, 0]))  # the console's own trace hook
                self.out.append(record(K_CONSOLE, b"connect %s %d\r" % (
                    HOST_IP.encode(), PEER_PORT0 + self.port_index(hport))))
            else:
                self.out.append(record(K_APP, [0, 0, 0, self.port_index(hport)]))
        if c is None:
            return
        plen = max(0, ip.len - ip.ihl * 4 - tcp.dataofs * 4)  # not the Ethernet padding
        end = s32(tcp.seq + plen + (flags & 1) + (flags >> 1 & 1))
        new = c["snd"] is None or ((end - c["snd"]) & 0xFFFFFFFF) - 1 < 0x7FFFFFFF
        if c.get("active") and new and c["snd"] is not None:
            # The application (the console here, the fuzz app there) sent
            # new data, or closed first: replay that as its calls.
            self.time_to(t)
            if plen:
                data = bytes(tcp.payload)[:plen]
                if self.console:  # `send` adds the LF itself
                    text = bytes(b for b in data.rstrip(b"\n") if 32 <= b < 127)[:60]
                    self.out.append(record(K_CONSOLE, b"send %d %s\r" % (c["slot"], text)))
                else:
                    self.out.append(record(K_APP, struct.pack("!BBH", 1, c["slot"] + 1, plen) + data))
            if flags & 1 and not c.get("peer_fin"):
                if self.console:
                    self.out.append(record(K_CONSOLE, b"netstat\rclose %d\r" % c["slot"]))
                else:
                    self.out.append(record(K_APP, [2, c["slot"] + 1]))
        if new:
            c["snd"] = end
        if flags & 1:
            c["fin_end"] = end
            c["last_ack"] = bool(c.get("peer_fin"))
        if flags & 0x10:
            c["rcv"] = tcp.ack

    def peer_tcp(self, t, ip, tcp):
        self.time_to(t)
        flags = int(tcp.flags)
        hport, fport = tcp.sport, tcp.dport
        c = self.conns.get((hport, fport))
        payload = bytes(tcp.payload)[: max(0, ip.len - ip.ihl * 4 - tcp.dataofs * 4)]
        if flags & 0x12 == 0x02 and (c is None or not c.get("active")):
            if c is None and (fport in PORT_SEL):
                c = self.new_conn(hport, fport)
            if c is not None:
                c["rcv"] = s32(tcp.seq + 1)
            fl, seq, ack = (flags & 0x3F) | 0x40, tcp.seq, tcp.ack  # absolute
        elif c is not None:
            fl = flags & 0x3F
            seq = s32(tcp.seq - c["rcv"])
            ack = s32(tcp.ack - (c["snd"] if c["snd"] is not None else tcp.ack))
            # the firmware takes in-order data (it corrects us by its ACKs)
            if tcp.seq == c["rcv"] or (flags & 0x02):
                c["rcv"] = s32(tcp.seq + len(payload) + (flags & 1) + (flags >> 1 & 1))
            if flags & 1:
                c["peer_fin"] = True
            if c.get("last_ack") and flags & 0x10 and tcp.ack == c.get("fin_end"):
                del self.conns[(hport, fport)]  # LAST-ACK -> CLOSED: the slot is free
        else:
            fl, seq, ack = (flags & 0x3F) | 0x40, tcp.seq, tcp.ack
        if flags & 0xC0:
            fl |= 0x80
        if fport in PORT_SEL:
            dsel = PORT_SEL[fport]
        elif c is not None and c.get("active"):
            dsel = 5
        else:
            dsel = 4
        target = self.port_index(hport) | dsel << 3
        mss, osel = 0, 0
        for o in tcp.options:
            if o[0] == "MSS":
                mss = o[1]
        if mss:
            osel = 1 if len(tcp.options) == 1 else 2
        body = struct.pack("!BBIIHBHHBH", fl, target, seq, ack, tcp.window, osel, mss,
                           len(payload), 0, tcp.urgptr)
        body += payload[:PAYLOAD_KEEP]
        self.out.append(record(K_TCP, body))

    def peer_frame(self, t, raw):
        from scapy.layers.inet import ICMP, IP, TCP
        from scapy.layers.l2 import ARP, Ether

        pkt = Ether(raw)
        if ARP in pkt:
            a = pkt[ARP]
            self.time_to(t)
            tpa_sel = 0 if a.pdst == FW_IP else 1  # 1: selector 0 of the other list
            dst_sel = 1 if pkt.dst == "ff:ff:ff:ff:ff:ff" else 0
            self.out.append(record(K_ARP, [a.op if a.op in (1, 2) else 0, 0, tpa_sel, 0, dst_sel]))
            return
        if IP in pkt and pkt[IP].dst == FW_IP:
            ip = pkt[IP]
            if TCP in pkt:
                self.peer_tcp(t, ip, pkt[TCP])
                return
            if ICMP in pkt and pkt[ICMP].type == 8:
                m = pkt[ICMP]
                data = bytes(m.payload)[: max(0, ip.len - ip.ihl * 4 - 8)]
                self.time_to(t)
                self.out.append(record(K_ICMP, struct.pack("!BBBHHHB", 0, 8, m.code, m.id, m.seq,
                                                           len(data), 0) + data[:PAYLOAD_KEEP]))
                return
        self.time_to(t)
        if raw[:6] == FW_MAC:
            raw = HARNESS_MAC + raw[6:]
        self.out.append(record(K_RAW, raw[:1514]))


def convert(path, max_records, console=False):
    """The seed (bytes) for the capture at path."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.utils import RawPcapReader

    cv = Conv(console)
    reader = RawPcapReader(path)
    try:
        for raw, meta in reader:
            if len(cv.out) >= max_records:
                break
            sec = getattr(meta, "sec", None)
            t = (sec + meta.usec / 1e6) if sec is not None else 0.0
            if raw[6:12] == FW_MAC:
                pkt = Ether(raw)
                tcp = pkt[TCP] if TCP in pkt and IP in pkt else None
                cv.fw_frame(t, pkt[IP] if IP in pkt else None, tcp)
            else:
                cv.peer_frame(t, raw)
    finally:
        reader.close()
    return b"".join(cv.out[:max_records])


def dump(path):
    data = open(path, "rb").read()
    i = 0
    while i < len(data):
        op = data[i]
        n = data[i + 1] if i + 1 < len(data) else 0
        i += 2
        if n == 255:
            n = struct.unpack("!H", data[i:i + 2])[0]
            i += 2
        body = data[i:i + n]
        i += n
        kind = op & 15
        name = KIND_NAMES[kind] if kind < 8 else "TCP"
        extra = ""
        if name == "TCP" and len(body) >= 20:
            fl, tg, seq, ack, wnd = struct.unpack("!BBiiH", body[:12])
            extra = " flags=%02x target=%02x seq%+d ack%+d wnd=%d len=%d" % (
                fl, tg, seq, ack, wnd, struct.unpack("!H", body[15:17])[0])
        elif name == "TIME" and len(body) >= 2:
            extra = " +%d ms" % struct.unpack("!H", body[:2])[0]
        print("%s%s [%d] %s%s" % ("+%d ms " % (op >> 4) if op >> 4 else "", name, n,
                                  body[:24].hex(), extra))


# --------------------------------------------------------------------------
# Capturing (inside the namespace made by tools/netns.sh)

def scenarios():
    """name -> function(fw) run against the booted firmware."""
    def tcp(port, send=b"", read=0, timeout=5):
        s = socket.create_connection((FW_IP, port), timeout=timeout)
        got = b""
        for line in send.splitlines(True):
            s.sendall(line)
            time.sleep(0.1)
        while len(got) < read:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
        return got

    def ping(fw):
        import fwlab
        r = fwlab.ping(count=3, interval=0.2)
        assert r.received == 3, r.output

    def echo(fw):
        got = tcp(7, b"hello fuzz\nsecond line\n", read=23)
        assert got == b"hello fuzz\nsecond line\n", got

    def discard(fw):
        tcp(9, b"x" * 1000 + b"\n")

    def chargen(fw):
        got = tcp(19, read=3000)
        assert len(got) >= 3000, len(got)

    def refused(fw):
        try:
            socket.create_connection((FW_IP, 1234), timeout=3).close()
        except ConnectionRefusedError:
            return
        raise AssertionError("port 1234 accepted a connection")

    def active(fw):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((HOST_IP, PEER_PORT0))
        ls.listen(1)
        ls.settimeout(5)
        cid = fw.connect(HOST_IP, PEER_PORT0)
        s, _ = ls.accept()
        s.settimeout(5)
        fw.wait_for(r"^conn %d established$" % cid, 5)
        s.sendall(b"hi from the host\n")
        fw.wait_for(r"^conn %d data" % cid, 5)
        fw.cmd("send %d hello from the board" % cid, expect=r"^send: ")
        assert s.recv(100).startswith(b"hello from the board")
        s.close()
        fw.wait_for(r"^conn %d peer closed$" % cid, 5)
        fw.cmd("close %d" % cid, expect=r"^close: ")
        fw.wait_for(r"^conn %d closed$" % cid, 5)
        ls.close()

    def active_close(fw):
        """The board closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT."""
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((HOST_IP, PEER_PORT0 + 1))
        ls.listen(1)
        ls.settimeout(5)
        cid = fw.connect(HOST_IP, PEER_PORT0 + 1)
        s, _ = ls.accept()
        s.settimeout(5)
        fw.wait_for(r"^conn %d established$" % cid, 5)
        fw.cmd("send %d bye" % cid, expect=r"^send: ")
        fw.cmd("close %d" % cid, expect=r"^close: ")
        got = b""
        while True:
            d = s.recv(100)
            if not d:
                break
            got += d
        assert got == b"bye\n", got
        time.sleep(0.3)  # FIN-WAIT-2 for a while
        s.close()
        fw.wait_for(r"^conn %d closed$" % cid, 5)
        ls.close()

    return {"ping": ping, "echo": echo, "discard": discard, "chargen": chargen,
            "refused": refused, "active": active, "active_close": active_close}


def capture(out_dir, max_records):
    if not os.environ.get("FW_NETNS"):
        netns = os.path.join(ROOT, "tools", "netns.sh")
        os.execv(netns, [netns, "--", sys.executable, os.path.abspath(__file__), "--capture",
                         "-o", out_dir, "--max-records", str(max_records)])
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import fwlab
    fails = 0
    for name, fn in scenarios().items():
        fw = fwlab.Firmware("seed-" + name)
        try:
            fw.start()
            fn(fw)
            time.sleep(0.3)  # the last frames into the pcap
        except Exception as e:  # noqa: BLE001 - report, go on with the others
            print("pcap2seed: scenario %s failed: %s" % (name, e), file=sys.stderr)
            fails += 1
        finally:
            fw.stop()
        if os.path.exists(fw.pcap):
            write_seed(fw.pcap, out_dir, max_records)
    return 1 if fails else 0


def write_seed(pcap, out_dir, max_records):
    seed = convert(pcap, max_records)
    write(seed, pcap, out_dir, os.path.splitext(os.path.basename(pcap))[0] + ".seed")
    con = convert(pcap, max_records, console=True)
    if con != seed:  # it has an active open: also as typed on the console
        write(con, pcap, out_dir, os.path.splitext(os.path.basename(pcap))[0] + "-console.seed")


def write(seed, pcap, out_dir, name):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(seed)
    print("pcap2seed: %s -> %s (%d bytes)" % (os.path.relpath(pcap, ROOT),
                                              os.path.relpath(os.path.join(out_dir, name), ROOT),
                                              len(seed)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pcaps", nargs="*")
    ap.add_argument("-o", "--out", default=CORPUS, help="output directory (%(default)s)")
    ap.add_argument("--capture", action="store_true", help="capture the scenarios first")
    ap.add_argument("--max-records", type=int, default=60,
                    help="records per seed at most (%(default)s)")
    ap.add_argument("--dump", metavar="SEED", help="print the records of a seed")
    a = ap.parse_args()
    if a.dump:
        dump(a.dump)
        return 0
    if a.capture:
        return capture(os.path.abspath(a.out), a.max_records)
    if not a.pcaps:
        ap.error("no pcap given (or --capture)")
    for p in a.pcaps:
        write_seed(p, a.out, a.max_records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
