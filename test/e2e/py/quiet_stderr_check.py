"""A kernel whose default backend cannot start, as jupyter console meets it while the user types.

Usage: python quiet_stderr_check.py KERNEL_NAME STDERR_FILE [REQUESTS] [CELLS]
Starts KERNEL_NAME with jupyter_client's KernelManager (as jupyter console does), the
kernel's stderr going to STDERR_FILE, waits until it is ready, sends REQUESTS (default 25)
is_complete_request and as many complete_request (what a console sends on each keystroke),
reads every reply, then shuts the kernel down (shutdown_request, then the manager's wait).
The last stdout line is one JSON object:
  {"ok": bool, "checks": {...}, "is_complete": [status...], "complete": [status...]}
The TypeScript test judges what reached STDERR_FILE and the router's log file.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from jupyter_client import BlockingKernelClient, KernelManager

KERNEL = sys.argv[1]
STDERR_FILE = sys.argv[2]
REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else 25
# Cells, unlike typing, start the failed backend again: each fails once more, the terminal still hears once.
CELLS = int(sys.argv[4]) if len(sys.argv) > 4 else 3

checks: dict[str, dict[str, Any]] = {}
out: dict[str, Any] = {"is_complete": [], "complete": [], "execute": []}


def check(name: str, ok: bool, detail: Any = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}


def reply_to(kc: BlockingKernelClient, msg_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def main() -> None:
    km = KernelManager(kernel_name=KERNEL)
    with open(STDERR_FILE, "wb") as stderr:
        km.start_kernel(stderr=stderr)
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    try:
        try:
            kc.wait_for_ready(timeout=60)
            check("ready", True)
        except Exception as error:  # recorded, not raised: the JSON line is the result
            check("ready", False, f"{type(error).__name__}: {error}")
            return
        for n in range(REQUESTS):
            code = "print(" + "x" * n
            out["is_complete"].append(reply_to(kc, kc.is_complete(code)).get("status"))
            out["complete"].append(reply_to(kc, kc.complete(code, len(code))).get("status"))
        check("every_request_answered", len(out["is_complete"]) == REQUESTS and len(out["complete"]) == REQUESTS)
        for _ in range(CELLS):
            out["execute"].append(reply_to(kc, kc.execute("print(1)")).get("status"))
        check("every_cell_failed", out["execute"] == ["error"] * CELLS, out["execute"])
    except Exception as error:
        check("requests", False, f"{type(error).__name__}: {error}")
    finally:
        kc.stop_channels()
        started = time.monotonic()
        km.shutdown_kernel(now=False)
        check("shutdown", not km.is_alive(), round(time.monotonic() - started, 3))


main()
print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, **out}))
