"""fwlab: boot the firmware under QEMU and talk to it, for the e2e tests.

Stdlib only (scapy is optional, for tests that craft frames). Run under
Debian's /usr/bin/python3, INSIDE a network namespace made by tools/netns.sh
(which creates tap0 = 192.168.7.1/24); a test started directly re-executes
itself under tools/netns.sh. A test script looks like:

    # fwlab-netns: --no-addr        (optional: flags for tools/netns.sh)
    import fwlab
    suite = fwlab.Suite(__file__)
    fw = suite.boot()                # FAIL boot + exit if no banner
    suite.case("ping", check_ping, fw)
    suite.exit()                     # prints "N passed, N failed", exits

Each case prints one line: `PASS name` or `FAIL name: reason` (or `SKIP name:
reason`). Per test, build/captures/<test>.pcap (every frame the NIC saw),
<test>.uart.log and <test>.qemu.log are written; they are deleted when every
case passed, unless KEEP_CAPTURES=1, and kept (and named) when one failed.

Environment: FW_ELF (default build/firmware.elf), FW_MACHINE (default
mps2-an385), FW_BANNER (regex of the boot banner), FW_BOOT_TIMEOUT (s),
KEEP_CAPTURES=1, FW_EOL (line end sent by cmd(), default CR).
"""

import atexit
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(ROOT, "build", "captures")
NETNS_SH = os.path.join(ROOT, "tools", "netns.sh")

FW_IP = "192.168.7.2"
HOST_IP = "192.168.7.1"
FW_MAC = "52:54:00:12:34:56"
TAP = "tap0"
SKIP_EXIT = 77

# The boot banner (firmware/app/main.c) ends with the NIC's line, "eth id
# 01180001 link up", or "eth error <n>: no network". FW_BANNER overrides it; a
# named group `error` that matched makes the boot fail at once.
BANNER = r"^eth (?:id [0-9a-fA-F]+ link \w+|(?P<error>error.*))$"


class Skip(Exception):
    """A case (or the whole test) cannot run here: reported as SKIP."""


class FirmwareError(Exception):
    """QEMU or the firmware did not do what was expected."""


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# The namespace


def netns_flags(script):
    """Flags for tools/netns.sh from a `# fwlab-netns: ...` line in the script."""
    try:
        with open(script, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"#\s*fwlab-netns:(.*)$", line)
                if m:
                    return m.group(1).split()
    except OSError:
        pass
    return []


def ensure_netns(script):
    """Re-execute `script` under tools/netns.sh unless already in a namespace."""
    if os.environ.get("FW_NETNS"):
        return
    args = [NETNS_SH] + netns_flags(script) + ["--", sys.executable, os.path.abspath(script)]
    os.execv(NETNS_SH, args + sys.argv[1:])


def in_netns():
    """True when we are inside a namespace made by tools/netns.sh."""
    if not os.environ.get("FW_NETNS"):
        return False
    try:
        socket.if_nametoindex(TAP)  # in this namespace (/sys may be the root one's)
    except OSError:
        return False
    return True


def tap_mac(dev=TAP):
    """MAC address of the host side (tap0), from `ip` (not /sys: under
    `unshare -Urn` /sys still shows the root namespace)."""
    r = sh(["ip", "-j", "link", "show", dev], timeout=10, check=True)
    return json.loads(r.stdout)[0]["address"].lower()


# --------------------------------------------------------------------------
# Shell helpers


