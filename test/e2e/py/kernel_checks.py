"""What the check scripts that drive one kernel through jupyter_client share (usage_check.py,
session_count_check.py): named checks recorded as they pass or fail, and a run that starts the
kernel, waits for it, runs the script's part and always prints the result as the last stdout line.

Imported from the script's own directory (Python puts it first on sys.path).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from jupyter_client import KernelManager


class Checks:
    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def check(self, name: str, ok: bool, detail: Any = None) -> None:
        self.results[name] = {"ok": bool(ok), "detail": detail}

    def equal(self, name: str, got: Any, expected: Any) -> None:
        self.check(name, got == expected, {"got": got, "expected": expected})


def run_kernel_check(kernel: str, run: Callable[[KernelManager, Any], None], checks: Checks, out: dict[str, Any], timeout: float) -> None:
    """Starts `kernel` with a KernelManager, runs `run(km, kc)` once it is ready and shuts it down;
    an exception is a failed check, not a traceback: the JSON line {"ok", "checks", **out} is the result."""
    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=timeout)
        run(km, kc)
    except Exception as error:  # recorded, not raised: the JSON line is the result
        checks.check("no_exception", False, f"{type(error).__name__}: {error}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(json.dumps({"ok": all(c["ok"] for c in checks.results.values()), "checks": checks.results, **out}))
