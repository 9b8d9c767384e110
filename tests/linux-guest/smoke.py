#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boots the Linux test guest in QEMU and checks every console command.

    tests/linux-guest/smoke.py OUTDIR [--accel tcg|kvm] [--migrate]
        [--qemu qemu-system-x86_64] [--append 'vmmig.rate=0 ...']

OUTDIR is what tests/linux-guest/build made. With --migrate it also starts a
second QEMU with -incoming, live-migrates the guest to it over a unix socket
(plain QEMU migration, no vmmig) and checks memcheck, the frozen-region
digest and the disk on the destination. Prints the boot time to GUEST-READY
and exits non-zero on any failure.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestcon import GuestCon, GuestError  # noqa: E402

IP = "10.78.0.10/24"


class Qmp:
    """Minimal QMP client: one command at a time, events skipped."""

    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())           # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))


def qemu(args, tmp, name, disk, extra):
    cmd = [args.qemu, "-accel", args.accel, "-m", "256", "-display", "none",
           "-no-reboot", "-kernel", os.path.join(args.outdir, "vmlinuz"),
           "-initrd", os.path.join(args.outdir, "initramfs.cpio.gz"),
           "-append", "console=ttyS0 vmmig.ip=%s quiet panic=-1 %s"
           % (IP, args.append),
           "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
           "-drive", "file=%s,if=virtio,format=raw" % disk,
           "-chardev", "socket,id=s0,path=%s/%s.con,server=on,wait=off,"
           "logfile=%s/%s.console" % (tmp, name, tmp, name),
           "-serial", "chardev:s0",
           "-qmp", "unix:%s/%s.qmp,server=on,wait=off" % (tmp, name)] + extra
    log = open(os.path.join(tmp, name + ".log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def check(con, seed, mib):
    st = con.command("status", r"STATUS gen=(\d+) errors=(\d+)")
    dig = con.command("digest", r"DIGEST ([0-9a-f]{16})").group(1)
    dsum = con.command("disk-sum %d" % mib, r"DISK-SUM ([0-9a-f]{64})", 120)
    print("  %s digest=%s disk=%s" % (st.group(0), dig, dsum.group(1)[:16]))
    return int(st.group(1)), int(st.group(2)), dig, dsum.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--migrate", action="store_true")
    ap.add_argument("--append", default="", help="more kernel parameters")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="lg-smoke.")
    disk = os.path.join(tmp, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    procs = []
    ok = False
    try:
        t0 = time.monotonic()
        procs.append(qemu(args, tmp, "src", disk, []))
        con = GuestCon(os.path.join(tmp, "src.con"))
        m = con.wait_for(r"GUEST-READY (\S+)", 600)
        print("GUEST-READY %s after %.1f s (%s)"
              % (m.group(1), time.monotonic() - t0, args.accel))
        assert m.group(1) == IP, m.group(1)
        con.command("ping", r"^PONG")
        a = con.command("ipaddr", r"IPADDR (\S+)").group(1)
        assert a == IP, a
        try:
            con.command("frobnicate", r"^OK")
            raise AssertionError("unknown command accepted")
        except GuestError as e:
            assert "ERR unknown" in str(e), e
        want = subprocess.run(
            "%s pattern 7 8 | sha256sum" % os.path.join(args.outdir, "memcheck"),
            shell=True, check=True, capture_output=True, text=True).stdout.split()[0]
        w = con.command("disk-write 8 7", r"DISK-DONE ([0-9a-f]{64})", 300).group(1)
        assert w == want, (w, want)
        g0, e0, d0, s0 = check(con, 7, 8)
        assert s0 == want and e0 == 0
        time.sleep(5)
        g1, e1, d1, s1 = check(con, 7, 8)
        assert g1 > g0 and e1 == 0 and d1 == d0, "memcheck not progressing"

        if args.migrate:
            procs.append(qemu(args, tmp, "dst", disk,
                              ["-incoming", "unix:%s/mig.sock" % tmp]))
            src, dst = Qmp(tmp + "/src.qmp"), Qmp(tmp + "/dst.qmp")
            t = time.monotonic()
            src.cmd("migrate", uri="unix:%s/mig.sock" % tmp)
            while True:
                st = src.cmd("query-migrate")
                if st.get("status") in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            assert st["status"] == "completed", st
            print("migrated in %.1f s, downtime %s ms, %s MiB sent"
                  % (time.monotonic() - t, st.get("downtime"),
                     st["ram"]["transferred"] >> 20))
            con.close()
            con = GuestCon(os.path.join(tmp, "dst.con"))
            g2, e2, d2, s2 = check(con, 7, 8)
            time.sleep(5)
            g3, e3, d3, s3 = check(con, 7, 8)
            assert e2 == 0 and e3 == 0 and not con.memcheck_errors(), \
                "memcheck errors after migration"
            assert g3 > g2 >= g1, "memcheck not progressing after migration"
            assert d3 == d0 and s3 == want, "digest or disk changed"
            dst.cmd("quit")
        ok = True
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if ok:
            shutil.rmtree(tmp)
        else:
            print("logs kept in " + tmp, file=sys.stderr)
    print("PASS")


if __name__ == "__main__":
    main()
