"""Drives a running llmspell-fleet router (backed by the llmspell stand-in) with jupyter_client.

Usage: python standin_check.py CONNECTION_FILE
Connects a BlockingKernelClient to the router's connection file (as a client of a kernel it did not
launch), waits until ready, asks kernel_info, runs one cell, then sends shutdown_request.
The last stdout line is one JSON object:
  {"ok": bool, "checks": {...}, "kernel_info": {...}, "stdout": str, "execute_reply": {...},
   "shutdown_reply": {...} | null}
The TypeScript test asserts on the raw observations; the checks here only say what went wrong.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from jupyter_client import BlockingKernelClient

checks: dict[str, dict[str, Any]] = {}
out: dict[str, Any] = {"kernel_info": None, "stdout": None, "execute_reply": None, "shutdown_reply": None}


def check(name: str, ok: bool, detail: Any = None, started: float | None = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}
    if started is not None:
        checks[name]["seconds"] = round(time.monotonic() - started, 3)


def main() -> None:
    kc = BlockingKernelClient(connection_file=sys.argv[1])
    kc.load_connection_file()
    kc.start_channels()
    try:
        t = time.monotonic()
        kc.wait_for_ready(timeout=60)
        check("ready", True, None, t)

        t = time.monotonic()
        reply = kc.kernel_info(reply=True, timeout=30)
        content = reply["content"]
        out["kernel_info"] = content
        check("kernel_info", content.get("status") == "ok" and "standin" in content, content.get("implementation"), t)

        t = time.monotonic()
        text: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                text.append(msg["content"]["text"])

        reply = kc.execute_interactive('print("hi")', timeout=30, output_hook=hook)
        out["execute_reply"] = reply["content"]
        out["stdout"] = "".join(text)
        check("execute", reply["content"]["status"] == "ok" and out["stdout"] == 'print("hi")', out["stdout"], t)

        t = time.monotonic()
        reply = kc.shutdown(reply=True, timeout=30)
        out["shutdown_reply"] = reply["content"]
        check("shutdown_reply", reply["content"].get("status") == "ok", reply["content"], t)
    except Exception as error:  # reported, not raised: the JSON line is the result
        check("exception", False, f"{type(error).__name__}: {error}")
    finally:
        kc.stop_channels()


main()
print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, **out}))