def sh(cmd, timeout=30, check=False):
    """Run a command (list, or string through bash); returns CompletedProcess
    with text stdout+stderr merged in .stdout. Always bounded by timeout."""
    if isinstance(cmd, str):
        cmd = ["bash", "-c", cmd]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise FirmwareError("command timed out after %ss: %s\n%s" % (timeout, " ".join(cmd), out))
    if check and r.returncode != 0:
        raise FirmwareError("command failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout))
    return r


class PingResult:
    def __init__(self, out, rc):
        self.output = out
        self.rc = rc
        m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", out)
        self.transmitted = int(m.group(1)) if m else 0
        self.received = int(m.group(2)) if m else 0
        self.duplicates = len(re.findall(r"\(DUP!\)", out))
        self.wrong_data = len(re.findall(r"wrong data byte", out))
        self.bad_checksum = len(re.findall(r"BAD CHECKSUM", out, re.I))

    def problems(self, count):
        """Why this is not a clean run of `count` echoes ([] if it is)."""
        p = []
        if self.transmitted != count:
            p.append("%d sent (want %d)" % (self.transmitted, count))
        if self.received != self.transmitted:
            p.append("%d/%d replies" % (self.received, self.transmitted))
        if self.duplicates:
            p.append("%d duplicate replies" % self.duplicates)
        if self.wrong_data:
            p.append("%d replies with wrong data" % self.wrong_data)
        if self.bad_checksum:
            p.append("%d replies with a bad checksum" % self.bad_checksum)
        return p


def ping(addr=FW_IP, count=20, size=56, interval=0.05, wait=2):
    """ping -c count -i interval -s size; bounded; returns PingResult."""
    cmd = ["ping", "-n", "-c", str(count), "-i", str(interval), "-s", str(size),
           "-W", str(wait), addr]
    r = sh(cmd, timeout=count * (interval + 0.5) + wait + 10)
    return PingResult(r.stdout, r.returncode)


def neighbour(addr, dev=TAP):
    """The host's neighbour entry for addr: dict with lladdr/state, or None."""
    r = sh(["ip", "-j", "neigh", "show", addr, "dev", dev], timeout=10)
    try:
        entries = json.loads(r.stdout or "[]")
    except ValueError:
        return None
    return entries[0] if entries else None


# --------------------------------------------------------------------------
# pcap files (written by QEMU's filter-dump: one record per frame, unbuffered)


def read_pcap(path):
    """[(timestamp, frame bytes)] of a pcap file; tolerates a truncated tail."""
    frames = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return frames
    if len(data) < 24:
        return frames
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise FirmwareError("%s is not a pcap file" % path)
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break
        frames.append((sec + frac / (1e9 if nano else 1e6), data[off:off + incl]))
        off += incl
    return frames


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def csum16(data):
    """Internet checksum of data (0 when data includes a correct checksum)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def parse_ipv4(frame):
    """(ip header dict, payload) of an Ethernet II IPv4 frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[0] >> 4 != 4 or ihl < 20 or total < ihl or total > len(ip):
        return None
    hdr = {"src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
           "proto": ip[9], "ttl": ip[8], "id": struct.unpack("!H", ip[4:6])[0],
           "csum_ok": csum16(ip[:ihl]) == 0, "ihl": ihl, "total": total,
           "eth_src": mac_str(frame[6:12]), "eth_dst": mac_str(frame[0:6])}
    return hdr, ip[ihl:total]


# --------------------------------------------------------------------------
# TCP: the console's netstat lines, and TCP segments of a pcap (scapy)

# `<id> <lip>:<lport> <rip>:<rport> <STATE> una=<n> nxt=<n> rcv=<n> rtx=<n>`
NETSTAT_RE = re.compile(r"^(\d+) (\d+\.\d+\.\d+\.\d+):(\d+) (\d+\.\d+\.\d+\.\d+):(\d+) "
                        r"([A-Z][A-Z0-9-]*) una=(\d+) nxt=(\d+) rcv=(\d+) rtx=(\d+)$", re.M)


class TcpConn:
    """One connection line of the console's `netstat`."""
    __slots__ = ("id", "lip", "lport", "rip", "rport", "state", "una", "nxt", "rcv", "rtx")

    def __init__(self, *values):
        for k, v in zip(self.__slots__, values):
            setattr(self, k, v)

    def __repr__(self):
        return "%d %s:%d %s:%d %s una=%d nxt=%d rcv=%d rtx=%d" % tuple(
            getattr(self, k) for k in self.__slots__)


TCP_FLAGS = "FSRPAUEC"  # bit 0 (FIN) .. bit 7 (CWR)


class Segment:
    """A TCP segment in a capture. `i`: its frame number in the pcap (1 for
    the first frame, as Wireshark and tshark count); `flags`:
    the header's flag byte; `fl`: its letters (FSRPAUEC order, "." if none)."""
    __slots__ = ("i", "t", "src", "dst", "sport", "dport", "seq", "ack", "flags", "wnd",
                 "payload", "mss", "csum_ok")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    fin = property(lambda s: bool(s.flags & 0x01))
    syn = property(lambda s: bool(s.flags & 0x02))
    rst = property(lambda s: bool(s.flags & 0x04))
    has_ack = property(lambda s: bool(s.flags & 0x10))
    fl = property(lambda s: "".join(c for b, c in enumerate(TCP_FLAGS) if s.flags >> b & 1) or ".")

    def seg_len(self):
        """Sequence space used: payload + SYN + FIN."""
        return len(self.payload) + self.syn + self.fin

    def key(self):
        """(src, sport, dst, dport)"""
        return (self.src, self.sport, self.dst, self.dport)

    def __repr__(self):
        return "#%d %s:%d>%s:%d %s seq=%d ack=%d wnd=%d len=%d" % (
            self.i, self.src, self.sport, self.dst, self.dport, self.fl, self.seq,
            self.ack if self.has_ack else 0, self.wnd, len(self.payload))


def tcp_segments(path, since=0, port=None):
    """TCP segments (IPv4) in the pcap at path, frames from index `since` on,
    optionally only those to or from `port`. Read with scapy (raises Skip when
    scapy is missing). A truncated last record (capture still being written)
    is ignored."""
    try:
        from scapy.layers.inet import IP, TCP
        from scapy.layers.l2 import Ether
        from scapy.utils import RawPcapReader
    except ImportError:
        raise Skip("python3-scapy is not installed (make deps)")
    out = []
    try:
        reader = RawPcapReader(path)
    except (OSError, EOFError) as e:
        raise FirmwareError("cannot read %s: %s" % (path, e))
    try:
        for i, (raw, meta) in enumerate(reader):
            # cheap pre-filter: IPv4, protocol TCP
            if i < since or len(raw) < 54 or raw[12:14] != b"\x08\x00" or raw[23] != 6:
                continue
            pkt = Ether(raw)
            if TCP not in pkt or IP not in pkt:
                continue
            ip, tcp = pkt[IP], pkt[TCP]
            if port is not None and port not in (tcp.sport, tcp.dport):
                continue
            mss = None
            for opt in tcp.options:
                if opt[0] == "MSS":
                    mss = opt[1]
            # from the frame itself: scapy would add the Ethernet padding
            seg_bytes = raw[14 + ip.ihl * 4:14 + ip.len]
            pseudo = (socket.inet_aton(ip.src) + socket.inet_aton(ip.dst) +
                      struct.pack("!BBH", 0, 6, len(seg_bytes)))
            sec = getattr(meta, "sec", None)
            t = (sec + meta.usec / 1e6) if sec is not None else float(getattr(meta, "tshigh", 0))
            out.append(Segment(i=i + 1, t=t, src=ip.src, dst=ip.dst, sport=tcp.sport,
                               dport=tcp.dport, seq=tcp.seq, ack=tcp.ack,
                               flags=int(tcp.flags), wnd=tcp.window,
                               payload=seg_bytes[tcp.dataofs * 4:], mss=mss,
                               csum_ok=csum16(pseudo + seg_bytes) == 0))
    finally:
        reader.close()
    return out


def tcp_stream(segments, src, sport, dst=None, dport=None):
    """The bytes one side sent (src:sport, optionally to dst:dport), put
    together by sequence number from its SYN on: (data, problems) where
    problems lists gaps and retransmissions whose bytes differ."""
    segs = [s for s in segments if s.src == src and s.sport == sport and
            (dst is None or s.dst == dst) and (dport is None or s.dport == dport)]
    syn = next((s for s in segs if s.syn), None)
    if syn is None:
        return b"", ["no SYN from %s:%d" % (src, sport)]
    base = (syn.seq + 1) & 0xFFFFFFFF
    parts = [(((s.seq + s.syn - base) & 0xFFFFFFFF), s) for s in segs if s.payload]
    parts.sort(key=lambda p: p[0])
    data = bytearray()
    problems = []
    for off, s in parts:
        if off > len(data):
            problems.append("gap at byte %d (next segment at %d: %r)" % (len(data), off, s))
            break
        old = bytes(data[off:off + len(s.payload)])
        if old != s.payload[:len(old)] and len(problems) < 5:
            problems.append("bytes %d.. sent twice with different contents (%r)" % (off, s))
        data += s.payload[len(old):]
    return bytes(data), problems


# --------------------------------------------------------------------------
# The firmware under QEMU


class Firmware:
    """qemu-system-arm running the firmware; UART on a unix socket.

    start() boots and waits for the banner; all UART output is collected by a
    background thread. Text for matching has CRs removed ("\\r\\n" -> "\\n").
    """

    def __init__(self, name, elf=None, machine=None, mac=FW_MAC, banner=None,
                 boot_timeout=None, nic=True, pcap=True, extra_args=()):
        self.name = name
        self.elf = elf or os.environ.get("FW_ELF") or os.path.join(ROOT, "build", "firmware.elf")
        self.machine = machine or os.environ.get("FW_MACHINE") or "mps2-an385"
        self.mac = mac
        self.banner = banner or os.environ.get("FW_BANNER") or BANNER
        self.boot_timeout = float(boot_timeout or os.environ.get("FW_BOOT_TIMEOUT") or 15)
        self.nic = nic
        self.eol = os.environ.get("FW_EOL", "\r").encode().decode("unicode_escape")
        self.extra_args = list(extra_args)
        os.makedirs(CAPTURES, exist_ok=True)
        base = os.path.join(CAPTURES, name)
        self.pcap = base + ".pcap" if (pcap and nic) else None
        self.uart_log = base + ".uart.log"
        self.qemu_log = base + ".qemu.log"
        self.files = [f for f in (self.pcap, self.uart_log, self.qemu_log) if f]
        self.proc = None
        self._sock = None
        self._thread = None
        self._tmpdir = None
        self._cv = threading.Condition()
        self._raw = bytearray()
        self._text = ""
        self._pos = 0          # wait_for()'s cursor into _text
        self._eof = False
        self._logf = None

    # -- lifecycle --

    def start(self):
        for f in self.files:  # a previous run's, not ours
            if os.path.exists(f):
                os.unlink(f)
        if not os.path.isfile(self.elf):
            raise FirmwareError("no firmware at %s (build it: make)" % self.elf)
        if self.nic and not in_netns():
            # Never let QEMU create tap0 in the machine's own namespace.
            raise FirmwareError("not inside a namespace from tools/netns.sh (FW_NETNS unset or "
                                "no %s): run the test through tools/netns.sh" % TAP)
        self._tmpdir = tempfile.mkdtemp(prefix="fwlab-")
        sock_path = os.path.join(self._tmpdir, "uart.sock")
        args = ["qemu-system-arm", "-M", self.machine, "-kernel", self.elf,
                "-nographic", "-monitor", "none",
                # wait=on: QEMU starts the guest only once we are connected, so
                # not a byte of the banner is lost.
                "-chardev", "socket,id=con,path=%s,server=on,wait=on" % sock_path,
                "-serial", "chardev:con"]
        if self.nic:
            args += ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % TAP,
                     "-net", "nic,netdev=n0,macaddr=%s" % self.mac]
            if self.pcap:
                args += ["-object", "filter-dump,id=d0,netdev=n0,file=%s" % self.pcap]
        else:
            args += ["-net", "none"]
        args += self.extra_args
        self._logf = open(self.uart_log, "wb")
        with open(self.qemu_log, "wb") as qlog:
            qlog.write(("$ " + " ".join(args) + "\n").encode())
            qlog.flush()
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=qlog,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise FirmwareError("QEMU exited (%d) at start: %s" % (self.proc.returncode,
                                                                      self.qemu_output(tail=600)))
            if os.path.exists(sock_path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(sock_path)
                    self._sock = s
                    break
                except OSError:
                    s.close()
            if time.monotonic() > deadline:
                raise FirmwareError("QEMU's UART socket did not come up in 10 s")
            time.sleep(0.02)
        self._thread = threading.Thread(target=self._reader, daemon=True)
        self._thread.start()
        try:
            m = self.wait_for(self.banner, self.boot_timeout)
        except FirmwareError as e:
            if not self.output().strip():
                raise FirmwareError("the firmware printed nothing on the UART in %gs (does it "
                                    "boot? %s); QEMU: %s" % (self.boot_timeout, self.elf,
                                                             self.qemu_output(400)))
            raise FirmwareError("boot banner /%s/ not seen: %s" % (self.banner, e))
        if m.groupdict().get("error"):
            raise FirmwareError("firmware reports at boot: %s; UART: %r"
                                % (m.group(0), self.output()[-600:]))
        return self

    def stop(self):
        """Kill QEMU (by pid) and the reader; safe to call twice."""
        if self.proc is not None:
            stop_process(self.proc)
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._logf is not None:
            self._logf.close()
            self._logf = None
        if self._tmpdir is not None:
            for f in os.listdir(self._tmpdir):
                os.unlink(os.path.join(self._tmpdir, f))
            os.rmdir(self._tmpdir)
            self._tmpdir = None
        self._sock = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _reader(self):
        while True:
            try:
                data = self._sock.recv(4096)
            except OSError:
                data = b""
            with self._cv:
                if not data:
                    self._eof = True
                    self._cv.notify_all()
                    return
                self._raw += data
                self._text += data.decode("latin-1").replace("\r", "")
                if self._logf:
                    self._logf.write(data)
                    self._logf.flush()
                self._cv.notify_all()

    # -- the console --

    def output(self):
        """Everything the UART printed so far (CRs removed)."""
        with self._cv:
            return self._text

    def qemu_output(self, tail=2000):
        try:
            with open(self.qemu_log, "rb") as f:
                return f.read().decode(errors="replace")[-tail:].strip()
        except OSError:
            return ""

    def mark(self):
        """Position in output(): pass as `since` to wait_for."""
        with self._cv:
            return len(self._text)

    def wait_for(self, regex, timeout=5.0, since=None):
        """Wait until the output from `since` (default: just after the previous
        match) matches regex; returns the re.Match (positions are in output())
        and moves the cursor past it. Raises FirmwareError on timeout or when
        QEMU dies."""
        rx = re.compile(regex, re.M) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        with self._cv:
            start = self._pos if since is None else since
            while True:
                m = rx.search(self._text, start)
                if m:
                    self._pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FirmwareError("timed out after %gs waiting for /%s/; UART output since: %r"
                                        % (timeout, rx.pattern, self._text[start:][-600:]))
                if self._eof or (self.proc is not None and self.proc.poll() is not None):
                    m = rx.search(self._text, start)
                    if m:
                        self._pos = m.end()
                        return m
                    raise FirmwareError("QEMU exited (%s) while waiting for /%s/; UART: %r; QEMU: %s"
                                        % (self.proc.poll() if self.proc else "?", rx.pattern,
                                           self._text[start:][-600:], self.qemu_output(600)))
                self._cv.wait(min(left, 0.2))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self._sock.sendall(data)

    def cmd(self, line, expect=None, timeout=5.0, echo=True):
        """Type `line` + EOL on the console. Waits for its echo (echo=True),
        then for `expect` (a regex) if given, else for the output to go quiet
        for 0.3 s. Returns the output after the echo, up to the end of the
        match (or all of it)."""
        start = self.mark()
        deadline = time.monotonic() + timeout
        self.send(line + self.eol)
        if echo:
            m = self.wait_for(re.escape(line) + r"\n", timeout, since=start)
            start = m.end()
        if expect is not None:
            m = self.wait_for(expect, max(0.0, deadline - time.monotonic()), since=start)
            return self.output()[start:m.end()]
        n = -1
        while time.monotonic() < deadline:
            if self.mark() == n:
                break
            n = self.mark()
            time.sleep(0.3)
        self._pos = self.mark()
        return self.output()[start:]

    # -- frames --

    def frames(self):
        """[(time, bytes)] of every frame the NIC has seen so far (both ways)."""
        return read_pcap(self.pcap) if self.pcap else []

    def frames_from_fw(self, since=0):
        """Frames with the firmware's source MAC, from index `since` on."""
        fw = self.mac.lower()
        return [f for _, f in self.frames()[since:] if mac_str(f[6:12]) == fw]

    # -- console queries (parsed; see firmware/app/console.h for the formats) --
    #
    # These work while trace lines arrive: the console echoes what is typed at
    # once, so a trace line can land in the middle of the echo ("ntcp 0 in A
    # ...\netstat"), but every line the console prints is printed whole. So
    # they do not wait for the echo, only for whole lines of the reply.

    def ask(self, line, expect, timeout=5.0):
        """Type `line`; wait for `expect` (a regex, multiline) in what follows.
        Returns the output from the moment it was typed to the end of the match."""
        start = self.mark()
        self.send(line + self.eol)
        m = self.wait_for(expect, timeout, since=start)
        return self.output()[start:m.end()]

    def query(self, line, timeout=5.0):
        """Type `line` and then a line the console refuses; returns all the
        output up to that refusal's `error:` line (the reply to `line` comes
        whole before it, trace lines may be mixed in)."""
        start = self.mark()
        self.send(line + self.eol + "#fwlab-end" + self.eol)
        m = self.wait_for(r"^error: .*\n", timeout, since=start)
        return self.output()[start:m.start()]

    def netstat(self, timeout=5.0):
        """`netstat` as a list of TcpConn (listeners left out)."""
        return [TcpConn(int(m.group(1)), m.group(2), int(m.group(3)), m.group(4),
                        int(m.group(5)), m.group(6), int(m.group(7)), int(m.group(8)),
                        int(m.group(9)), int(m.group(10)))
                for m in NETSTAT_RE.finditer(self.query("netstat", timeout))]

    def stats(self, timeout=5.0):
        """`stats` as {name: value}."""
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^([a-z][a-z0-9_]*) (\d+)$", self.query("stats", timeout),
                                     re.M)}

    def connect(self, ip, port, timeout=5.0):
        """`connect ip port`: the new connection's id (FirmwareError if refused)."""
        out = self.ask("connect %s %d" % (ip, port), r"^(?:connect: id (\d+)|error: .*)$",
                       timeout=timeout)
        m = re.search(r"^connect: id (\d+)$", out, re.M)
        if not m:
            raise FirmwareError("connect %s %d: %s" % (ip, port, out.strip()))
        return int(m.group(1))


