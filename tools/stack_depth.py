#!/usr/bin/python3
"""stack_depth: worst-case stack depth of the firmware, checked against its stack.

    tools/stack_depth.py [--elf build/firmware.elf] [--su-dir build/mps2-an385/obj]
                         [--cross arm-none-eabi-] [--nesting all|priority] [-v]

Run by `make test-static` after the firmware build. Exit 0 when the worst case
fits the stack the linker script gives (_stack_size), 1 when it does not or
when the analysis cannot be trusted (recursion, an indirect call it cannot
resolve, a function without a known frame size), 2 on usage errors.

How:
- Frame sizes: GCC's -fstack-usage (.su files next to the objects; the
  Makefile builds with it). A function without one (libgcc, assembly) is
  sized from its prologue (push/stmdb/sub sp/vpush) in the disassembly.
  A "dynamic" (unbounded) frame is an error.
- Call graph: `objdump -dl` of the ELF: bl/blx <f> are calls; b/b.w/cbz... to
  the start of another function are tail calls (counted as calls: a little
  conservative); blx/bx rN are indirect calls, resolved with CALLBACKS below
  from the source line objdump names for them (the nearest line at or above
  it that makes a call through one of the known function pointers).
  Conservatively, every function whose address is stored anywhere in the
  image (a 32-bit word of .text/.rodata/.data equal to its Thumb address),
  other than the vector table's handlers, must be a target in CALLBACKS: an
  unknown function pointer is an error, not a guess.
- Recursion is an error: a cycle of direct calls, or of calls through
  pointers that do not re-enter the stack. Application callbacks do re-enter
  it (tcp.h: a callback may call tcp_send/tcp_close/tcp_abort, and those may
  report an event): those cycles are unrolled CALLBACK_NESTING deep, see the
  reasoning there.
- Roots: the main path from Reset_Handler (which calls main) and every
  handler of the vector table, read from the ELF (the array `vectors` of
  board/common/startup.c). Each exception adds its hardware frame,
  EXC_FRAME bytes. --nesting=all (default) lets every handler preempt the
  main path's worst point and each other, each once (no reliance on
  priorities); --nesting=priority assumes the reset priorities (all
  configurable exceptions equal: they never preempt each other), so only the
  deepest one stacks on the main path, plus NMI and HardFault on top.
- Fault_Handler moves SP back to the top of the stack before its C part
  runs (startup.c): its own depth is checked alone; on the worst path it
  adds only the hardware frame the fault pushes (--nesting=all).
"""

import argparse
import collections
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every call through a function pointer in the firmware, by the call
# expression in the source (file, regex) and the functions it can reach.
# Keep in step with the code: an indirect call matching no entry, or a
# function whose address is stored somewhere but is in no entry, fails the
# check. "reenters" marks the application callbacks of tcp.h, which may call
# back into the stack.
CALLBACKS = [
    # net_stack.tx, set by net_init() in main.c
    dict(what="net tx callback", file="eth.c", call=r"->tx\(",
         targets=["eth_tx", "no_tx"], reenters=False),
    # net_stack.trace, installed by console_init()
    dict(what="trace hook", file="tcp.c", call=r"->trace\(",
         targets=["trace_hook"], reenters=False),
    # struct tcp_app of services.c and console.c
    dict(what="tcp_app.recv", file="tcp.c", call=r"->recv\(",
         targets=["echo_recv", "sink_recv", "con_recv"], reenters=True),
    dict(what="tcp_app.event", file="tcp.c", call=r"->event\(",
         targets=["echo_event", "discard_event", "chargen_event", "con_event"], reenters=True),
    dict(what="tcp_app.window", file="tcp.c", call=r"->window\(",
         targets=["echo_window"], reenters=True),
    # the console's write function (main.c passes uart_write), also used by
    # the fault reports of startup.c through fmt_vprint
    dict(what="fmt/console write", file="fmt.c", call=r"\bout\(",
         targets=["uart_write"], reenters=False),
    dict(what="console write", file="console.c", call=r"->out\(",
         targets=["uart_write"], reenters=False),
    dict(what="console extra stats", file="console.c", call=r"->extra_stats\(",
         targets=["driver_stats"], reenters=False),
    # console.c: (cmd == C_CLOSE ? tcp_close : tcp_abort)(s, id)
    dict(what="console close/abort", file="console.c", call=r"\?\s*tcp_close\s*:\s*tcp_abort\)",
         targets=["tcp_close", "tcp_abort"], reenters=False),
]

