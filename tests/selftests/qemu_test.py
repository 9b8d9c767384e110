#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""QEMU moves a running Linux guest through vmmig, its network kept (#16).

Runs in the test VM like the other kselftests (TAP on stdout), with vmmig.ko
loaded and KVM available. The QEMU is Debian's 7.2 with userspace/qemu's
series (build/qemu-system-x86_64), the guest Debian's stock kernel with the
busybox initramfs of tests/linux-guest (build/linux-guest), running memcheck:
a frozen region whose digest must not change and a working set rewritten
and verified generation after generation.

The network: three namespaces. vmmig-lan is the guests' LAN, a bridge with
the pinger at 10.78.0.1; hosts vmmig-a and vmmig-b each have a bridge br0
with the guest's tap0 and an uplink into the LAN, and the migration link
10.77.0.1 <-> 10.77.0.2 between them. The guest (10.78.0.10) moves A -> B
-> A ... and the pinger pings it every 200 ms throughout each move.

Each move checks: QEMU says completed, the destination runs, the guest's
memcheck saw no bad page, the frozen digest is unchanged, at most
MAX_LOST pings lost (MAX_LOST_DISK with the disk); it prints the lost
pings, the longest gap between replies, and QEMU's downtime and total
time. The failure tests check that
the source guest is still running and answering afterwards.
"""

import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "linux-guest"))
from guestcon import GuestCon  # noqa: E402

QEMU = os.environ.get("VMMIG_QEMU", os.path.join(TOP, "build", "qemu-system-x86_64"))
GUEST = os.path.join(TOP, "build", "linux-guest")
CTL = os.path.join(TOP, "userspace", "vmmigctl", "vmmigctl")
WORK = "/tmp/qemu-test"
NS_LAN = "vmmig-lan"
NS = {"a": "vmmig-a", "b": "vmmig-b"}
MIG_ADDR = {"a": "10.77.0.1", "b": "10.77.0.2"}
MIG_DEV = {"a": "va", "b": "vb"}
LAN_IP, GUEST_IP, MAC = "10.78.0.1", "10.78.0.10", "52:54:00:77:00:10"
QEMU_PORT = 4444
RAM_MB, MEM_MB, WS_MB = 256, 64, 16
MAX_LOST = 2
# A move with its disk has more in its outage than the RAM's last round:
# the mirror ends at the pause before the switchover and the destination
# runs only once told to (migrate-continue, nbd-server-stop, cont: as
# libvirt does it): 350 to 760 ms from the source's stop to the
# destination's resume on the debug test kernel (closing the destination's
# session took 60 ms of it), against a 200 ms pinger: three pings.
MAX_LOST_DISK = 3
# and so its RAM gets a smaller part of the outage: a shorter last round
DISK_DOWNTIME_MS = 100
MOVE_TIMEOUT = 300


def log(msg):
    print("# " + msg.replace("\n", "\n# "), flush=True)


def sh(*cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stdout.strip()))
    return r.stdout


def ns_sh(ns, *cmd, check=True):
    return sh("ip", "netns", "exec", ns, *cmd, check=check)


def ctl(host, *args, check=True):
    return ns_sh(NS[host], CTL, *args, check=check)


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


# --- the hosts and the LAN --------------------------------------------------

def hosts_teardown():
    for ns in list(NS.values()) + [NS_LAN]:
        sh("ip", "netns", "del", ns, check=False)


def hosts_setup():
    hosts_teardown()
    sh("ip", "netns", "add", NS_LAN)
    ns_sh(NS_LAN, "ip", "link", "set", "lo", "up")
    ns_sh(NS_LAN, "ip", "link", "add", "brlan", "type", "bridge")
    ns_sh(NS_LAN, "ip", "addr", "add", LAN_IP + "/24", "dev", "brlan")
    ns_sh(NS_LAN, "ip", "link", "set", "brlan", "up")
    for h, ns in NS.items():
        sh("ip", "netns", "add", ns)
        ns_sh(ns, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "uplink", "netns", ns, "type", "veth",
           "peer", "name", "lan-" + h, "netns", NS_LAN)
        ns_sh(NS_LAN, "ip", "link", "set", "lan-" + h, "master", "brlan", "up")
        ns_sh(ns, "ip", "link", "add", "br0", "type", "bridge")
        ns_sh(ns, "ip", "link", "set", "uplink", "master", "br0", "up")
        ns_sh(ns, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        ns_sh(ns, "ip", "link", "set", "tap0", "master", "br0", "up")
        ns_sh(ns, "ip", "link", "set", "br0", "up")
    sh("ip", "link", "add", "va", "netns", NS["a"], "type", "veth",
       "peer", "name", "vb", "netns", NS["b"])
    for h, dev in MIG_DEV.items():
        ns_sh(NS[h], "ip", "addr", "add", MIG_ADDR[h] + "/24", "dev", dev)
        ns_sh(NS[h], "ip", "link", "set", dev, "up")
        ctl(h, "enable")


def other(host):
    return "b" if host == "a" else "a"


# --- QMP and the VMs ----------------------------------------------------------

class Qmp:
    """A QMP client on a unix socket that keeps the events it reads."""

    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(120)
        self.buf = b""
        self.events = []
        self._line()
        self.cmd("qmp_capabilities")

    def _line(self, deadline=None):
        """The next line QEMU sent; None if none came by @deadline. Lines are
        cut here, not by a file object, so that waiting with a deadline
        never loses half a line."""
        while b"\n" not in self.buf:
            if deadline is not None:
                left = deadline - time.time()
                if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                    return None
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def _read(self, deadline=None):
        line = self._line(deadline)
        if line is None:
            return None
        msg = json.loads(line)
        if "event" in msg:
            self.events.append(msg)
        return msg

    def wait_event(self, pred, since=0, timeout=60):
        """The first of the events from the @since'th on for which @pred is
        true, read as QEMU sends it; None after @timeout seconds."""
        deadline = time.time() + timeout
        while True:
            for e in self.events[since:]:
                if pred(e):
                    return e
            since = len(self.events)
            if self._read(deadline) is None:
                return None

    def call(self, qmp_cmd, **args):
        """The reply: {"return": ...} or {"error": ...}."""
        req = {"execute": qmp_cmd}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self._read()
            if "return" in msg or "error" in msg:
                return msg

    def cmd(self, qmp_cmd, **args):
        msg = self.call(qmp_cmd, **args)
        if "error" in msg:
            raise Fail("QMP %s: %s" % (qmp_cmd, msg["error"].get("desc")))
        return msg["return"]

    def close(self):
        self.sock.close()


# QEMU trace events (patterns) every Vm logs to its output: the benchmark's
# --trace, to see where a move's time goes.
QEMU_TRACE = []


class Vm:
    """One QEMU on a host, with the guest's tap and (optionally) disk."""

    seq = 0
    started = []    # by the test running, for its report

    def __init__(self, host, incoming=False, disk=None, paused=False, rate=None):
        Vm.seq += 1
        self.host = host
        self.name = "%s%d" % (host, Vm.seq)
        self.serial = "%s/%s.serial" % (WORK, self.name)
        qmp = "%s/%s.qmp" % (WORK, self.name)
        self.out = "%s/%s.out" % (WORK, self.name)
        append = ("console=ttyS0 quiet panic=-1 vmmig.ip=%s/24 vmmig.mem=%d vmmig.ws=%d" %
                  (GUEST_IP, MEM_MB, WS_MB))
        if rate is not None:
            append += " vmmig.rate=%d" % rate
        # host None: the initial namespace, without a NIC (the RDMA rig)
        cmd = ["ip", "netns", "exec", NS[host]] if host else []
        cmd += [QEMU, "-accel", "kvm", "-cpu", "host",
               "-M", "pc", "-nodefaults", "-display", "none", "-smp", "1",
               "-m", str(RAM_MB), "-L", "/usr/share/seabios", "-L", "/usr/share/qemu",
               "-kernel", GUEST + "/vmlinuz", "-initrd", GUEST + "/initramfs.cpio.gz",
               "-append", append,
               "-chardev", "socket,id=s0,path=%s,server=on,wait=off" % self.serial,
               "-serial", "chardev:s0",
               "-qmp", "unix:%s,server=on,wait=off" % qmp]
        for pattern in QEMU_TRACE:
            cmd += ["-trace", pattern]
        if QEMU_TRACE:
            cmd += ["-msg", "timestamp=on"]
        if host:
            cmd += ["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                    "-device", "virtio-net-pci,netdev=n0,mac=%s,romfile=" % MAC]
        if disk:
            # drop-cache=off: the test kernel (tinyconfig) has no fadvise(2),
            # which file-posix calls when the destination activates the image
            cmd += ["-blockdev", "driver=file,filename=%s,node-name=file0,drop-cache=off" % disk,
                    "-blockdev", "driver=raw,file=file0,node-name=disk0",
                    "-device", "virtio-blk-pci,drive=disk0,id=vd0"]
        if incoming:
            cmd += ["-incoming", "defer"]
        if paused:
            cmd += ["-S"]
        self.con = None
        self.proc = subprocess.Popen(cmd, stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        Vm.started.append(self)
        try:
            self.qmp = Qmp(qmp)
        except OSError:
            self.kill()
            raise Fail("QEMU did not start: %s" % self.output())

    def output(self):
        with open(self.out, errors="replace") as f:
            return f.read()[-1500:]

    def console(self):
        if not self.con:
            self.con = GuestCon(self.serial)
        return self.con

    def alive(self):
        return self.proc.poll() is None

    def status(self):
        return self.qmp.cmd("query-status")["status"]

    def kill(self):
        if self.con:
            self.con.close()
        if self.alive():
            self.proc.kill()
        self.proc.wait()

    def quit(self):
        try:
            self.qmp.cmd("quit")
        except (Fail, OSError, EOFError):
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


# --- the guest's checks ----------------------------------------------------

def guest_status(vm):
    m = vm.console().command("status", r"STATUS gen=(\d+) errors=(\d+)", 60)
    return int(m.group(1)), int(m.group(2))


def guest_digest(vm):
    return vm.console().command("digest", r"DIGEST (\S+)", 120).group(1)


def guest_healthy(vm, digest, what):
    """The guest runs on @vm, memcheck is clean and its generation moves."""
    st = vm.status()
    expect(st == "running", "%s: QEMU status %s" % (what, st))
    gen0, err = guest_status(vm)
    gen1, deadline = gen0, time.time() + 20
    while gen1 == gen0 and err == 0 and time.time() < deadline:
        time.sleep(0.5)
        gen1, err = guest_status(vm)
    expect(err == 0, "%s: memcheck found %d bad pages" % (what, err))
    expect(gen1 > gen0, "%s: memcheck stopped (generation %d -> %d)" % (what, gen0, gen1))
    if digest:
        d = guest_digest(vm)
        expect(d == digest, "%s: frozen region digest %s, was %s" % (what, d, digest))
    ping_once(what)


def ping_once(what):
    out = ns_sh(NS_LAN, "ping", "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP, check=False)
    m = re.search(r"(\d+) received", out)
    expect(m and int(m.group(1)) > 0, "%s: the guest does not answer pings" % what)


class Pinger:
    """ping -i 0.2 from the LAN for the length of a move."""

    def __init__(self):
        self.path = "%s/ping-%d.txt" % (WORK, Vm.seq)
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS_LAN, "ping", "-D", "-i", "0.2",
                                      "-W", "1", GUEST_IP],
                                     stdout=open(self.path, "w"), stderr=subprocess.STDOUT)

    def stop(self):
        """(sent, lost, longest gap between replies in ms). The last request
        can still be on its way when ping stops, which ping's own summary
        counts as lost: it is left out, the others are counted by their
        icmp_seq."""
        time.sleep(1.5)         # the last replies in flight
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)
        with open(self.path) as f:
            text = f.read()
        m = re.search(r"(\d+) packets transmitted", text)
        sent = int(m.group(1)) - 1 if m else 0
        replies = re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)", text, re.M)
        got = {int(seq) for _, seq in replies}
        ts = [float(t) for t, _ in replies]
        gap = max((b - a for a, b in zip(ts, ts[1:])), default=0.0)
        return sent, len(set(range(1, sent + 1)) - got), gap * 1000


