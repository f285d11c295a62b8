#!/usr/bin/python3
"""TCP echo through nc, on whichever board image FW_ELF/FW_MACHINE name
(`make test-boards` runs it for each board; `make test-e2e` for the default).

Cases:
  board      the banner names the board of the image we meant to boot
             (FW_MACHINE, e.g. "board mps2-an500"): a wrong image fails here
  echo-64k   nc -N to port 7 with 64 KiB of random bytes: what comes back
             has the same length and SHA-256, and nc ends cleanly (the
             firmware closes after our FIN)
  echo-again the same on a second connection (the table slot is reused)
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwlab  # noqa: E402
from fwlab import FW_IP  # noqa: E402

SIZE = 64 * 1024


def check_board(fw):
    machine = os.environ.get("FW_MACHINE")
    if not machine:
        raise fwlab.Skip("FW_MACHINE not set: nothing to compare the banner with")
    m = re.search(r"^\S+ \S+ board (\S+)$", fw.output(), re.M)
    assert m, "no 'board' in the banner: %r" % fw.output()[:300]
    assert m.group(1) == machine, "banner says board %s, FW_MACHINE is %s (FW_ELF=%s)" % (
        m.group(1), machine, fw.elf)


def check_echo(fw):
    data = os.urandom(SIZE)
    with tempfile.TemporaryDirectory(prefix="echo-") as d:
        src = os.path.join(d, "in")
        with open(src, "wb") as f:
            f.write(data)
        # -N: shut down our side at EOF, then read until the firmware's FIN.
        # -w: give up after 10 s of silence. Bounded overall by timeout=.
        with open(src, "rb") as fin:
            try:
                r = subprocess.run(["nc", "-N", "-w", "10", FW_IP, "7"], stdin=fin,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            except subprocess.TimeoutExpired:
                raise AssertionError("nc did not finish in 60 s (firmware alive: %s)"
                                     % fw.alive())
    got = r.stdout
    want_sum, got_sum = hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest()
    assert len(got) == SIZE and got_sum == want_sum, (
        "echoed %d of %d bytes, sha256 %s (sent %s); nc exit %d: %s"
        % (len(got), SIZE, got_sum[:16], want_sum[:16], r.returncode,
           r.stderr.decode(errors="replace").strip()))
    assert r.returncode == 0, "nc exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace"))


def main():
    suite = fwlab.Suite(__file__)
    fw = suite.boot()
    suite.case("board", check_board, fw)
    suite.case("echo-64k", check_echo, fw)
    suite.case("echo-again", check_echo, fw)
    suite.exit()


if __name__ == "__main__":
    main()