# --------------------------------------------------------------------------
# Results


class Suite:
    """One test script: its cases, its firmware(s) and its captures."""

    def __init__(self, script):
        ensure_netns(script)
        self.name = os.path.splitext(os.path.basename(script))[0]
        self.passed = self.failed = self.skipped = 0
        self.firmwares = []
        self.finished = False
        self.interrupted = 0
        atexit.register(self._at_exit)
        # TERM (from netns.sh or a timeout) and INT: unwind so QEMU is stopped.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        # Once is enough (timeout(1) signals us and our process group): ignore
        # further ones so the unwinding below is not cut short.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        self.interrupted = signum
        raise SystemExit(128 + signum)

    def _at_exit(self):
        # Interrupted or crashed before finish(): still stop QEMU, keep captures.
        if not self.finished:
            if self.interrupted:
                why = "interrupted by signal %d (time limit?)" % self.interrupted
            else:
                why = "ended before finish() (uncaught exception?)"
            self.fail("suite", why)
            self.finish()

    def boot(self, **kw):
        """Start a Firmware (extra ones get a -2, -3... name); on failure
        report `FAIL boot` and end the test."""
        n = len(self.firmwares) + 1
        fw = Firmware(self.name if n == 1 else "%s-%d" % (self.name, n), **kw)
        self.firmwares.append(fw)
        try:
            fw.start()
        except Exception as e:  # noqa: BLE001 - any failure to boot is a FAIL
            self.fail("boot", str(e))
            self.exit()
        return fw

    def ok(self, name):
        self.passed += 1
        log("PASS %s" % name)

    def fail(self, name, reason):
        self.failed += 1
        reason = " | ".join(l.strip() for l in str(reason).splitlines() if l.strip())
        if len(reason) > 2000:
            reason = reason[:2000] + "..."
        log("FAIL %s: %s" % (name, reason or "(no reason given)"))

    def skip(self, name, reason):
        self.skipped += 1
        log("SKIP %s: %s" % (name, reason))

    def case(self, name, fn, *args, **kw):
        """Run fn(*args, **kw): PASS if it returns, FAIL on any exception
        (assert messages become the reason), SKIP on fwlab.Skip."""
        try:
            fn(*args, **kw)
        except Skip as e:
            self.skip(name, e)
            return False
        except AssertionError as e:
            self.fail(name, e or "assertion failed")
            return False
        except Exception as e:  # noqa: BLE001
            self.fail(name, "%s: %s" % (type(e).__name__, e))
            return False
        self.ok(name)
        return True

    def finish(self):
        """Stop every firmware, keep or delete captures; print the summary.
        Returns the exit status (77 when everything was skipped)."""
        self.finished = True
        for fw in self.firmwares:
            try:
                fw.stop()
            except Exception as e:  # noqa: BLE001
                log("warning: stopping QEMU: %s" % e)
        files = [f for fw in self.firmwares for f in fw.files if os.path.exists(f)]
        if self.failed or os.environ.get("KEEP_CAPTURES") == "1":
            for f in files:
                log("kept %s" % os.path.relpath(f, ROOT))
        else:
            for f in files:
                os.unlink(f)
        summary = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            summary += ", %d skipped" % self.skipped
        log(summary)
        if self.failed:
            return 1
        if self.skipped and not self.passed:
            return SKIP_EXIT
        return 0

    def exit(self):
        sys.exit(self.finish())


def wait_until(fn, timeout, what, step=0.1):
    """Poll fn() until it returns something true, for at most timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(step)


def stop_process(p):
    """End a process we started, by its pid: TERM, then KILL after 5 s."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