# --- one move ------------------------------------------------------------------

def set_caps(q, vmmig, extra=()):
    caps = [{"capability": "vmmig", "state": vmmig},
            {"capability": "events", "state": True}]
    caps += [{"capability": c, "state": True} for c in extra]
    q.cmd("migrate-set-capabilities", capabilities=caps)


END_STATES = ("completed", "failed", "cancelled")


def migration_in(states):
    """A wait_event predicate: the MIGRATION event of one of @states."""
    return lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in states


def wait_migration(q, timeout=MOVE_TIMEOUT, since=0):
    """query-migrate once the move has ended. The MIGRATION event (set_caps
    turns "events" on) says so as it happens, from the @since'th event on;
    query-migrate each second is the fallback."""
    deadline = time.time() + timeout
    while True:
        q.wait_event(migration_in(END_STATES), since, 1)
        info = q.cmd("query-migrate")
        if info.get("status") in END_STATES:
            break
        if time.time() > deadline:
            q.call("migrate_cancel")
            raise Fail("migration did not end in %d s: %s" % (timeout, json.dumps(info)))
    # "completed" comes a moment before total-time and downtime are filled
    # in; a short tick, as the disk's move resumes the guest only after this
    for _ in range(500):
        if info["status"] != "completed" or info.get("total-time"):
            break
        time.sleep(0.01)
        info = q.cmd("query-migrate")
    return info


