# SPDX-License-Identifier: GPL-2.0
"""Talk to the vmmig Linux test guest's serial console over a unix socket.

QEMU side: -chardev socket,id=s0,path=PATH,server=on,wait=off -serial chardev:s0
(or -serial unix:PATH,server=on,wait=off).

    con = GuestCon(PATH)               # retries until QEMU listens
    con.wait_for(r"GUEST-READY (\\S+)", 300)
    m = con.command("status", r"STATUS gen=(\\d+) errors=(\\d+)")

Everything read is kept in con.log (text) for post-mortems. Replies from the
guest start with a fixed keyword; a line "ERR ..." in answer to a command
raises GuestError, a timeout raises TimeoutError.

Run as a script for a quick interactive check:
    python3 guestcon.py PATH [COMMAND...]
"""

import re
import socket
import sys
import time


class GuestError(Exception):
    """The guest answered a command with ERR ..."""


class GuestCon:
    def __init__(self, path, connect_timeout=30.0):
        self.path = path
        self.log = ""
        self._buf = ""      # received text not yet consumed by wait_for
        deadline = time.monotonic() + connect_timeout
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

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, timeout):
        """Reads what is there within timeout seconds; False on EOF."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        if not data:
            return False
        text = data.decode("utf-8", "replace").replace("\r", "")
        self.log += text
        self._buf += text
        return True

    def wait_for(self, regex, timeout=30.0, err=None):
        """Waits for a line matching regex (re.search); returns the match.

        Lines before it are consumed. If err (a regex) matches a line first,
        raises GuestError with that line.
        """
        pat = re.compile(regex)
        errpat = re.compile(err) if err else None
        deadline = time.monotonic() + timeout
        while True:
            while "\n" in self._buf:
                line, self._buf = self._buf.split("\n", 1)
                m = pat.search(line)
                if m:
                    return m
                if errpat and errpat.search(line):
                    raise GuestError(line)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r within %.0f s; last output:\n%s"
                                   % (regex, timeout, self.log[-2000:]))
            if not self._read(left):
                raise EOFError("console closed; last output:\n"
                               + self.log[-2000:])

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def command(self, cmd, reply_regex, timeout=30.0):
        """Sends cmd, returns the match of the reply line; ERR raises."""
        self._buf = ""
        self.send(cmd)
        return self.wait_for(reply_regex, timeout, err=r"^ERR\b")


    def memcheck_errors(self):
        """The MEMCHECK ERROR lines seen on the console so far."""
        return [l for l in self.log.split("\n") if "MEMCHECK ERROR" in l]


def main(argv):
    if len(argv) < 2:
        print("usage: guestcon.py SOCKET [COMMAND...]", file=sys.stderr)
        return 2
    with GuestCon(argv[1]) as con:
        for cmd in argv[2:] or ["ping"]:
            m = con.command(cmd, r"^[A-Z][A-Z-]+\b.*", 600)
            print(m.group(0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
