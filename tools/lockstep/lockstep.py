#!/usr/bin/env python3
"""Run one guest in two emulators side by side, one instruction at a time,
and stop at the first difference in the architectural registers.

Both sides are GDB remote stubs: the reference is Debian's qemu-system-i386
(started with -S -gdb and one instruction per translation block), the
subject is our CPU (the test board's `sysboard -g PORT`, or vmd-guest's
--gdb stub). Registers compared after every step: the eight GPRs, EIP,
EFLAGS (less the bits in --ignore-flags) and the six segment selectors.

Modes:
  lockstep.py kernel K.elf [--sysboard PATH]     starts both sides itself
  lockstep.py attach --ref HOST:PORT --dut HOST:PORT   both already waiting
See tools/lockstep/README.md.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REG_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
             "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"]
EIP, EFLAGS, CS = 8, 9, 10


class GdbError(Exception):
    pass


class Gdb:
    """A small GDB remote-protocol client (acks on, no run-length replies needed)."""

    def __init__(self, name, host, port, timeout=30.0):
        self.name = name
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    raise GdbError(f"{name}: nothing listens on {host}:{port}")
                time.sleep(0.1)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.exited = None          # exit code once the target has exited
        self.cmd("qSupported:xmlRegisters=i386")
        # qemu accepts register writes (P) only from a client that has read
        # its target description.
        self.cmd("qXfer:features:read:target.xml:0,ffb")

    def _byte(self):
        if not self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise GdbError(f"{self.name}: connection closed")
            self.buf = data
        b, self.buf = self.buf[0], self.buf[1:]
        return b

    def _send(self, payload):
        data = payload.encode()
        pkt = b"$" + data + b"#%02x" % (sum(data) & 0xff)
        for _ in range(5):
            self.sock.sendall(pkt)
            ack = self._byte()
            while ack not in (ord("+"), ord("-")):
                ack = self._byte()
            if ack == ord("+"):
                return
        raise GdbError(f"{self.name}: packet {payload[:20]!r} refused")

    def _recv(self):
        while self._byte() != ord("$"):
            pass
        data = bytearray()
        while True:
            b = self._byte()
            if b == ord("#"):
                break
            data.append(b)
        self._byte()
        self._byte()
        self.sock.sendall(b"+")
        # Run-length encoding: X*n repeats X (n - 29) more times.
        out = bytearray()
        i = 0
        while i < len(data):
            if data[i] == ord("*") and out and i + 1 < len(data):
                out += bytes([out[-1]]) * (data[i + 1] - 29)
                i += 2
            else:
                out.append(data[i])
                i += 1
        return out.decode("latin-1")

    def cmd(self, payload):
        self._send(payload)
        return self._recv()

    def regs(self):
        r = self.cmd("g")
        if len(r) < 8 * 16 or r.startswith("E"):
            raise GdbError(f"{self.name}: bad register reply {r[:40]!r}")
        return [int.from_bytes(bytes.fromhex(r[8 * i:8 * i + 8]), "little") for i in range(16)]

    def set_reg(self, i, value):
        r = self.cmd("P%x=%s" % (i, (value & 0xffffffff).to_bytes(4, "little").hex()))
        if r != "OK":
            raise GdbError(f"{self.name}: cannot set {REG_NAMES[i]}: {r!r}")

    def write(self, addr, data):
        r = self.cmd("M%x,%x:%s" % (addr, len(data), data.hex()))
        if r != "OK":
            raise GdbError(f"{self.name}: cannot write {len(data)} bytes at {addr:#x}: {r!r}")

    def read(self, addr, n):
        r = self.cmd("m%x,%x" % (addr, n))
        if not r or r.startswith("E"):
            return None
        return bytes.fromhex(r)

    def _stop(self, reply):
        if reply.startswith("W"):
            self.exited = int(reply[1:3], 16)
        elif not (reply.startswith("S") or reply.startswith("T")):
            raise GdbError(f"{self.name}: unexpected stop reply {reply!r}")

    def step(self):
        try:
            self._stop(self.cmd("s"))
        except GdbError as e:
            # qemu's isa-debug-exit ends the process without a W reply.
            if "connection closed" not in str(e):
                raise
            self.exited = -1

    def run_to(self, addr):
        if self.cmd("Z0,%x,1" % addr) != "OK":
            raise GdbError(f"{self.name}: cannot set a breakpoint at {addr:#x}")
        self._stop(self.cmd("c"))
        self.cmd("z0,%x,1" % addr)

    def kill(self):
        try:
            self._send("k")
        except (OSError, GdbError):
            pass
        self.sock.close()


def linear_pc(regs, real_mode_possible):
    """The linear address of CS:EIP. The 16 core registers do not include
    CR0, so real mode is guessed: only where the run may be in real mode at
    all, and only for a CS that is no GDT selector of ours (>= 0x1000)."""
    if real_mode_possible and regs[CS] >= 0x1000:
        return (regs[CS] << 4) + regs[EIP]
    return regs[EIP]


def show(title, regs):
    lines = [title]
    for row in range(0, 16, 4):
        lines.append("  " + "  ".join(f"{REG_NAMES[i]:>6}={regs[i]:08x}" for i in range(row, row + 4)))
    return "\n".join(lines)


def strip_prefixes(code):
    code = code or b""
    i = 0
    while i < len(code) and code[i] in (0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3):
        i += 1
    return code[i:]


def is_rep(code):
    """True if the instruction bytes start (after prefixes) with REP/REPNE on a string op."""
    rep = False
    for b in code or b"":
        if b in (0xf2, 0xf3):
            rep = True
        elif b in (0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0):
            continue
        else:
            return rep and b in (0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf)
    return False


def lockstep(ref, dut, args):
    mask = ~args.ignore_flags & 0xffffffff
    if args.start is not None:
        # The k-th time through: continuing runs at full speed, stepping
        # does not, so get close with breakpoints (bisect with --start-hits).
        for _ in range(args.start_hits):
            ref.run_to(args.start)
            dut.run_to(args.start)
    if args.sync_memory:
        # The two ways in (multiboot vs real mode) leave different data in
        # the image (the multiboot magic, say): start from the same bytes.
        lo, hi = args.sync_memory
        for a in range(lo, hi, 1024):
            data = ref.read(a, min(1024, hi - a))
            if data is None:
                raise GdbError(f"reference: cannot read {a:#x}")
            if dut.read(a, len(data)) != data:
                dut.write(a, data)
    r, d = ref.regs(), dut.regs()
    if args.sync:
        for i in list(range(8)) + [EFLAGS]:
            if d[i] != r[i] and i not in args.ignore_regs:
                dut.set_reg(i, r[i])
        if args.real_mode:
            for i in range(11, 16):
                if d[i] != r[i]:
                    dut.set_reg(i, r[i])
        d = dut.regs()
    steps = 0
    prev = None
    while steps < args.max_steps:
        diff = [i for i in range(16) if i not in args.ignore_regs and
                ((r[i] ^ d[i]) & (mask if i == EFLAGS else 0xffffffff))]
        if diff:
            return report(ref, dut, r, d, diff, steps, prev, args)
        prev = (list(r), list(d))
        pc = linear_pc(r, args.real_mode)
        code = ref.read(pc, 16)
        ref.step()
        dut.step()
        steps += 1
        if ref.exited is not None or dut.exited is not None:
            if ref.exited is not None and dut.exited is not None:
                code = {-1: "exit port"}
                print(f"lockstep: both exited (reference {code.get(ref.exited, ref.exited)}, "
                      f"subject {code.get(dut.exited, dut.exited)}) after {steps} steps, no difference")
                return 0
            print(f"lockstep: after {steps} steps only the "
                  f"{'reference' if ref.exited is not None else 'subject'} exited")
            return 1
        r, d = ref.regs(), dut.regs()
        # CPUID and RDTSC answer what each machine is, not how it computes:
        # the subject takes the reference's answer.
        op = strip_prefixes(code)
        if op[:2] in (b"\x0f\xa2", b"\x0f\x31") and dut.exited is None:
            for i in ((0, 1, 2, 3) if op[:2] == b"\x0f\xa2" else (0, 2)):
                if d[i] != r[i]:
                    dut.set_reg(i, r[i])
            d = dut.regs()
        # A stub may report a step that executed nothing (qemu does when an
        # event interrupts it): step a side again when only it stood still.
        for _ in range(3):
            if r == prev[0] and d != prev[1] and ref.exited is None:
                ref.step()
                r = ref.regs()
            elif d == prev[1] and r != prev[0] and dut.exited is None:
                dut.step()
                d = dut.regs()
            else:
                break
        # A REP string instruction may take one step per iteration on one
        # side and the whole loop on the other: finish it on both.
        if is_rep(code):
            for side, regs_now in ((ref, "r"), (dut, "d")):
                n = 0
                cur = r if regs_now == "r" else d
                while cur[EIP] == prev[0][EIP] and n < 1 << 22 and side.exited is None:
                    side.step()
                    cur = side.regs()
                    n += 1
                if regs_now == "r":
                    r = cur
                else:
                    d = cur
        if args.trace:
            print(f"{steps:8d} {r[CS]:04x}:{r[EIP]:08x}", flush=True)
        elif steps % 10000 == 0:
            print(f"lockstep: {steps} steps, at {r[CS]:04x}:{r[EIP]:08x}", file=sys.stderr, flush=True)
    print(f"lockstep: {steps} steps, no difference (stopped at --max-steps)")
    return 0


def report(ref, dut, r, d, diff, steps, prev, args):
    print(f"lockstep: first difference after {steps} steps: " + ", ".join(REG_NAMES[i] for i in diff))
    if steps and prev:
        pc = linear_pc(prev[0], args.real_mode)
        code = ref.read(pc, 16)
        print(f"the instruction at {prev[0][CS]:04x}:{prev[0][EIP]:08x} (linear {pc:#x}): "
              + (code.hex(" ") if code else "(unreadable)"))
        dcode = dut.read(linear_pc(prev[1], args.real_mode), 16)
        if dcode != code:
            print("the subject sees there: " + (dcode.hex(" ") if dcode else "(unreadable)"))
        print(show("before, reference:", prev[0]))
        if prev[1] != prev[0]:
            print(show("before, subject:", prev[1]))
    print(show("after, reference (qemu):", r))
    print(show("after, subject (ours):", d))
    return 1


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def symbol(elf, name):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise SystemExit(f"lockstep: no symbol {name} in {elf}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    k = sub.add_parser("kernel", help="a system-test kernel: qemu (multiboot) vs the test board")
    k.add_argument("elf", help="the kernel's multiboot ELF; its flat .bin must sit beside it")
    k.add_argument("--sysboard", default=None, help="the test board (default: $VMD_BUILD/sysboard, else build/sysboard)")
    k.add_argument("--subject", choices=["sysboard", "vmd-guest", "qemu"], default="sysboard",
                   help="vmd-guest: the whole PC (build/vmd-guest --gdb); "
                        "qemu: the reference against itself (checks the tool)")
    k.add_argument("--perturb", default=None, metavar="REG=VALUE",
                   help="change one subject register at the start (checks the tool finds it)")
    a = sub.add_parser("attach", help="two stubs already waiting")
    a.add_argument("--ref", required=True, help="HOST:PORT of the reference (qemu -gdb)")
    a.add_argument("--dut", required=True, help="HOST:PORT of the subject (our stub)")
    a.add_argument("--start", type=lambda x: int(x, 0), default=None,
                   help="run both to this linear address first")
    a.add_argument("--start-hits", type=int, default=1, metavar="K",
                   help="stop at the K-th time each side reaches --start (default 1)")
    a.add_argument("--sync", action="store_true", help="copy the reference's GPRs and EFLAGS to the subject first")
    a.add_argument("--real-mode", action="store_true", help="the start point is in real mode")
    for p in (k, a):
        p.add_argument("--max-steps", type=int, default=1000000)
        p.add_argument("--ignore-flags", type=lambda x: int(x, 0), default=0x10000,
                       help="EFLAGS bits not compared (default RF, 0x10000)")
        p.add_argument("--trace", action="store_true", help="print every step's CS:EIP")
        p.add_argument("--ignore-regs", default="", help="comma-separated registers not compared (e.g. esi)")
    args = ap.parse_args()
    args.sync_memory = None
    args.start_hits = getattr(args, "start_hits", 1)
    try:
        args.ignore_regs = {REG_NAMES.index(n) for n in args.ignore_regs.split(",") if n}
    except ValueError:
        raise SystemExit(f"lockstep: --ignore-regs: registers are {', '.join(REG_NAMES)}")

    procs = []
    tmp = tempfile.mkdtemp(prefix="lockstep.")
    try:
        if args.mode == "attach":
            ref = Gdb("reference", *parse_hostport(args.ref))
            dut = Gdb("subject", *parse_hostport(args.dut))
        else:
            top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            qemu = shutil.which("qemu-system-i386")
            if not qemu:
                raise SystemExit("lockstep: qemu-system-i386 is not installed")

            ver = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout.split()
            major = int(ver[3].split(".")[0]) if len(ver) > 3 and ver[3][0].isdigit() else 0
            # One instruction per translation block: the option's name changed in qemu 8.1.
            one_insn = ["-accel", "tcg,one-insn-per-tb=on"] if major >= 9 else ["-singlestep"]

            def start_qemu():
                port = free_port()
                cmd = [qemu, "-M", "pc", "-cpu", "pentium2", "-m", "64", "-display", "none",
                       "-monitor", "none", "-serial", "none", "-no-reboot", "-S", "-gdb", f"tcp:127.0.0.1:{port}",
                       *one_insn, "-kernel", args.elf,
                       "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                       "-debugcon", f"file:{tmp}/qemu-{port}.out"]
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=open(f"{tmp}/qemu-{port}.err", "w")))
                return port

            ref = Gdb("reference", "127.0.0.1", start_qemu())
            if args.subject == "qemu":
                dut = Gdb("subject", "127.0.0.1", start_qemu())
            elif args.subject == "vmd-guest":
                guest = os.path.join(os.environ.get("VMD_BUILD") or os.path.join(top, "build"), "vmd-guest")
                if not os.access(guest, os.X_OK):
                    raise SystemExit(f"lockstep: no {guest}")
                port = free_port()
                procs.append(subprocess.Popen([guest, "-m", "64M", "-k", args.elf, "--debug-exit", "--no-reboot",
                                               "--debugcon", f"{tmp}/guest.out", "--gdb", str(port), "--gdb-wait"],
                                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=open(f"{tmp}/guest.err", "w")))
                dut = Gdb("subject", "127.0.0.1", port)
            else:
                board = args.sysboard or os.path.join(os.environ.get("VMD_BUILD") or os.path.join(top, "build"), "sysboard")
                if not os.access(board, os.X_OK):
                    raise SystemExit(f"lockstep: no test board at {board}")
                binary = os.path.splitext(args.elf)[0] + ".bin"
                port = free_port()
                procs.append(subprocess.Popen([board, "-q", "-t", "600", "-g", str(port), binary],
                                              stdin=subprocess.DEVNULL, stdout=open(f"{tmp}/board.out", "w"),
                                              stderr=open(f"{tmp}/board.err", "w")))
                dut = Gdb("subject", "127.0.0.1", port)
            # qemu enters through multiboot and drops to real mode; the board
            # starts in real mode at 0x4000:0000. Both meet at rm_entry.
            args.start = symbol(args.elf, "rm_entry")
            args.sync_memory = (symbol(args.elf, "image_start"), symbol(args.elf, "image_end"))
            args.sync = True
            args.real_mode = True
            if args.perturb:
                name, _, value = args.perturb.partition("=")
                ref.run_to(args.start)
                dut.run_to(args.start)
                r = ref.regs()
                for i in list(range(8)) + [EFLAGS]:
                    dut.set_reg(i, r[i])
                dut.set_reg(REG_NAMES.index(name), int(value, 0))
                args.start = None
                args.sync = False
        rc = lockstep(ref, dut, args)
        ref.kill()
        dut.kill()
        return rc
    except GdbError as e:
        print(f"lockstep: {e}")
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".err"):
                with open(os.path.join(tmp, name)) as f:
                    text = f.read().strip()
                if text:
                    print(f"{name}: {text}")
        return 2
    finally:
        for p in procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