class Move:
    """A move of the guest on @src to the other host; self.dst runs it after."""

    def __init__(self, src, vmmig=True, params=None, dst_vmmig=None, dst_params=None,
                 disk=None, downtime=300, caps=()):
        self.src = src
        self.host = other(src.host)
        self.dst = Vm(self.host, incoming=True, disk=disk and disk[self.host], paused=bool(disk))
        self.uri = "tcp:%s:%d" % (MIG_ADDR[self.host], QEMU_PORT)
        try:
            self.setup(vmmig, params, dst_vmmig, dst_params, downtime, caps)
        except Exception:
            self.dst.kill()
            raise

    def setup(self, vmmig, params, dst_vmmig, dst_params, downtime, caps):
        src = self.src
        set_caps(self.dst.qmp, vmmig if dst_vmmig is None else dst_vmmig)
        set_caps(src.qmp, vmmig, caps)
        p = dict(params or {})
        if p:
            src.qmp.cmd("migrate-set-parameters", **p)
        if dst_params or p:
            self.dst.qmp.cmd("migrate-set-parameters", **(dst_params or p))
        src.qmp.cmd("migrate-set-parameters", **{
            "downtime-limit": downtime, "max-bandwidth": p.get("max-bandwidth", 1 << 40)})
        self.dst.qmp.cmd("migrate-incoming", uri=self.uri)

    def start(self):
        self.pinger = Pinger()
        time.sleep(1)
        self.t0 = time.time()
        self.ev0 = len(self.src.qmp.events)
        self.src.qmp.cmd("migrate", uri=self.uri)

    def finish(self, mirror=None):
        self.info = wait_migration(self.src.qmp, since=self.ev0)
        self.secs = time.time() - self.t0
        try:
            if mirror:
                mirror.after(self)
        finally:
            self.sent, self.lost, self.gap = self.pinger.stop()
        return self.info


def report(what, mv):
    ram = mv.info.get("ram", {})
    log("%s: %s in %.1f s: QEMU total-time %s ms, downtime %s ms, %s pings lost of %d, "
        "longest gap %.0f ms; ram transferred %s, normal %s, duplicate %s, dirty-sync %s" %
        (what, mv.info["status"], mv.secs, mv.info.get("total-time"),
         mv.info.get("downtime"), mv.lost, mv.sent, mv.gap, ram.get("transferred"),
         ram.get("normal"), ram.get("duplicate"), ram.get("dirty-sync-count")))


