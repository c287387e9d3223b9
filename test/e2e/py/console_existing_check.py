"""Drive `jupyter console --existing FILE --simple-prompt` non-interactively, then shut the kernel down.

Usage: python console_existing_check.py CONNECTION_FILE [--timeout SECONDS]

This script's stdin is fed to the console as typed input and then closed. On end of input the
console leaves the kernel running (it did not start it: "keeping kernel alive"). A jupyter_client
BlockingKernelClient on the same file then sends shutdown_request and waits for the reply.

Progress goes to stderr; the last stdout line is one JSON object:
    {"ok": bool, "checks": {name: {"ok": bool, "detail": ...}}, "returncode": int | None,
     "seconds": float, "stdout": str, "stderr": str, "shutdown_reply": dict | None}
Exit status 0 only if every check passed (what the console printed is for the caller to judge).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from jupyter_client import BlockingKernelClient


def log(*args: Any) -> None:
    print("[console_existing_check]", *args, file=sys.stderr, flush=True)


def shutdown(connection_file: str, timeout: float) -> dict[str, Any] | None:
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        msg_id = client.shutdown()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = client.get_control_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]
        return None
    finally:
        client.stop_channels()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("connection_file")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    stdin_text = sys.stdin.read()

    console = os.path.join(os.path.dirname(sys.executable), "jupyter-console")
    argv = [
        console,
        "--existing",
        args.connection_file,
        "--simple-prompt",
        "--no-confirm-exit",
        "--ZMQTerminalInteractiveShell.kernel_timeout=60",
    ]
    log("running", argv, "stdin", repr(stdin_text))
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(stdin_text, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        stdout, stderr = proc.communicate()
    seconds = round(time.monotonic() - t0, 3)
    log(f"console finished in {seconds}s with status {proc.returncode}")

    checks: dict[str, dict[str, Any]] = {}

    def record(name: str, ok: bool, detail: Any) -> None:
        checks[name] = {"ok": bool(ok), "detail": detail}

    record("exited_in_time", not timed_out, f"{seconds}s (timeout {args.timeout}s)")
    record("exit_status_0", proc.returncode == 0, proc.returncode)
    record("kept_kernel", "keeping kernel alive" in stdout, "the console leaves a kernel it did not start")
    reply = None
    try:
        reply = shutdown(args.connection_file, args.timeout)
    except Exception as e:  # noqa: BLE001 - reported, not raised: the JSON line must come out
        log("shutdown failed:", repr(e))
    record("shutdown_reply_ok", reply is not None and reply.get("status") == "ok", reply)

    ok = all(c["ok"] for c in checks.values())
    print(
        json.dumps(
            {
                "ok": ok,
                "checks": checks,
                "returncode": proc.returncode,
                "seconds": seconds,
                "stdout": stdout[-8000:],
                "stderr": stderr[-8000:],
                "shutdown_reply": reply,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
