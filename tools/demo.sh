#!/bin/bash
# shellcheck disable=SC2317  # (cleanup runs from a trap)
# `make demo`: the mission in one command. Boots the firmware under QEMU in a
# network namespace of its own (tools/netns.sh), then, step by step:
#   1. the host opens a TCP connection to the echo service (3-way handshake)
#   2. the host sends a line and gets its echo
#   3. the host closes (4-way handshake; the firmware goes CLOSE-WAIT, LAST-ACK)
#   4. the firmware opens a connection to `nc -l` on the host
#   5. both send a line
#   6. the firmware closes first (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT)
# For each step it prints the firmware's live trace (console `trace on`, read
# from the UART) next to what the host saw on tap0 (tshark, started before the
# first step and stopped after the last). The capture is kept in build/demo.pcap.
# Exits 0 when every step did what it should; leaves no process, namespace or
# tap behind (tools/netns.sh checks).
#
#   tools/demo.sh [firmware.elf [qemu machine]]     (default build/firmware.elf mps2-an385)
set -uo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(dirname "$(dirname "$SELF")")
PY=/usr/bin/python3
PCAP=$ROOT/build/demo.pcap

# ---------------------------------------------------------------------------
# Outside: check what we need, then run ourselves inside a namespace.
if [[ ${1:-} != --in-netns ]]; then
    elf=$(readlink -f "${1:-$ROOT/build/firmware.elf}")
    machine=${2:-mps2-an385}
    [[ -f $elf ]] || { echo "demo: no firmware at $elf (build it: make)" >&2; exit 2; }
    missing=()
    for c in qemu-system-arm tshark nc ip; do
        command -v "$c" >/dev/null || missing+=("$c")
    done
    [[ -x $PY ]] || missing+=("$PY")
    if ((${#missing[@]})); then
        echo "demo: missing ${missing[*]} (make deps)" >&2
        exit 2
    fi
    mkdir -p "$ROOT/build"
    # netns.sh runs us in the background so that Ctrl-C / TERM can be passed on.
    "$ROOT/tools/netns.sh" -- "$SELF" --in-netns "$elf" "$machine" </dev/null &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
    wait "$child"; rc=$?
    # wait returns early on a trapped signal: wait for netns.sh's cleanup too.
    while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
    trap - INT TERM HUP
    if ((rc == 0)); then
        echo
        echo "== Done. The namespace, its tap, QEMU, nc and tshark are gone."
        echo "   Look at the capture again: tshark -r build/demo.pcap"
    elif ((rc == 77)); then
        echo "demo: no network namespace can be made here (see above)" >&2
    else
        echo "demo: FAILED (exit $rc)" >&2
    fi
    exit "$rc"
fi

# ---------------------------------------------------------------------------
# Inside the namespace (tap0 = 192.168.7.1/24 is ready).
shift
elf=$1 machine=$2
tmp=$(mktemp -d /tmp/fw-demo.XXXXXX)
tshark_pid=
cleanup() {
    if [[ -n $tshark_pid ]] && kill -0 "$tshark_pid" 2>/dev/null; then
        kill -INT "$tshark_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$tshark_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$tshark_pid" 2>/dev/null
        wait "$tshark_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$PCAP"
# One line per TCP segment, as it passes tap0 (the host's side of the wire).
tshark -i tap0 -n -l -f tcp --disable-protocol echo -w "$PCAP" -F pcap -P \
    -T fields -E separator=' ' \
    -e frame.time_relative -e ip.src -e ip.dst -e _ws.col.Info \
    >"$tmp/host.txt" 2>"$tmp/tshark.err" &
tshark_pid=$!
for _ in $(seq 100); do
    grep -q "Capturing on" "$tmp/tshark.err" 2>/dev/null && break
    kill -0 "$tshark_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "Capturing on" "$tmp/tshark.err" 2>/dev/null; then
    echo "demo: tshark did not start capturing on tap0:" >&2
    cat "$tmp/tshark.err" >&2
    exit 1
fi

FW_ELF=$elf FW_MACHINE=$machine DEMO_HOST_LOG=$tmp/host.txt DEMO_ROOT=$ROOT \
    "$PY" - <<'PYEOF'
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.environ["DEMO_ROOT"]
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import fwlab  # noqa: E402
from fwlab import FW_IP, HOST_IP  # noqa: E402

HOST_LOG = os.environ["DEMO_HOST_LOG"]
NC_PORT = 5000
KEEP = re.compile(r"(tcp -?\d+ (?:in|out) .*|tcp \d+ [A-Z0-9-]+ -> [A-Z0-9-]+|conn \d+ .*|"
                  r"(?:connect|send|close): .*)$")


class Demo:
    def __init__(self):
        self.fw = fwlab.Firmware("demo", pcap=False)
        self.host_pos = 0
        self.fw_pos = 0
        self.procs = []

    # -- output --

    def step(self, n, title, what):
        print("\n== Step %d: %s" % (n, title))
        for line in what:
            print("   " + line)
        sys.stdout.flush()

    def show(self, settle=0.3):
        """Print what the firmware and the host saw since the last show()."""
        time.sleep(settle)   # let the last frames and trace lines arrive
        fw = [m.group(1) for m in map(KEEP.search, self.fw.output()[self.fw_pos:].splitlines())
              if m]
        self.fw_pos = len(self.fw.output())
        # tshark prints with a delay: wait (bounded) until it has shown as many
        # segments as the firmware traced (an ARP wait can make that one more).
        segs = len([x for x in fw if re.match(r"tcp -?\d+ (in|out) ", x)])
        deadline = time.monotonic() + 3
        while True:
            with open(HOST_LOG, encoding="utf-8", errors="replace") as f:
                f.seek(self.host_pos)
                host = f.read()
            lines = [x for x in host.splitlines() if x.strip()]
            if (len(lines) >= segs and host.endswith("\n")) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.host_pos += len(host.encode("utf-8"))
        # The console echoes typed characters at once, so they may sit in front
        # of a trace line (KEEP finds the line in it); netstat polls are left out.
        print("   firmware (its console: trace, events, replies)")
        for line in fw:
            print("     fw   | " + line)
        print("   host (tshark on tap0)")
        for line in lines:
            t, src, dst, info = (line.split(" ", 3) + ["", "", ""])[:4]
            print("     host | %7.3f  %-11s -> %-11s  %s" % (float(t or 0), src, dst, info))
        sys.stdout.flush()

    def say(self, text):
        print("   " + text)
        sys.stdout.flush()

    # -- helpers --

    def state_of(self, cid=None, rport=None):
        for c in self.fw.netstat():
            if (cid is None or c.id == cid) and (rport is None or c.rport == rport):
                return c
        return None

    def wait_state(self, want, timeout=5, **kw):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.state_of(**kw)
            if c is not None and c.state == want:
                return c
            time.sleep(0.1)
        raise fwlab.FirmwareError("no connection in %s (%s); netstat: %s" % (
            want, kw, self.fw.netstat()))

    def popen(self, args):
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def readline(self, p, timeout=5):
        box = []
        t = threading.Thread(target=lambda: box.append(p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box:
            raise fwlab.FirmwareError("no line from %s within %gs" % (p.args[0], timeout))
        return box[0]

    def stop_all(self):
        for p in self.procs:
            fwlab.stop_process(p)
        self.fw.stop()

    # -- the mission --

    def run(self):
        fw = self.fw
        self.step(0, "boot the firmware under QEMU", [
            "QEMU's NIC is tap0 in this namespace: the host is %s, the firmware %s." % (
                HOST_IP, FW_IP)])
        fw.start()
        for line in fw.output().strip().splitlines():
            print("     fw   | " + line)
        fw.cmd("trace on", expect=r"^trace: on$")
        self.fw_pos = len(fw.output())
        print("""
   How to read what follows:
     fw   | tcp <id> in|out <flags> seq= ack= wnd= len=   a segment the firmware took in
            or sent; seq/ack count from each side's initial sequence number (ISN),
            flags S=SYN A=ACK F=FIN P=PSH R=RST. Id -1: no connection yet (a SYN
            for a listening port; its numbers are absolute).
     fw   | tcp <id> OLD -> NEW   a state change (RFC 9293 names; a slot that is
            not in use shows as CLOSED, so a passive open reads CLOSED -> SYN-RECEIVED)
     host | time  source -> destination  ports [flags] Seq= Ack= ...   (tshark,
            relative sequence numbers too)""")

        # 1. passive open
        self.step(1, "the host connects to the echo service: the 3-way handshake", [
            "$ nc -N %s 7        (the host sends SYN, the firmware SYN-ACK, the host ACK)"
            % FW_IP])
        nc = self.popen(["nc", "-N", FW_IP, "7"])
        c = self.wait_state("ESTABLISHED", rport=None)
        self.show()
        self.say("netstat: " + repr(c))

        # 2. data
        line = b"hello, firmware\n"
        self.step(2, "the host sends a line, the echo service sends it back", [
            "host types: %s" % line.decode().strip()])
        nc.stdin.write(line)
        nc.stdin.flush()
        got = self.readline(nc)
        if got != line:
            raise fwlab.FirmwareError("echo: sent %r, got %r" % (line, got))
        self.show()
        self.say("the host got back: %s" % got.decode().strip())

        # 3. host closes
        self.step(3, "the host closes: the 4-way handshake, firmware in CLOSE-WAIT then "
                  "LAST-ACK", [
                      "nc's input ends: it sends FIN; the firmware ACKs it (CLOSE-WAIT), "
                      "the echo service",
                      "closes too: FIN (LAST-ACK; here the ACK and the FIN go in one "
                      "segment), the host ACKs it (CLOSED)."])
        nc.stdin.close()
        try:
            nc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise fwlab.FirmwareError("nc did not end after its FIN")
        self.show()
        states = re.findall(r"^tcp \d+ ([A-Z-]+) -> ([A-Z-]+)$", fw.output(), re.M)
        for want in (("ESTABLISHED", "CLOSE-WAIT"), ("CLOSE-WAIT", "LAST-ACK"),
                     ("LAST-ACK", "CLOSED")):
            if want not in states:
                raise fwlab.FirmwareError("the trace shows no %s -> %s" % want)
        self.say("netstat: no connection left: %s" % (fw.netstat() or "[]"))

        # 4. active open
        self.step(4, "the firmware connects to nc -l on the host: the 3-way handshake", [
            "$ nc -l %s %d                       (on the host)" % (HOST_IP, NC_PORT),
            "fw> connect %s %d                   (on the firmware's console)" % (
                HOST_IP, NC_PORT)])
        ncl = self.popen(["nc", "-l", HOST_IP, str(NC_PORT)])
        deadline = time.monotonic() + 5
        while not fwlab.sh(["ss", "-Hltn", "sport = :%d" % NC_PORT]).stdout.strip():
            if time.monotonic() > deadline:
                raise fwlab.FirmwareError("nc -l is not listening")
            time.sleep(0.1)
        cid = fw.connect(HOST_IP, NC_PORT)
        fw.wait_for(r"^conn %d established$" % cid, 5)
        self.show()
        self.say("netstat: " + repr(self.state_of(cid=cid)))

        # 5. data both ways
        self.step(5, "data both ways", [
            "fw> send %d hello, host" % cid, "host types: hello, firmware"])
        fw.ask("send %d hello, host" % cid, r"^(send: \d+ bytes|error: .*)$")
        got = self.readline(ncl)
        if got != b"hello, host\n":
            raise fwlab.FirmwareError("nc -l got %r" % got)
        ncl.stdin.write(b"hello, firmware\n")
        ncl.stdin.flush()
        fw.wait_for(r'^conn %d data "hello, firmware\\n"$' % cid, 5)
        self.show()
        self.say("nc -l printed: %s" % got.decode().strip())

        # 6. active close
        self.step(6, "the firmware closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT", [
            "fw> close %d" % cid,
            "the firmware sends FIN (FIN-WAIT-1), the host ACKs it (FIN-WAIT-2); nc -l",
            "sees the end of the stream and closes: the host's FIN, the firmware ACKs it",
            "(TIME-WAIT). Linux may send its ACK and its FIN in one segment."])
        fw.ask("close %d" % cid, r"^(close: id \d+|error: .*)$")
        c = self.wait_state("TIME-WAIT", cid=cid)
        try:
            ncl.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise fwlab.FirmwareError("nc -l did not end")
        self.show()
        states = re.findall(r"^tcp %d ([A-Z0-9-]+) -> ([A-Z0-9-]+)$" % cid, fw.output(), re.M)
        for want in (("ESTABLISHED", "FIN-WAIT-1"), ("FIN-WAIT-1", "FIN-WAIT-2"),
                     ("FIN-WAIT-2", "TIME-WAIT")):
            if want not in states:
                raise fwlab.FirmwareError("the trace shows no %s -> %s" % want)
        self.say("netstat: " + repr(c))
        self.say("TIME-WAIT lasts 2*MSL (240 s by default); the demo ends before that.")


demo = Demo()
ok = False
try:
    demo.run()
    ok = True
except Exception as e:  # noqa: BLE001
    print("\ndemo: FAILED: %s" % e, file=sys.stderr)
    try:
        demo.show(0.2)
    except Exception:  # noqa: BLE001
        pass
finally:
    demo.stop_all()
    if ok:   # keep the UART and QEMU logs only when something went wrong
        for f in demo.fw.files:
            if os.path.exists(f):
                os.unlink(f)
    else:
        for f in demo.fw.files:
            if os.path.exists(f):
                print("demo: kept %s" % os.path.relpath(f, ROOT), file=sys.stderr)
sys.exit(0 if ok else 1)
PYEOF
rc=$?

# Stop the capture (it flushes build/demo.pcap) and say what it holds.
kill -INT "$tshark_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$tshark_pid" 2>/dev/null || break; sleep 0.1; done
wait "$tshark_pid" 2>/dev/null
tshark_pid=
chmod a+r "$PCAP" 2>/dev/null
frames=$(tshark -r "$PCAP" 2>/dev/null | wc -l)
echo
echo "== The host's capture: $frames TCP frames in ${PCAP#"$ROOT"/} (tshark -r ${PCAP#"$ROOT"/})"
# The two connections as ladder diagrams (host left, firmware right).
if ((rc == 0)); then
    "$ROOT/tools/ladder.py" "$PCAP" --conn 0 --out "$ROOT/build/demo-passive" \
        --title "nc to the firmware's echo: 3-way handshake, echo, 4-way close" >/dev/null &&
    "$ROOT/tools/ladder.py" "$PCAP" --conn 1 --out "$ROOT/build/demo-active" \
        --title "The firmware connects to nc -l and closes first" >/dev/null &&
    echo "== Pictures: build/demo-passive.{svg,png} and build/demo-active.{svg,png}" ||
    { echo "demo: the ladder pictures could not be drawn" >&2; rc=1; }
fi
exit "$rc"