class Guest:
    """The one guest of the run and where it is."""

    def __init__(self):
        self.vm = None
        self.digest = None

    def boot(self, host="a", disk=None):
        self.vm = Vm(host, disk=disk and disk[host])
        self.vm.console().wait_for(r"GUEST-READY", 600)
        self.digest = guest_digest(self.vm)
        log("guest up on host %s, frozen digest %s" % (host, self.digest))

    def recover(self, after):
        """After a failed test: a healthy guest for the next, booted anew if
        this one is gone or stuck, so one failure does not fail the rest."""
        if self.vm is None:
            return False
        try:
            if self.vm.alive():
                guest_healthy(self.vm, self.digest, "after " + after)
                return True
        except Exception as e:  # noqa: BLE001 - any sign of a sick guest
            log("guest not healthy after %s (%s): booting a new one" % (after, e))
        self.vm.kill()
        try:
            self.boot("a")
        except Exception as e:  # noqa: BLE001
            log("no new guest: %s" % e)
            return False
        return True

    def move(self, what, vmmig=True, params=None, disk=None, mirror=None, action=None,
             caps=()):
        mv = Move(self.vm, vmmig=vmmig, params=params, disk=disk,
                  downtime=DISK_DOWNTIME_MS if mirror else 300, caps=caps)
        try:
            if mirror:
                mirror.before(mv)
            mv.start()
            if mirror:
                mirror.during(mv)
            if action:
                action(mv)
            info = mv.finish(mirror)
            report(what, mv)
            if mirror:
                mv.mirror_sum = mirror.sum
            expect(info["status"] == "completed", "%s: migration %s: %s" %
                   (what, info["status"], info.get("error-desc")))
            guest_healthy(mv.dst, self.digest, what)
            most = MAX_LOST_DISK if mirror else MAX_LOST
            expect(mv.lost <= most, "%s: %d pings lost (at most %d)" % (what, mv.lost, most))
        except Exception:
            # The destination may die meanwhile: that must not hide why
            try:
                dst_runs = mv.dst.alive() and mv.dst.status() == "running"
            except (OSError, EOFError, Fail):
                dst_runs = False
            if dst_runs:
                self.vm.kill()
                self.vm = mv.dst
            else:
                mv.dst.kill()
            raise
        self.vm.quit()
        self.vm = mv.dst
        return mv

    def failed_move(self, what, expect_re, vmmig=True, params=None, dst_vmmig=None,
                    dst_params=None, action=None, status="failed", downtime=300):
        """A move that must fail (or be cancelled): the source keeps the guest."""
        mv = Move(self.vm, vmmig=vmmig, params=params, dst_vmmig=dst_vmmig,
                  dst_params=dst_params, downtime=downtime)
        try:
            mv.start()
            if action:
                action(mv)
            info = mv.finish()
            log("%s: %s: %s" % (what, info["status"], info.get("error-desc")))
            if info["status"] == "completed" and mv.dst.status() == "running":
                # it moved after all: the next test starts from there
                self.vm.kill()
                self.vm, mv.dst = mv.dst, self.vm
            expect(info["status"] == status, "%s: migration %s, want %s (%s)" %
                   (what, info["status"], status, info.get("error-desc")))
            if expect_re:
                expect(re.search(expect_re, info.get("error-desc") or ""),
                       "%s: error-desc %r does not match %r" %
                       (what, info.get("error-desc"), expect_re))
            guest_healthy(self.vm, self.digest, what + ", source after")
        finally:
            mv.dst.kill()
        return mv


# --- the tests ------------------------------------------------------------------

GUEST_VM = Guest()


def t_boot():
    GUEST_VM.boot("a")
    guest_healthy(GUEST_VM.vm, GUEST_VM.digest, "boot")


def t_qemu_tcp():
    GUEST_VM.move("QEMU's own TCP migration", vmmig=False)


NONE = {"vmmig-compression": "none", "vmmig-compression-level": 0}
LZ4 = {"vmmig-compression": "lz4", "vmmig-compression-level": 0}


def codec_move(codec, level=0):
    params = {"vmmig-compression": codec, "vmmig-channels": 2,
              "vmmig-compression-level": level}
    GUEST_VM.move("vmmig %s" % codec, params=params)


def t_vmmig_none():
    codec_move("none")


def t_vmmig_lz4():
    codec_move("lz4")


def t_vmmig_zstd():
    codec_move("zstd", 3)


def t_vmmig_host_defaults():
    for h in NS:
        ctl(h, "set", "performance", "compression", "compression", "lz4", "channels", "2")
    GUEST_VM.move("vmmig host-defaults (lz4, 2 channels)",
                  params={"vmmig-compression": "host-defaults", "vmmig-channels": 0,
                          "vmmig-compression-level": 0})


def t_vmmig_psk_ktls():
    key = "%s/psk" % WORK
    with open(key, "w") as f:
        f.write(ctl("a", "genpsk"))
    try:
        for h in NS:
            ctl(h, "set", "auth", "psk", "key-file", key, "encryption", "on")
        # The debug test kernel's kTLS runs the generic C AES-GCM under TCG:
        # 7.5 MB/s here, below what memcheck dirties (2000 pages/s), so the
        # move converges only with QEMU throttling the vCPU, as on any slow link
        GUEST_VM.move("vmmig lz4 with PSK and kTLS", params=LZ4, caps=("auto-converge",))
    finally:
        for h in NS:
            ctl(h, "set", "encryption", "off", "auth", "none", check=False)


