"""What a console sees from a router whose default backend cannot start, request by request.

Usage: python unavailable_check.py CONNECTION_FILE REASON_FRAGMENT
Connects a BlockingKernelClient to the router, waits for its iopub_welcome, then sends what a console
sends while the user types (is_complete, complete, inspect, history tail, comm_info) and one
cell, and records each reply's content exactly. jupyter_console's own is_complete handling
(ZMQTerminalInteractiveShell.handle_is_complete_reply) is run on a real reply with warnings
recorded: it must not warn. iopub is read until the last request's idle, and the stderr
notices that carry REASON_FRAGMENT are counted (the reason should be told once, not per request).
The last stdout line is one JSON object: {"ok": bool, "checks": {...}, "replies": {...},
"notices": [...], "console_warnings": [...]}; the TypeScript test judges the contents.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from types import SimpleNamespace
from typing import Any

from jupyter_client import BlockingKernelClient
from jupyter_console.ptshell import ZMQTerminalInteractiveShell

CONNECTION_FILE = sys.argv[1]
REASON = sys.argv[2]
TIMEOUT = 60.0

checks: dict[str, dict[str, Any]] = {}
out: dict[str, Any] = {"replies": {}, "notices": [], "console_warnings": [], "console_is_complete": None}


def check(name: str, ok: bool, detail: Any = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}


def reply_to(kc: BlockingKernelClient, msg_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        r = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if r["parent_header"].get("msg_id") == msg_id:
            return {"msg_type": r["msg_type"], "content": r["content"]}


def main() -> None:
    kc = BlockingKernelClient(connection_file=CONNECTION_FILE)
    kc.load_connection_file()
    kc.start_channels()
    last = ""
    try:
        # Not wait_for_ready: it drains iopub, and the notices are what is counted here. The
        # router greets each new subscriber with iopub_welcome; what follows it is this client's.
        deadline = time.monotonic() + TIMEOUT
        while kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))["msg_type"] != "iopub_welcome":
            pass
        info = reply_to(kc, kc.kernel_info())
        check("ready", info["content"].get("status") == "ok", info["content"].get("banner"))
        requests = {
            "is_complete": lambda: kc.is_complete("x = "),
            "complete": lambda: kc.complete("pri", 3),
            "inspect": lambda: kc.inspect("x", 1),
            "history": lambda: kc.history(raw=True, output=False, hist_access_type="tail", n=1000),
            "comm_info": lambda: kc.comm_info(),
            "execute": lambda: kc.execute("1 + 1"),
        }
        for name, send in requests.items():
            msg_id = send()
            out["replies"][name] = reply_to(kc, msg_id)
            last = msg_id
        check("replies", True)

        # jupyter_console's own handling of a real is_complete_reply: what it does while the user types.
        shell = SimpleNamespace(client=kc, use_kernel_is_complete=True)
        msg_id = kc.is_complete("print(1)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out["console_is_complete"] = list(ZMQTerminalInteractiveShell.handle_is_complete_reply(shell, msg_id, timeout=TIMEOUT))
        out["console_warnings"] = [str(w.message) for w in caught]
        last = msg_id
        check("console_is_complete", True)

        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            c = m["content"]
            if m["msg_type"] == "stream" and c.get("name") == "stderr" and REASON in c.get("text", ""):
                out["notices"].append(c["text"])
            if m["parent_header"].get("msg_id") == last and m["msg_type"] == "status" and c.get("execution_state") == "idle":
                break
        check("iopub_until_last_idle", True)
    except Exception as error:  # recorded, not raised: the JSON line is the result
        check("no_exception", False, f"{type(error).__name__}: {error}")
    finally:
        try:
            kc.shutdown()
            # Its reply: the request has left before the channels close (the router then exits).
            kc.control_channel.get_msg(timeout=TIMEOUT)
        except Exception as error:  # noqa: BLE001
            check("shutdown", False, f"{type(error).__name__}: {error}")
        finally:
            kc.stop_channels()
    print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, **out}))


if __name__ == "__main__":
    main()
