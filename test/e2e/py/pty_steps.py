"""What the pseudo-terminal checks (console_pty_check.py, top_pty_check.py) share: the terminal
stream read as plain text, each check run as a named, timed step, and the result line.

Imported from the script's own directory (Python puts it first on sys.path).
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any, Callable

import pexpect

# CSI (colours, cursor moves, private modes such as ?2004h), OSC and two-byte escapes.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def plain(raw: str) -> str:
    return ESCAPES.sub("", raw).replace("\r", "")


class Steps:
    """Checks run one after the other; a failure is recorded (with what it said), not raised."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.checks: dict[str, dict[str, Any]] = {}

    def log(self, *args: Any) -> None:
        print(f"[{self.script}]", *args, file=sys.stderr, flush=True)

    def step(self, name: str, fn: Callable[[], str]) -> bool:
        t0 = time.monotonic()
        try:
            detail: Any = fn()
            ok = True
        except (pexpect.TIMEOUT, pexpect.EOF, AssertionError) as e:
            detail, ok = f"{type(e).__name__}: {e}", False
        self.checks[name] = {"ok": ok, "detail": detail, "seconds": round(time.monotonic() - t0, 3)}
        self.log(name, "ok" if ok else "FAILED", detail)
        return ok

    def finish(self, child: pexpect.spawn, transcript: str, text: str, kernel: str, expected: int | None = None) -> int:
        """Ends the child if a step left it running, writes the transcript and the result line;
        returns the exit status. `expected`: how many steps must have run (default: any)."""
        if child.isalive():
            child.terminate(force=True)
        with open(transcript, "w", encoding="utf-8") as f:
            f.write(text)
        ran = len(self.checks) == expected if expected is not None else bool(self.checks)
        ok = ran and all(c["ok"] for c in self.checks.values())
        print(json.dumps({"ok": ok, "kernel": kernel, "checks": self.checks, "exitstatus": child.exitstatus}))
        return 0 if ok else 1