# How deep application callbacks nest. Level 1: the stack calls an
# application (recv, event, window) from net_input/net_poll. From there the
# application may call the API (tcp_send, tcp_close, tcp_abort,
# tcp_window_changed), and those can call an application once more (level
# 2): the window callback, or a final event (CLOSED from tcp_abort/conn_free,
# TIMEOUT from the timers that conn_get() runs). No application of this
# firmware calls the API on a final event or from window() (services.c acts on
# CONNECTED, SENT, PEER_CLOSED only; the console only prints), so level 3
# never happens. Beyond this level a callback edge is not followed.
CALLBACK_NESTING = 2

# Hardware exception frame on ARMv7-M: 8 words, plus 4 bytes of alignment
# padding when SP was not 8-byte aligned (CCR.STKALIGN); 26 words when the
# code uses the FPU (its registers are stacked too: an image with any VFP
# instruction is taken to need that).
EXC_FRAME = 8 * 4 + 4
EXC_FRAME_FPU = 26 * 4 + 4

# Functions that move SP to a fresh place before calling on (see above).
STACK_RESET = {"Fault_Handler"}

BRANCH_RE = re.compile(r"^(b|b(eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al))(\.n|\.w)?$")


class Error(Exception):
    pass


def run(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise Error("%s not found (install binutils-arm-none-eabi: make deps)" % cmd[0])
    if r.returncode != 0:
        raise Error("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


class Image:
    def __init__(self, elf, su_dir, cross):
        self.elf, self.cross = elf, cross
        self.load_symbols()
        self.load_su(su_dir)
        self.load_code()

    # ---- symbols ----
    def load_symbols(self):
        self.funcs = {}      # addr -> canonical name
        self.aliases = collections.defaultdict(list)
        self.size = {}
        self.file_of = {}    # name -> source file (local symbols)
        self.objects = {}
        rank = {"GLOBAL": 0, "WEAK": 1, "LOCAL": 2}
        best = {}
        cur_file = None
        for line in run([self.cross + "readelf", "-sW", self.elf]).splitlines():
            p = line.split()
            if len(p) < 8 or not p[0].rstrip(":").isdigit():
                continue
            value, size, typ, bind, name = int(p[1], 16), int(p[2]), p[3], p[4], p[7]
            if typ == "FILE":
                cur_file = name
            elif typ == "FUNC":
                addr = value & ~1
                self.aliases[addr].append(name)
                self.size[name] = size
                if bind == "LOCAL":
                    self.file_of[name] = cur_file
                if addr not in best or rank.get(bind, 3) < best[addr]:
                    best[addr] = rank.get(bind, 3)
                    self.funcs[addr] = name
            elif typ == "OBJECT":
                self.objects[name] = (value, size)
        self.addr_of = {n: a for a, n in self.funcs.items()}
        self.canon = {a: self.funcs[addr] for addr, al in self.aliases.items() for a in al}
        nm = run([self.cross + "nm", self.elf])
        m = re.search(r"^([0-9a-fA-F]+) \w _stack_size$", nm, re.M)
        if not m:
            raise Error("no _stack_size symbol in %s (linker/cortex-m.ld defines it)" % self.elf)
        self.stack_size = int(m.group(1), 16)

    # ---- -fstack-usage ----
    def load_su(self, su_dir):
        self.su = collections.defaultdict(list)  # name -> [(file, bytes, qualifier)]
        files = glob.glob(os.path.join(su_dir, "**", "*.su"), recursive=True)
        if not files:
            raise Error("no .su files under %s (is the firmware built with -fstack-usage?)" % su_dir)
        for f in files:
            for line in open(f, encoding="utf-8", errors="replace"):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3:
                    continue
                loc, nbytes, qual = parts
                fields = loc.rsplit(":", 3)
                name = fields[-1]
                src = os.path.basename(fields[0])
                # a clone of a function is listed under its own name
                self.su[name].append((src, int(nbytes), qual))

    def frame(self, name):
        """(bytes, how) for a function's own frame."""
        cands = self.su.get(name, [])
        if len(cands) > 1 and name in self.file_of:
            same = [c for c in cands if c[0] == self.file_of[name]]
            cands = same or cands
        if cands:
            src, n, qual = max(cands, key=lambda c: c[1])
            if "dynamic" in qual and "bounded" not in qual:
                raise Error("%s has a dynamic (unbounded) stack frame (%s)" % (name, src))
            return n, "su"
        if name in self.prologue:
            return self.prologue[name], "prologue"
        raise Error("no stack size for %s: no .su entry and no prologue found" % name)

    # ---- code ----
    def load_code(self):
        self.calls = collections.defaultdict(set)      # name -> {callee}
        self.indirect = collections.defaultdict(list)  # name -> [(addr, file, line)]
        self.prologue = {}
        self.sp_moves = collections.defaultdict(list)
        self.uses_fpu = False
        cur = None
        src = (None, 0)
        count = 0
        text = run([self.cross + "objdump", "-dl", "--no-show-raw-insn", self.elf])
        for line in text.splitlines():
            m = re.match(r"^([0-9a-f]+) <([^>]+)>:$", line)
            if m:
                addr = int(m.group(1), 16)
                cur = self.funcs.get(addr) or self.canon.get(m.group(2))
                count = 0
                continue
            m = re.match(r"^(\S.*):(\d+)(?: \(discriminator \d+\))?$", line)
            if m:
                src = (m.group(1), int(m.group(2)))
                continue
            m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
            if not m or cur is None:
                continue
            addr, mnem, ops = int(m.group(1), 16), m.group(2), m.group(3)
            if mnem.startswith("v") and not mnem.startswith("v."):
                self.uses_fpu = True
            ops = ops.split(";")[0].split("@")[0].strip()
            count += 1
            if count <= 6:
                self.scan_prologue(cur, mnem, ops)
            t = re.search(r"<([^>+]+)(\+0x[0-9a-f]+)?>", ops)
            if mnem in ("bl", "blx") and t:
                self.calls[cur].add(self.canon.get(t.group(1), t.group(1)))
            elif (BRANCH_RE.match(mnem) or mnem in ("cbz", "cbnz")) and t and not t.group(2):
                callee = self.canon.get(t.group(1), t.group(1))
                if callee != cur:
                    self.calls[cur].add(callee)  # tail call
            elif mnem in ("blx", "bx") and re.fullmatch(r"(r\d+|ip|r1[0-2])", ops):
                self.indirect[cur].append((addr, src[0], src[1]))
            elif (mnem in ("mov", "mov.w") and ops.startswith("sp,")) or \
                    (mnem == "msr" and ops.startswith("msp")):
                self.sp_moves[cur].append(addr)

    def scan_prologue(self, name, mnem, ops):
        n = 0
        if mnem in ("push", "push.w", "stmdb", "stmdb.w", "vpush") and "{" in ops:
            if mnem.startswith("stmdb") and not ops.startswith("sp!"):
                return
            regs = ops[ops.index("{") + 1:ops.index("}")]
            for r in regs.split(","):
                r = r.strip()
                if "-" in r:
                    a, b = (int(x[1:]) for x in r.split("-"))
                    k = b - a + 1
                else:
                    k = 1
                n += k * (8 if r.startswith("d") else 4)
        else:
            m = re.match(r"^(sub|sub\.w|subw)$", mnem) and \
                re.match(r"^sp,\s*(?:sp,\s*)?#(\d+)", ops)
            if m:
                n = int(m.group(1))
        if n:
            self.prologue[name] = self.prologue.get(name, 0) + n

    def words(self):
        """Every aligned 32-bit word of .text and .data (rodata is in .text)."""
        out = run([self.cross + "objdump", "-s", "-j", ".text", "-j", ".data", self.elf])
        data = {}
        for line in out.splitlines():
            m = re.match(r"^ ([0-9a-f]+) ((?:[0-9a-f]{2,8} ){1,4})", line)
            if m:
                a = int(m.group(1), 16)
                hx = "".join(m.group(2).split())
                for i in range(0, len(hx), 2):
                    data[a + i // 2] = int(hx[i:i + 2], 16)
        for a in sorted(data):
            if a % 4 == 0 and all(a + i in data for i in range(1, 4)):
                yield a, data[a] | data[a + 1] << 8 | data[a + 2] << 16 | data[a + 3] << 24

    def vectors(self):
        if "vectors" not in self.objects:
            raise Error("no `vectors` object in the ELF (board/common/startup.c)")
        start, size = self.objects["vectors"]
        table = {}
        for a, v in self.words():
            if start <= a < start + size and a != start and v & 1 and (v & ~1) in self.funcs:
                table[(a - start) // 4] = self.funcs[v & ~1]
        return table


def source_line(path, n, cache={}):
    if path not in cache:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                cache[path] = f.read().splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[n - 1] if 0 < n <= len(lines) else ""


def classify(img, errors):
    """The callee edges of every indirect call: name -> [(target, reenters)]."""
    edges = collections.defaultdict(set)
    for fn, sites in img.indirect.items():
        for addr, path, line in sites:
            if path is None:
                errors.append("indirect call at %#x in %s: no line information (build with -g)"
                              % (addr, fn))
                continue
            base = os.path.basename(path)
            found = None
            for back in range(0, 9):  # the call's line, or just above (a tail call
                text = source_line(path, line - back)  # is placed on the closing brace)
                for cb in CALLBACKS:
                    if cb["file"] == base and re.search(cb["call"], text):
                        found = cb
                        break
                if found:
                    break
            if not found:
                errors.append("indirect call at %#x in %s (%s:%d: %s) matches no entry of "
                              "CALLBACKS in tools/stack_depth.py: add it with its targets"
                              % (addr, fn, base, line, source_line(path, line).strip()))
                continue
            for t in found["targets"]:
                if t in img.addr_of:
                    edges[fn].add((t, found["reenters"]))
    return edges


def check_address_taken(img, vector_funcs, errors, warnings):
    listed = {t for cb in CALLBACKS for t in cb["targets"]}
    taken = set()
    for _, v in img.words():
        if v & 1 and (v & ~1) in img.funcs:
            taken.add(img.funcs[v & ~1])
    for f in sorted(taken - vector_funcs - listed):
        errors.append("the address of %s is stored in the image but no CALLBACKS entry "
                      "lists it as a target: where is it called through a pointer?" % f)
    for f in sorted(listed - set(img.addr_of)):
        warnings.append("CALLBACKS lists %s, which is not in the image" % f)


class Analysis:
    def __init__(self, img, cb_edges):
        self.img = img
        self.cb_edges = cb_edges
        self.memo = {}
        self.onstack = []

    def succ(self, fn, level):
        for c in sorted(self.img.calls.get(fn, ())):
            yield c, level
        for c, reenters in sorted(self.cb_edges.get(fn, ())):
            if not reenters:
                yield c, level
            elif level < CALLBACK_NESTING:
                yield c, level + 1

    def depth(self, fn, level=0):
        """(bytes, path) of the deepest call chain from fn."""
        key = (fn, level)
        if key in self.memo:
            return self.memo[key]
        if key in self.onstack:
            i = self.onstack.index(key)
            cyc = [f for f, _ in self.onstack[i:]] + [fn]
            raise Error("recursion: " + " -> ".join(cyc))
        if fn not in self.img.addr_of:
            raise Error("%s is called but is not a function of the image" % fn)
        self.onstack.append(key)
        own, _ = self.img.frame(fn)
        best, path = 0, []
        for c, lv in self.succ(fn, level):
            d, p = self.depth(c, lv)
            if d > best or not path:
                best, path = d, p
        self.onstack.pop()
        res = (own + best, [(fn, own, level)] + path)
        self.memo[key] = res
        return res


def fmt_path(path):
    return "\n".join("      %-28s %5d%s" % (f, n, "  (callback level %d)" % lv if lv else "")
                     for f, n, lv in path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "firmware.elf"))
    ap.add_argument("--su-dir", default=os.path.join(ROOT, "build", "mps2-an385", "obj"))
    ap.add_argument("--cross", default="arm-none-eabi-")
    ap.add_argument("--nesting", choices=("all", "priority"), default="all")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every root's path")
    a = ap.parse_args()

    errors, warnings = [], []
    try:
        img = Image(a.elf, a.su_dir, a.cross)
        vec = img.vectors()
        vector_funcs = set(vec.values())
        check_address_taken(img, vector_funcs, errors, warnings)
        cb = classify(img, errors)
        for f, moves in img.sp_moves.items():
            if f not in STACK_RESET and f != "Reset_Handler":
                errors.append("%s writes SP (at %s) and is not in STACK_RESET"
                              % (f, ", ".join("%#x" % x for x in moves)))
        if errors:
            raise Error("\n  ".join(errors))
        an = Analysis(img, cb)
        if "Reset_Handler" not in img.addr_of or "main" not in img.addr_of:
            raise Error("no Reset_Handler/main in the image")
        main_d, main_p = an.depth("Reset_Handler")
        handlers = {}
        for idx, f in sorted(vec.items()):
            if f == "Reset_Handler":
                continue
            handlers.setdefault(f, []).append(idx)
        hd = {f: an.depth(f) for f in handlers}
    except Error as e:
        print("stack_depth: ERROR: %s" % e)
        return 1

    for w in warnings:
        print("stack_depth: warning: %s" % w)
    global EXC_FRAME
    if img.uses_fpu:
        EXC_FRAME = EXC_FRAME_FPU
    size = img.stack_size
    exc_names = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
                 11: "SVCall", 12: "DebugMon", 14: "PendSV", 15: "SysTick"}

    def names(idxs):
        n = [exc_names.get(i, "IRQ%d" % (i - 16)) for i in idxs]
        return ", ".join(n[:4]) + (" +%d more" % (len(n) - 4) if len(n) > 4 else "")

    print("stack_depth: %s, stack %d bytes (_stack_size), exception frame %d bytes, "
          "callbacks nested up to %d" % (os.path.relpath(a.elf, ROOT), size, EXC_FRAME,
                                         CALLBACK_NESTING))
    print("  main path (Reset_Handler -> main): %d bytes" % main_d)
    if a.verbose:
        print(fmt_path(main_p))
    for f, idxs in sorted(handlers.items(), key=lambda kv: -hd[kv[0]][0]):
        note = " (moves SP to the top: checked alone)" if f in STACK_RESET else ""
        print("  %-22s %5d bytes + %d frame   [%s]%s" % (f, hd[f][0], EXC_FRAME, names(idxs), note))
        if a.verbose:
            print(fmt_path(hd[f][1]))

    # The worst case: the main path's deepest point, with exceptions on top.
    nest = [f for f in handlers if f not in STACK_RESET]
    if a.nesting == "all":
        on_top = sorted(nest, key=lambda f: -hd[f][0])
        resets = [f for f in handlers if f in STACK_RESET]
        total = main_d + sum(hd[f][0] + EXC_FRAME for f in on_top) + EXC_FRAME * len(resets)
        how = "main + every handler nested (%s)%s" % (
            ", ".join(on_top), " + the frame of %s" % ", ".join(resets) if resets else "")
    else:
        # Reset priorities: IRQs, SysTick, SVC, PendSV, DebugMon share priority 0
        # and never preempt each other; NMI (-2) and HardFault (-1) can.
        nmi = vec.get(2)
        irq = [f for f in nest if f != nmi]
        worst_irq = max(irq, key=lambda f: hd[f][0]) if irq else None
        total = main_d + (hd[worst_irq][0] + EXC_FRAME if worst_irq else 0)
        total += (hd[nmi][0] + EXC_FRAME if nmi in hd and nmi not in STACK_RESET else 0)
        total += EXC_FRAME  # HardFault's frame (its handler moves SP)
        how = "main + %s + NMI (%s) + HardFault's frame" % (worst_irq, nmi)
    ok = total <= size
    alone = [(f, hd[f][0] + EXC_FRAME) for f in handlers if f in STACK_RESET]
    for f, d in alone:
        if d > size:
            ok = False
            print("stack_depth: %s alone needs %d bytes, more than the stack" % (f, d))
    print("  worst case: %d of %d bytes (%s): %s, %d bytes to spare"
          % (total, size, how, "fits" if total <= size else "DOES NOT FIT", size - total))
    if not ok or a.verbose:
        print("  the main path's deepest chain:")
        print(fmt_path(main_p))
        if nest:
            w = max(nest, key=lambda f: hd[f][0])
            print("  the deepest handler's chain (%s):" % w)
            print(fmt_path(hd[w][1]))
    if not ok:
        print("stack_depth: FAILED: the worst case does not fit _stack_size (%d bytes)" % size)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