def t_conflicting_capability():
    q = GUEST_VM.vm.qmp
    for cap in ("multifd", "postcopy-ram", "xbzrle", "compress"):
        r = q.call("migrate-set-capabilities",
                   capabilities=[{"capability": "vmmig", "state": True},
                                 {"capability": cap, "state": True}])
        expect("error" in r, "vmmig with %s was accepted" % cap)
        desc = r["error"]["desc"]
        expect(re.search(r"vmmig.*%s" % cap, desc), "%s: error %r" % (cap, desc))
        log("vmmig + %s: %s" % (cap, desc))
    set_caps(q, True)
    r = q.call("migrate", uri="exec:cat > /dev/null")
    expect("error" in r and "tcp:" in r["error"]["desc"],
           "vmmig with an exec: URI: %s" % json.dumps(r))
    log("vmmig + exec: URI: %s" % r["error"]["desc"])
    r = q.call("migrate-set-parameters", **{"vmmig-compression": "none",
                                             "vmmig-compression-level": 3})
    expect("error" in r, "level 3 with compression none accepted")
    r = q.call("migrate-set-parameters", **{"vmmig-compression": "zstd",
                                             "vmmig-compression-level": 23})
    expect("error" in r, "zstd level 23 accepted")
    r = q.call("migrate-set-parameters", **{"vmmig-channels": 17})
    expect("error" in r, "17 channels accepted")
    set_caps(q, False)
    guest_healthy(GUEST_VM.vm, GUEST_VM.digest, "after refused settings")


def t_dest_without_vmmig():
    GUEST_VM.failed_move("destination without the capability", r"capability vmmig",
                         dst_vmmig=False)


def t_wrong_psk():
    keys = []
    for h in NS:
        key = "%s/psk-%s" % (WORK, h)
        with open(key, "w") as f:
            f.write(ctl(h, "genpsk"))
        keys.append(key)
        ctl(h, "set", "auth", "psk", "key-file", key)
    try:
        GUEST_VM.failed_move("wrong PSK", r"authentication failed",
                             params=NONE)
    finally:
        for h in NS:
            ctl(h, "set", "auth", "none", check=False)


def t_disallowed_network():
    dst = other(GUEST_VM.vm.host)
    ctl(dst, "network", "add", "10.99.0.0/24")
    ctl(dst, "set", "networks", "listed")
    try:
        GUEST_VM.failed_move("source not on the destination's networks",
                             r"migration networks", params=NONE)
    finally:
        ctl(dst, "set", "networks", "any", check=False)
        ctl(dst, "network", "del", "10.99.0.0/24", check=False)


# The working set dirties more than 1 ms of downtime allows: pre-copy goes on
FOREVER = {"params": NONE, "downtime": 1}


def wait_active(mv, seconds):
    deadline = time.time() + 60
    while mv.src.qmp.cmd("query-migrate").get("status") != "active":
        expect(time.time() < deadline, "the migration never became active")
        time.sleep(0.05)
    time.sleep(seconds)


def t_cancel_setup():
    def act(mv):
        mv.src.qmp.cmd("migrate_cancel")
    GUEST_VM.failed_move("cancel at once", None, **FOREVER, action=act,
                         status="cancelled")


def t_cancel_precopy():
    def act(mv):
        wait_active(mv, 3)
        ram = mv.src.qmp.cmd("query-migrate").get("ram", {})
        log("cancel after %s bytes, %s sync rounds" % (ram.get("transferred"),
                                                       ram.get("dirty-sync-count")))
        mv.src.qmp.cmd("migrate_cancel")
    GUEST_VM.failed_move("cancel in pre-copy", None, **FOREVER, action=act,
                         status="cancelled")


def wait_status(mv, status):
    expect(mv.src.qmp.wait_event(migration_in((status,)), mv.ev0, 120),
           "no %s state" % status)


def set_pause_before_switchover(qmp, on, check=True):
    (qmp.cmd if check else qmp.call)(
        "migrate-set-capabilities",
        capabilities=[{"capability": "pause-before-switchover", "state": on}])


@contextlib.contextmanager
def pause_before_switchover(qmp):
    set_pause_before_switchover(qmp, True)
    try:
        yield
    finally:
        set_pause_before_switchover(qmp, False)


def t_cancel_switchover():
    def act(mv):
        wait_status(mv, "pre-switchover")
        mv.src.qmp.cmd("migrate_cancel")
    with pause_before_switchover(GUEST_VM.vm.qmp):
        GUEST_VM.failed_move("cancel at the switchover", None, params=NONE,
                             action=act, status="cancelled")


def veth_tx(host):
    """Bytes sent so far on @host's migration link."""
    return int(ns_sh(NS[host], "cat", "/sys/class/net/%s/statistics/tx_bytes" % MIG_DEV[host]))


BW_CAP = 4 << 20


def t_vmmig_max_bandwidth():
    """max-bandwidth paces the module's pages (patch 6 of the series): the
    migration link carries the cap, within 15 % (TCP/IP headers included);
    raised mid-move, the rest goes at the link's speed: it takes less than
    half the time the cap would have let it."""
    host = GUEST_VM.vm.host
    seen = {}

    def act(mv):
        wait_active(mv, 2)
        b0, t0 = veth_tx(host), time.time()
        time.sleep(4)
        b1, t1 = veth_tx(host), time.time()
        seen["rate"] = (b1 - b0) / (t1 - t0)
        mv.src.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
        seen["raised"], seen["tx"] = time.time(), veth_tx(host)
    mv = GUEST_VM.move("vmmig capped at 4 MiB/s, then raised",
                       params=dict(NONE, **{"max-bandwidth": BW_CAP}), action=act)
    after = mv.t0 + mv.secs - seen["raised"]
    at_cap = (veth_tx(host) - seen["tx"]) / BW_CAP
    log("capped: %.0f bytes/s on the link against a cap of %d; once raised, the rest "
        "took %.1f s, %.1f s at the cap" % (seen["rate"], BW_CAP, after, at_cap))
    expect(abs(seen["rate"] - BW_CAP) <= BW_CAP * 0.15,
           "capped at %d, the link carried %.0f bytes/s" % (BW_CAP, seen["rate"]))
    expect(after < at_cap / 2,
           "raised, the rest took %.1f s, %.1f s at the cap" % (after, at_cap))


