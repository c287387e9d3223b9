"""What the checks of backends started by a launcher (container_check.py, kube_check.py) share:
named checks logged to stderr as they pass or fail, a client of a kernel, a cell run for its
output, the texts seen on iopub, an interrupt of a sleeping cell, the memory-limit scenario and
the result line.

Imported from the script's own directory (Python puts it first on sys.path).
"""

from __future__ import annotations

import json
import queue
import sys
import time
from typing import Any, Callable

from jupyter_client import KernelManager


class Checks:
    """Named results; each is also logged to stderr under `tag` so a failing run shows its progress."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.results: dict[str, dict[str, Any]] = {}

    def check(self, name: str, ok: bool, detail: Any = None) -> None:
        self.results[name] = {"ok": bool(ok), "detail": detail}
        print(f"[{self.tag}] {'ok  ' if ok else 'FAIL'} {name} {json.dumps(detail, default=str)[:300]}", file=sys.stderr, flush=True)


def start(kernel: str):
    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=180)
    return km, kc


def run(kc, code: str, timeout: float = 120) -> tuple[str, dict]:
    out: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return "".join(out), reply["content"]


def texts_until(kc, needle: str, timeout: float) -> list[str]:
    """Every text the client sees on iopub until one contains needle (or the time is up)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        content = msg["content"]
        text = content.get("text") or "\n".join(content.get("traceback", []) or []) or content.get("evalue", "")
        if text:
            seen.append(text)
            if needle in text:
                break
    return seen


def interrupt_sleeping_cell(checks: Checks, km, kc) -> None:
    msg_id = kc.execute("import time\ntime.sleep(120)")
    # Wait until the cell runs (busy), so the interrupt hits it and not an idle kernel.
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy":
            break
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=60)
    checks.check("interrupt stops the running cell", reply["content"].get("ename") == "KeyboardInterrupt", reply["content"].get("ename"))


def memory_limit(checks: Checks, kernel: str, told: str, expected: str, timeout: float) -> None:
    """A cell allocating 400 MB past the runtime's memory_mb ends the backend; the client must see
    a text containing `expected` (check named `told`) within `timeout` seconds."""
    km, kc = start(kernel)
    out, _ = run(kc, "print('alive')")
    checks.check("starts under its memory limit", out.strip() == "alive", out)
    kc.execute("b = bytearray(400 * 1024 * 1024)\nprint('survived')")
    seen = texts_until(kc, "memory limit", timeout)
    checks.check(told, any(expected in t for t in seen), seen[-5:])
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def main(checks: Checks, scenarios: dict[str, Callable[[], None]]) -> None:
    """Runs the scenario named by argv[1]; the last stdout line is {"ok", "checks"}."""
    scenarios[sys.argv[1]]()
    print(json.dumps({"ok": all(c["ok"] for c in checks.results.values()) and len(checks.results) > 0, "checks": checks.results}))
