"""Run one cell through a kernel with jupyter_client, for the router host tests.

Usage:
    python host_execute_check.py --connection-file FILE CODE [--shutdown]
        a BlockingKernelClient on a kernel that already runs (a router host session)
    python host_execute_check.py --kernel NAME CODE
        a KernelManager starts the kernelspec NAME (the kernel stub form), runs the cell,
        then shuts the kernel down and waits for its process to end

The last stdout line is one JSON object:
    {"ok": bool, "status": str | None, "stdout": str, "kernel_pid": int | None,
     "shutdown": bool | None, "returncode": int | None, "error": str | None}
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from jupyter_client import BlockingKernelClient, KernelManager


def execute(kc: BlockingKernelClient, code: str, timeout: float) -> tuple[str | None, str]:
    kc.wait_for_ready(timeout=timeout)
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    out: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return reply["content"].get("status"), "".join(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connection-file")
    ap.add_argument("--kernel")
    ap.add_argument("--shutdown", action="store_true")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("code")
    args = ap.parse_args()
    result: dict[str, Any] = {"ok": False, "status": None, "stdout": "", "kernel_pid": None, "shutdown": None, "returncode": None, "error": None}
    try:
        if args.kernel:
            km = KernelManager(kernel_name=args.kernel)
            km.start_kernel()
            result["kernel_pid"] = km.provisioner.pid if km.provisioner else None
            # Kept: the provisioner drops its handle on the process at shutdown.
            process = km.provisioner.process if km.provisioner else None
            kc = km.client()
            kc.start_channels()
            try:
                result["status"], result["stdout"] = execute(kc, args.code, args.timeout)
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=False)
                result["shutdown"] = True
                result["returncode"] = process.wait(timeout=args.timeout) if process is not None else None
        else:
            kc = BlockingKernelClient(connection_file=args.connection_file)
            kc.load_connection_file()
            kc.start_channels()
            try:
                result["status"], result["stdout"] = execute(kc, args.code, args.timeout)
                if args.shutdown:
                    msg_id = kc.shutdown()
                    reply = kc.get_control_msg(timeout=args.timeout)
                    while reply["parent_header"].get("msg_id") != msg_id:
                        reply = kc.get_control_msg(timeout=args.timeout)
                    result["shutdown"] = reply["content"].get("status") == "ok"
            finally:
                kc.stop_channels()
        result["ok"] = result["status"] == "ok"
    except Exception as error:  # the caller asserts on the record; the reason must reach it
        result["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