def t_dest_killed():
    def act(mv):
        wait_active(mv, 3)
        mv.dst.proc.kill()
    GUEST_VM.failed_move("destination QEMU killed", r".", **FOREVER,
                         action=act)


def t_dest_killed_switchover():
    """The destination dies while the source is stopped for the switchover:
    the migration fails with the reason in error-desc (QEMU 7.2 gave none
    there; patch 5 of the series), and the source guest runs on."""
    def act(mv):
        wait_status(mv, "pre-switchover")
        mv.dst.proc.kill()
        mv.dst.proc.wait()
        mv.src.qmp.cmd("migrate-continue", state="pre-switchover")
    with pause_before_switchover(GUEST_VM.vm.qmp):
        GUEST_VM.failed_move("destination QEMU killed at the switchover",
                             r"session to the destination ended|Broken pipe|"
                             r"Connection reset", params=NONE, action=act)


DISK_MB, WRITE_MB = 64, 16


def disks_setup():
    """A guest image on an ext4 file system on each host; the path per host."""
    imgs = {}
    for h in NS:
        fs, mnt = "%s/fs-%s.img" % (WORK, h), "%s/fs-%s" % (WORK, h)
        sh("truncate", "-s", "%dM" % (DISK_MB * 2 + 32), fs)
        sh("mkfs.ext4", "-q", "-F", fs)
        os.makedirs(mnt, exist_ok=True)
        sh("mount", "-o", "loop", fs, mnt)
        imgs[h] = mnt + "/guest.img"
        sh("truncate", "-s", "%dM" % DISK_MB, imgs[h])
    return imgs


def disks_teardown():
    for h in NS:
        sh("umount", "%s/fs-%s" % (WORK, h), check=False)


def sha256(path):
    return sh("sha256sum", path).split()[0]


class Mirror:
    """The disk goes as libvirt moves it (--copy-storage-all): the
    destination exports its empty image over NBD, the source mirrors into
    it while the guest runs and writes, and the migration starts once the
    mirror is ready. The source pauses before the switchover (libvirt
    always sets pause-before-switchover), and there, with the guest stopped
    and the images equal, the mirror ends; then the device state goes and
    the destination (started with -S) is resumed once its NBD server is
    stopped.

    Everything from the source's stop to the resume is the guest's outage,
    so each step waits for QEMU's event, not a poll's next tick, and what
    can wait (the source's NBD client) goes after the resume."""

    def before(self, mv):
        d, s = mv.dst.qmp, mv.src.qmp
        nbd = {"type": "inet", "host": MIG_ADDR[mv.host], "port": "10809"}
        d.cmd("nbd-server-start", addr={"type": "inet", "data": {"host": nbd["host"],
                                                                  "port": nbd["port"]}})
        r = d.call("block-export-add", type="nbd", id="exp0", name="disk0",
                   writable=True, **{"node-name": "disk0"})
        if "error" in r:
            nodes = [(n["node-name"], n["ro"], n["file"]) for n in
                     d.cmd("query-named-block-nodes")]
            raise Fail("block-export-add: %s; nodes %s" % (r["error"]["desc"], nodes))
        s.cmd("blockdev-add", driver="nbd", server=nbd, export="disk0",
              **{"node-name": "mirror0"})
        s.cmd("blockdev-mirror", device="disk0", target="mirror0", sync="full",
              **{"job-id": "mirror0"})
        # The guest writes while the mirror copies
        self.seed = Vm.seq
        m = mv.src.console().command("disk-write %d %d" % (WRITE_MB, self.seed),
                                     r"DISK-DONE (\S+)", 120)
        self.sum = m.group(1)
        deadline = time.time() + 120
        while not any(j["device"] == "mirror0" and j["ready"]
                      for j in s.cmd("query-block-jobs")):
            expect(time.time() < deadline, "the mirror never became ready")
            time.sleep(0.2)
        log("mirror ready; the guest wrote %d MiB, sha256 %s" % (WRITE_MB, self.sum))
        set_pause_before_switchover(s, True)

    def during(self, mv):
        """At the pause before the switchover: end the mirror, go on."""
        s = mv.src.qmp
        ev = s.wait_event(migration_in(("pre-switchover",) + END_STATES), mv.ev0,
                          MOVE_TIMEOUT)
        if not ev or ev["data"]["status"] != "pre-switchover":
            return
        since = len(s.events)
        # Ready and the guest stopped: the mirror ends at once, with
        # BLOCK_JOB_COMPLETED (a cancelled ready mirror completes)
        s.cmd("block-job-cancel", device="mirror0")
        ev = s.wait_event(lambda e: e["event"] in ("BLOCK_JOB_COMPLETED",
                                                   "BLOCK_JOB_CANCELLED") and
                          e["data"]["device"] == "mirror0", since, 60)
        expect(ev is not None, "the mirror did not end")
        expect(ev["event"] == "BLOCK_JOB_COMPLETED" and "error" not in ev["data"],
               "the mirror ended with %s" % json.dumps(ev))
        s.cmd("migrate-continue", state="pre-switchover")

    def after(self, mv):
        d, s = mv.dst.qmp, mv.src.qmp
        if mv.info["status"] != "completed":
            s.call("block-job-cancel", device="mirror0", force=True)
            set_pause_before_switchover(s, False, check=False)
            return
        # The export first: while it holds the image, the disk's device
        # cannot take write access for itself when the guest runs
        d.cmd("nbd-server-stop")
        d.cmd("cont")
        s.cmd("blockdev-del", **{"node-name": "mirror0"})
        self.log_outage(mv)
        out = mv.dst.output()
        expect("Permission conflict" not in out, "the destination: %s" % out[-400:])

    @staticmethod
    def log_outage(mv):
        """Where the guest's outage went, from both QEMUs' event timestamps
        (one host, one clock)."""
        def at(q, name, status=None):
            e = q.wait_event(lambda e: e["event"] == name and
                             (status is None or e["data"].get("status") == status),
                             mv.ev0 if q is mv.src.qmp else 0, 10)
            return e and e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6
        s, d = mv.src.qmp, mv.dst.qmp
        t = [at(s, "STOP"), at(s, "MIGRATION", "pre-switchover"),
             at(s, "BLOCK_JOB_COMPLETED"), at(s, "MIGRATION", "device"),
             at(s, "MIGRATION", "completed"), at(d, "MIGRATION", "completed"),
             at(d, "RESUME")]
        if None in t:
            log("outage: an event is missing (%s)" % t)
            return
        ms = ["%.0f" % ((b - a) * 1000) for a, b in zip(t, t[1:])]
        log("outage %.0f ms: stop -> pre-switchover %s, -> mirror ended %s, -> continued %s, "
            "-> completed %s, -> destination completed %s, -> resumed %s" %
            ((t[-1] - t[0]) * 1000, *ms))


