"""What a jupyter_client user sees from a router whose backend cannot be had.

Usage: python error_check.py CONNECTION_FILE [CODE] [READY_TIMEOUT_SECONDS]
Connects a BlockingKernelClient to the router's connection file, waits until ready, asks
kernel_info, executes CODE (default "1+1") collecting every iopub message until the cell's idle,
reads its execute_reply, asks kernel_info once more (the router is still up), then sends
shutdown_request. Nothing here raises: each step records what it saw.
The last stdout line is one JSON object:
  {"ok": bool, "checks": {...}, "kernel_info": {...}|null, "execute_msg_id": str|null,
   "execute_reply": {...}|null, "iopub": [{"msg_type", "parent_msg_id", "content"}...],
   "kernel_info_after": {...}|null, "shutdown_reply": {...}|null}
"ok" only says every step got an answer; the TypeScript test judges the contents.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from typing import Any

from jupyter_client import BlockingKernelClient

CONNECTION_FILE = sys.argv[1]
CODE = sys.argv[2] if len(sys.argv) > 2 else "1+1"
READY_TIMEOUT = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0

checks: dict[str, dict[str, Any]] = {}
out: dict[str, Any] = {
    "kernel_info": None,
    "execute_msg_id": None,
    "execute_reply": None,
    "iopub": [],
    "kernel_info_after": None,
    "shutdown_reply": None,
}


def check(name: str, ok: bool, detail: Any = None, started: float | None = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}
    if started is not None:
        checks[name]["seconds"] = round(time.monotonic() - started, 3)


def step(name: str, fn: Any) -> Any:
    t = time.monotonic()
    try:
        value = fn()
    except Exception as error:  # recorded, not raised: the JSON line is the result
        check(name, False, f"{type(error).__name__}: {error}", t)
        return None
    check(name, True, None, t)
    return value


def run_cell(kc: BlockingKernelClient) -> None:
    msg_id = kc.execute(CODE)
    out["execute_msg_id"] = msg_id
    deadline = time.monotonic() + 30
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no idle status for the cell within 30 s")
        try:
            msg = kc.get_iopub_msg(timeout=remaining)
        except queue.Empty:
            continue
        parent = msg["parent_header"].get("msg_id")
        out["iopub"].append({"msg_type": msg["msg_type"], "parent_msg_id": parent, "content": msg["content"]})
        if parent == msg_id and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            out["execute_reply"] = reply["content"]
            return


def main() -> None:
    kc = BlockingKernelClient(connection_file=CONNECTION_FILE)
    kc.load_connection_file()
    kc.start_channels()
    try:
        step("ready", lambda: kc.wait_for_ready(timeout=READY_TIMEOUT))
        if not checks["ready"]["ok"]:
            return
        out["kernel_info"] = (step("kernel_info", lambda: kc.kernel_info(reply=True, timeout=30)) or {}).get("content")
        step("execute", lambda: run_cell(kc))
        out["kernel_info_after"] = (step("kernel_info_after", lambda: kc.kernel_info(reply=True, timeout=30)) or {}).get("content")
        out["shutdown_reply"] = (step("shutdown", lambda: kc.shutdown(reply=True, timeout=30)) or {}).get("content")
    finally:
        kc.stop_channels()


main()
print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, **out}))
