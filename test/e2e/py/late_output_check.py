"""Run cells that print through an llmspell adapter and check each cell's output is its own.

Usage: python late_output_check.py CONNECTION_FILE CELLS

The double publishes every print after the cell's idle (LLMSPELL_DOUBLE_LATE_STREAM=1), as a
real llmspell sometimes does. The last stdout line is one JSON object:
    {"ok": bool, "checks": {name: {"ok": bool, "detail": ...}}}
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jupyter_client import BlockingKernelClient


def main() -> int:
    connection_file, cells = sys.argv[1], int(sys.argv[2])
    checks: dict[str, dict[str, Any]] = {}
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    wrong = []
    for i in range(cells):
        code = f'print("n={i}") return {i}' if i % 2 else f'print("n={i}")'
        msg_id = client.execute(code)
        got = []
        while True:
            msg = client.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                got.append(msg["content"]["text"])
            if msg["msg_type"] == "execute_result":
                got.append("result " + msg["content"]["data"]["text/plain"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        reply = client.get_shell_msg(timeout=30)
        want = [f"n={i}\n"] + ([f"result {i}"] if i % 2 else [])
        if got != want or reply["content"]["status"] != "ok":
            wrong.append({"cell": i, "got": got, "want": want, "status": reply["content"]["status"]})
    checks["every cell's print arrives before its idle, under that cell"] = {"ok": not wrong, "detail": wrong[:5]}
    checks["no fence marker reaches a client"] = {"ok": not any("fence" in "".join(w["got"]) for w in wrong), "detail": None}
    client.stop_channels()
    ok = all(c["ok"] for c in checks.values())
    print(json.dumps({"ok": ok, "checks": checks}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