def t_disk_move():
    # A guest with a disk of its own takes the place (tap, address) of the first
    if GUEST_VM.vm:
        GUEST_VM.vm.quit()
        GUEST_VM.vm = None
    imgs = disks_setup()
    g = Guest()
    try:
        g.boot("a", disk=imgs)
        mv = g.move("vmmig lz4 with the disk mirrored over NBD", params=LZ4, disk=imgs,
                    mirror=Mirror())
        m = g.vm.console().command("disk-sum %d" % WRITE_MB, r"DISK-SUM (\S+)", 120)
        expect(m.group(1) == mv.mirror_sum, "the disk on the destination reads %s, the "
               "guest wrote %s" % (m.group(1), mv.mirror_sum))
        g.vm.quit()
        g.vm = None
        a, b = sha256(imgs["a"]), sha256(imgs["b"])
        log("images: source %s, destination %s" % (a, b))
        expect(a == b, "the images differ after the move")
    finally:
        if g.vm:
            g.vm.kill()
        disks_teardown()


RIG_DEV, RIG_RXE = "vmmig_qr0", "vmmig_qrxe0"
RDMA_RATE = 100         # pages/s the guest dirties: rxe in TCG is slow
RIG_SRC, RIG_DST = "10.79.0.1", "10.79.0.2"


def rig_teardown():
    sh("rdma", "link", "del", RIG_RXE, check=False)
    sh("ip", "link", "del", RIG_DEV, check=False)
    sh(CTL, "disable", check=False)
    sh(CTL, "set", "performance", "compression", check=False)


def rxe_sent():
    out = sh("rdma", "statistic", "show", "link", RIG_RXE + "/1", check=False)
    m = re.search(r"\bsent_pkts (\d+)", out)
    return int(m.group(1)) if m else 0


def t_rdma_move(result=None):
    """Over RDMA (Soft-RoCE), vmmig-compression host-defaults with the
    host's performance rdma. rxe in Linux 6.12 is not network-namespace
    aware, so both QEMUs run in the initial namespace with two addresses on
    one veth end that carries the rxe device (as rdma_test's rig), and
    without a NIC: this move checks memory, not the network. @result (the
    benchmark's): gets the move's figures."""
    rig_teardown()
    src = dst = None
    try:
        sh("ip", "link", "add", RIG_DEV, "type", "veth", "peer", "name", RIG_DEV + "p")
        for a in (RIG_SRC, RIG_DST):
            sh("ip", "addr", "add", a + "/24", "dev", RIG_DEV)
        sh("ip", "link", "set", RIG_DEV + "p", "up")
        sh("ip", "link", "set", RIG_DEV, "up")
        sh("rdma", "link", "add", RIG_RXE, "type", "rxe", "netdev", RIG_DEV)
        sh(CTL, "enable")
        sh(CTL, "set", "performance", "rdma")
        # Soft-RoCE in the TCG test VM moves a few MB/s: the guest dirties
        # slowly enough (100 pages/s) to converge within a 2 s downtime
        src = Vm(None, rate=RDMA_RATE)
        src.console().wait_for(r"GUEST-READY", 600)
        digest = guest_digest(src)
        dst = Vm(None, incoming=True, rate=RDMA_RATE)
        uri = "tcp:%s:%d" % (RIG_DST, QEMU_PORT + 1)
        params = {"vmmig-compression": "host-defaults", "vmmig-channels": 0,
                  "vmmig-compression-level": 0}
        for q in (src.qmp, dst.qmp):
            set_caps(q, True)
            q.cmd("migrate-set-parameters", **params)
        src.qmp.cmd("migrate-set-parameters", **{"downtime-limit": 2000})
        dst.qmp.cmd("migrate-incoming", uri=uri)
        sent0 = rxe_sent()
        t0 = time.time()
        src.qmp.cmd("migrate", uri=uri)
        info = wait_migration(src.qmp)
        log("vmmig over RDMA (rxe): %s in %.1f s: QEMU total-time %s ms, downtime %s ms; "
            "%d RoCE packets sent" % (info["status"], time.time() - t0, info.get("total-time"),
                                     info.get("downtime"), rxe_sent() - sent0))
        expect(info["status"] == "completed", "RDMA move %s: %s" %
               (info["status"], info.get("error-desc")))
        expect(rxe_sent() - sent0 > 1000, "the move did not go over rxe")
        if result is not None:
            result.update(info, seconds=time.time() - t0, packets=rxe_sent() - sent0)
        gen0, err = guest_status(dst)
        # A generation rewrites the whole working set at RDMA_RATE pages/s
        deadline = time.time() + WS_MB * 256 / RDMA_RATE + 20
        gen1 = gen0
        while gen1 == gen0 and time.time() < deadline:
            time.sleep(0.5)
            gen1, err = guest_status(dst)
        expect(err == 0 and gen1 > gen0, "after the RDMA move: memcheck generation %d -> "
               "%d, %d bad pages" % (gen0, gen1, err))
        expect(guest_digest(dst) == digest, "the frozen region changed over RDMA")
    finally:
        for vm in (src, dst):
            if vm:
                vm.kill()
        rig_teardown()


