#!/usr/bin/python3
"""ARP and ICMP echo against the firmware, from the host side of tap0.

Cases:
  arp           the host learns 192.168.7.2 -> 52:54:00:12:34:56
  ping-56       ping -c 20 -i 0.05 -s 56: no loss, no duplicate, no wrong data
  ping-1400     the same with 1400-byte payloads
  echo-replies  in the capture, every reply mirrors its request (id, seq,
                payload), with valid IPv4 and ICMP checksums
  silent-other-ip   ARP and ping for 192.168.7.3: the firmware sends nothing
  silent-crafted    (scapy) an echo to .3 sent to the firmware's MAC, and an
                    echo to .2 sent to another MAC: the firmware sends nothing
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwlab  # noqa: E402
from fwlab import FW_IP, FW_MAC, HOST_IP  # noqa: E402

OTHER_IP = "192.168.7.3"


def check_arp():
    # One ping makes the kernel resolve the address (ARP request/reply).
    r = fwlab.ping(count=1, interval=0.2)
    assert r.received == 1, "no echo reply to the first ping:\n" + r.output
    n = fwlab.neighbour(FW_IP)
    assert n is not None, "no neighbour entry for %s" % FW_IP
    assert n.get("lladdr", "").lower() == FW_MAC, "neighbour entry %s, want lladdr %s" % (n, FW_MAC)
    assert not set(n.get("state", [])) & {"FAILED", "INCOMPLETE"}, "neighbour entry %s" % n


def check_ping(fw, size):
    def case():
        count = 20
        r = fwlab.ping(count=count, size=size, interval=0.05)
        problems = r.problems(count)
        assert not problems, "%s (firmware %s):\n%s" % (", ".join(problems), fw.mac, r.output)
        assert r.rc == 0, "ping exited %d:\n%s" % (r.rc, r.output)
    return case


def echo_pairs(frames):
    """{(id, seq): (request ip hdr, request icmp, reply ip hdr, reply icmp)}"""
    req, rep = {}, {}
    for f in frames:
        p = fwlab.parse_ipv4(f)
        if not p or p[0]["proto"] != 1 or len(p[1]) < 8:
            continue
        hdr, icmp = p
        t = icmp[0]
        key = struct.unpack("!HH", icmp[4:8])
        if t == 8 and hdr["src"] == HOST_IP and hdr["dst"] == FW_IP:
            req[key] = (hdr, icmp)
        elif t == 0 and hdr["src"] == FW_IP:
            rep.setdefault(key, []).append((hdr, icmp))
    return req, rep


def check_echo_replies(fw):
    req, rep = echo_pairs(f for _, f in fw.frames())
    assert len(req) >= 41, "only %d echo requests in the capture" % len(req)
    bad = []
    for key, (qh, qi) in sorted(req.items()):
        replies = rep.get(key, [])
        if len(replies) != 1:
            bad.append("id/seq %s: %d replies" % (key, len(replies)))
            continue
        rh, ri = replies[0]
        why = []
        if rh["dst"] != HOST_IP:
            why.append("to %s" % rh["dst"])
        if rh["eth_src"] != FW_MAC or rh["eth_dst"] != qh["eth_src"]:
            why.append("MACs %s -> %s" % (rh["eth_src"], rh["eth_dst"]))
        if not rh["csum_ok"]:
            why.append("bad IPv4 header checksum")
        if fwlab.csum16(ri) != 0:
            why.append("bad ICMP checksum")
        if ri[1] != 0:
            why.append("ICMP code %d" % ri[1])
        if ri[8:] != qi[8:]:
            why.append("payload differs (%d vs %d bytes)" % (len(ri) - 8, len(qi) - 8))
        if rh["ttl"] == 0:
            why.append("TTL 0")
        if why:
            bad.append("id/seq %s: %s" % (key, ", ".join(why)))
    assert not bad, "%d bad: %s" % (len(bad), "; ".join(bad[:5]))


def check_silent_other_ip(fw):
    time.sleep(0.5)  # let anything still in flight land in the capture
    before = len(fw.frames())
    r = fwlab.ping(OTHER_IP, count=3, interval=0.3, wait=1)
    assert r.received == 0, "someone answered %s:\n%s" % (OTHER_IP, r.output)
    time.sleep(0.5)
    sent = fw.frames_from_fw(before)
    assert not sent, "firmware sent %d frame(s) while %s was pinged, first: %s" % (
        len(sent), OTHER_IP, sent[0][:42].hex())
    n = fwlab.neighbour(OTHER_IP)
    assert not (n and n.get("lladdr")), "host learned %s for %s" % (n, OTHER_IP)
    frames = fw.frames()[before:]
    assert any(f[12:14] == b"\x08\x06" for _, f in frames), \
        "the host sent no ARP request for %s: the check proved nothing" % OTHER_IP


def check_silent_crafted(fw):
    try:
        from scapy.all import ICMP, IP, Ether, sendp, conf  # noqa: F401
    except ImportError:
        raise fwlab.Skip("scapy not installed")
    conf.verb = 0
    host_mac = fwlab.tap_mac()
    frames = [
        # Right MAC, another IP: no reply, no ICMP error.
        Ether(src=host_mac, dst=FW_MAC) / IP(src=HOST_IP, dst=OTHER_IP) / ICMP(id=0x4242, seq=1),
        # Our IP, another unicast MAC: the NIC or the stack must drop it.
        Ether(src=host_mac, dst="52:54:00:aa:bb:cc") / IP(src=HOST_IP, dst=FW_IP) /
        ICMP(id=0x4242, seq=2),
    ]
    time.sleep(0.5)
    before = len(fw.frames())
    sendp(frames, iface=fwlab.TAP, verbose=False)
    time.sleep(1.0)
    seen = fw.frames()[before:]
    assert len(seen) >= 2, "the crafted frames did not reach the NIC (%d in capture)" % len(seen)
    sent = fw.frames_from_fw(before)
    assert not sent, "firmware answered a frame not for it: %s" % sent[0][:42].hex()


def main():
    suite = fwlab.Suite(__file__)
    fw = suite.boot()
    suite.case("arp", check_arp)
    suite.case("ping-56", check_ping(fw, 56))
    suite.case("ping-1400", check_ping(fw, 1400))
    suite.case("echo-replies", check_echo_replies, fw)
    suite.case("silent-other-ip", check_silent_other_ip, fw)
    suite.case("silent-crafted", check_silent_crafted, fw)
    suite.exit()


if __name__ == "__main__":
    main()
