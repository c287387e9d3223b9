"""Drive `llmspell-fleet top` through a real pseudo-terminal (pexpect), as a person runs it.

Usage: python top_pty_check.py KERNEL_ID --transcript FILE [--key ctrl-c] [--shut-down SOCKET] -- ARGV...

ARGV runs top (node, the CLI, "top", options); the environment names the fleet. Checks: the
alternate screen is entered and the cursor hidden, the backend KERNEL_ID shows up in a frame
with its CPU and memory, the frame is redrawn (a second header, so it refreshes), `q` (or Ctrl-C
with --key ctrl-c: a key in raw mode, not a signal) quits with
exit status 0, and after the last frame top writes the sequences that show the cursor and leave
the alternate screen (the terminal is restored). With --shut-down, before quitting, the manager
at SOCKET is told to shut down (its own `shutdown` op) and top must say it lost it and keep running.

The raw terminal stream goes to FILE. Progress goes to stderr; the last stdout line is one JSON
object: {"ok": bool, "kernel": KERNEL_ID, "checks": {name: {"ok", "detail", "seconds"}},
"exitstatus": int | None}. Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import time
from typing import Any

import pexpect
from pty_steps import Steps, plain

ENTER = "\x1b[?1049h"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
LEAVE = "\x1b[?1049l"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel")
    ap.add_argument("--transcript", required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--key", choices=["q", "ctrl-c"], default="q")
    ap.add_argument("--shut-down", dest="shut_down", metavar="SOCKET")
    ap.add_argument("argv", nargs="+")
    args = ap.parse_args()

    steps = Steps("top_pty_check")
    steps.log("spawning", args.argv)
    child = pexpect.spawn(args.argv[0], args.argv[1:], dimensions=(24, 120), encoding="utf-8", codec_errors="replace")
    raw = ""

    def read_until(done: Any) -> None:
        nonlocal raw
        deadline = time.monotonic() + args.timeout
        while not done(raw):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; last output: {plain(raw)[-1500:]!r}")
            try:
                raw += child.read_nonblocking(65536, timeout=min(left, 1.0))
            except pexpect.TIMEOUT:
                pass

    def enters_screen() -> str:
        read_until(lambda r: ENTER in r and HIDE_CURSOR in r)
        return "alternate screen on, cursor hidden"

    def shows_backend() -> str:
        row = re.compile(re.escape(args.kernel) + r"\s+(\d+(?:\.\d)?%)\s+(\d+(?:\.\d)? [KMG]iB)\s+ready")
        read_until(lambda r: row.search(plain(r)) is not None)
        m = row.search(plain(raw))
        assert m is not None
        return f"row: {m.group(0)}"

    def refreshes() -> str:
        headers = lambda r: len(re.findall(r"llmspell-fleet top - \d\d:\d\d:\d\d", plain(r)))
        first = headers(raw)
        read_until(lambda r: headers(r) > first)
        return f"{headers(raw)} frames drawn"

    def reports_lost_manager() -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(args.shut_down)
            sock.sendall(b'{"id": 1, "op": "shutdown"}\n')
            # The manager answers, then closes every connection as it exits.
            while sock.recv(65536):
                pass
        status = re.compile(r"lost the fleet manager, retrying \(last list shown\): [^\n]*manager")
        read_until(lambda r: status.search(plain(r)) is not None)
        m = status.search(plain(raw))
        assert m is not None
        return m.group(0)

    def quits() -> str:
        nonlocal raw
        child.send("\x03" if args.key == "ctrl-c" else "q")
        child.expect(pexpect.EOF, timeout=args.timeout)
        raw += child.before or ""
        child.close()
        assert child.exitstatus == 0, f"exit status {child.exitstatus}, signal {child.signalstatus}"
        return f"{args.key}: exit status 0"

    def restores_terminal() -> str:
        last_frame = raw.rfind("\x1b[H")
        tail = raw[last_frame:]
        assert SHOW_CURSOR in tail and LEAVE in tail, f"after the last frame: {tail[-300:]!r}"
        assert tail.rfind(LEAVE) > tail.rfind("\x1b[J"), "the screen was drawn again after leaving it"
        return "cursor shown, alternate screen left after the last frame"

    planned = [("enters_screen", enters_screen), ("shows_backend", shows_backend), ("refreshes", refreshes)]
    if args.shut_down:
        planned.append(("reports_lost_manager", reports_lost_manager))
    planned.append(("quits", quits))
    for name, fn in planned:
        if not steps.step(name, fn):
            break
    else:
        steps.step("restores_terminal", restores_terminal)
    return steps.finish(child, args.transcript, raw, args.kernel, expected=len(planned) + 1)


if __name__ == "__main__":
    sys.exit(main())