def t_link_cut():
    """The migration link goes down mid pre-copy. QEMU's own stream would
    wait for the kernel's TCP retries (15 minutes and more); the module's
    connections give up after their user timeout (30 s, keepalive on the
    receiving end), the session ends with the socket's error and QEMU
    fails the migration with it: ETIMEDOUT, or ENETUNREACH or
    EHOSTUNREACH when a retransmission found no route (the link is this
    host's); the source runs on."""
    dev = MIG_DEV[GUEST_VM.vm.host]
    ns = NS[GUEST_VM.vm.host]
    cut = {}

    def act(mv):
        wait_active(mv, 2)
        ns_sh(ns, "ip", "link", "set", dev, "down")
        cut["t"] = time.time()
    try:
        GUEST_VM.failed_move("link cut", r"timed out|Network is unreachable|No route to host",
                             **FOREVER, action=act)
        log("link cut: migration failed %.1f s after the link went down" %
            (time.time() - cut["t"]))
    finally:
        ns_sh(ns, "ip", "link", "set", dev, "up")


def t_source_still_moves():
    GUEST_VM.move("vmmig none after the failures", params=NONE)


TESTS = [
    ("boot_linux_guest", t_boot),
    ("qemu_tcp_move", t_qemu_tcp),
    ("vmmig_none_move", t_vmmig_none),
    ("vmmig_lz4_move", t_vmmig_lz4),
    ("vmmig_zstd_move", t_vmmig_zstd),
    ("vmmig_host_defaults_move", t_vmmig_host_defaults),
    ("vmmig_psk_ktls_move", t_vmmig_psk_ktls),
    ("vmmig_max_bandwidth_move", t_vmmig_max_bandwidth),
    ("conflicting_capability_refused", t_conflicting_capability),
    ("dest_without_vmmig_fails", t_dest_without_vmmig),
    ("wrong_psk_fails", t_wrong_psk),
    ("disallowed_network_fails", t_disallowed_network),
    ("cancel_at_once", t_cancel_setup),
    ("cancel_in_precopy", t_cancel_precopy),
    ("cancel_at_switchover", t_cancel_switchover),
    ("dest_killed_fails", t_dest_killed),
    ("dest_killed_at_switchover_fails", t_dest_killed_switchover),
    ("link_cut_fails", t_link_cut),
    ("move_after_failures", t_source_still_moves),
    ("vmmig_rdma_move", t_rdma_move),
    ("disk_moves_with_mirror", t_disk_move),
]


def main():
    names = sys.argv[1:]
    tests = [t for t in TESTS if not names or t[0] in names]
    print("TAP version 13")
    print("1..%d" % len(tests), flush=True)
    skip = None
    if not os.access(QEMU, os.X_OK):
        skip = "no patched QEMU at %s (userspace/qemu/build)" % QEMU
    elif not os.path.exists(GUEST + "/initramfs.cpio.gz"):
        skip = "no Linux guest in %s (tests/linux-guest/build)" % GUEST
    elif not os.path.exists("/dev/kvm"):
        skip = "no /dev/kvm"
    if not skip:
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        hosts_setup()
    failed = 0
    broken = None
    try:
        for i, (name, fn) in enumerate(tests, 1):
            if skip or broken:
                print("ok %d %s # SKIP %s" % (i, name, skip or broken), flush=True)
                continue
            Vm.started.clear()
            try:
                fn()
                print("ok %d %s" % (i, name), flush=True)
            except Skip as e:
                print("ok %d %s # SKIP %s" % (i, name, e), flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is a test result
                failed += 1
                log("%s: %s: %s" % (name, type(e).__name__, e))
                if not isinstance(e, Fail):
                    # not a check that failed: where, and what the QEMUs said
                    for line in traceback.format_exc().splitlines()[-16:]:
                        log("  " + line)
                    # every QEMU of the test: one that exited 0 quit, or was told to
                    for vm in Vm.started:
                        rc = vm.proc.poll()
                        log("  %s: %s, last output: %s" % (
                            vm.name, "running" if rc is None else "exit %d" % rc,
                            vm.output()[-400:].replace("\n", " | ")))
                print("not ok %d %s" % (i, name), flush=True)
                if name != "disk_moves_with_mirror" and not GUEST_VM.recover(name):
                    broken = "no guest after %s" % name
    finally:
        if GUEST_VM.vm:
            GUEST_VM.vm.kill()
        if not skip:
            hosts_teardown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
