"""One execution count for the session, as a jupyter_client user sees it through the router.

Usage: python session_count_check.py KERNEL_NAME [--lua]
Starts KERNEL_NAME (an llmspell-fleet kernelspec whose default runtime is python) with a
KernelManager, asks for the history tail as jupyter console does at start, then sends every
cell at once as a notebook's run-all does: python and javascript (cell metadata
{"llmspell": {"runtime": "javascript"}}) alternating, with a `%llmspell status` cell among
them. Each cell's execute_input and execute_result (python and the magic only: tslab publishes
neither, it prints its values) and execute_reply must carry 1, 2, 3... in sending order; a history tail must list those cells
with those numbers; a silent request reads the count as it stands and the next cell goes on.
The last stdout line is one JSON object: {"ok": bool, "checks": {...}, "cells": [...]}.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from kernel_checks import Checks, run_kernel_check

KERNEL = sys.argv[1]
JS = {"llmspell": {"runtime": "javascript"}}
STEP_TIMEOUT = 90.0

LUA = {"llmspell": {"runtime": "lua"}}
# (code, metadata): python by default, javascript by metadata, the router's own magic.
CELLS: list[tuple[str, dict[str, Any]]] = [
    ("40 + 2", {}),
    ("20 + 1", JS),
    ("%llmspell status", {}),
    ("6 * 7", {}),
    ("'a' + 'b'", JS),
    ("[1, 2][0]", {}),
]
# --lua: llmspell behind the adapter (the test double) takes part too.
if "--lua" in sys.argv[2:]:
    CELLS[3:3] = [("return 2+3", LUA)]
    CELLS.append(("return 'x' .. 'y'", LUA))

checks = Checks()
check, equal = checks.check, checks.equal
out: dict[str, Any] = {"cells": []}


def send(kc: Any, code: str, metadata: dict[str, Any], silent: bool = False) -> str:
    """An execute_request built by hand: jupyter_client's execute() takes no metadata."""
    content = {"code": code, "silent": silent, "store_history": not silent, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}
    msg = kc.session.msg("execute_request", content, metadata=metadata)
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def collect(kc: Any, msg_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per request: the counts in its execute_input / execute_result / execute_reply, and whether it went idle."""
    seen: dict[str, dict[str, Any]] = {m: {"input": [], "result": [], "reply": None, "idle": False, "stdout": ""} for m in msg_ids}
    deadline = time.monotonic() + STEP_TIMEOUT
    while not all(s["idle"] for s in seen.values()) and time.monotonic() < deadline:
        try:
            m = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - queue.Empty: reported as a missing idle
            break
        s = seen.get(m["parent_header"].get("msg_id"))
        if s is None:
            continue
        t, c = m["msg_type"], m["content"]
        if t == "execute_input":
            s["input"].append(c.get("execution_count"))
        elif t == "execute_result":
            s["result"].append(c.get("execution_count"))
        elif t == "stream" and c.get("name") == "stdout":
            s["stdout"] += c.get("text", "")
        elif t == "status" and c.get("execution_state") == "idle":
            s["idle"] = True
    while any(s["reply"] is None for s in seen.values()) and time.monotonic() < deadline:
        try:
            r = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001
            break
        s = seen.get(r["parent_header"].get("msg_id"))
        if s is not None:
            s["reply"] = r["content"]
    return seen


def history(kc: Any, **kwargs: Any) -> Any:
    msg_id = kc.history(raw=True, output=False, **kwargs)
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        r = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if r["parent_header"].get("msg_id") == msg_id:
            return r["content"]
    raise TimeoutError("no history_reply")


def run(_km: Any, kc: Any) -> None:
    # jupyter console asks for the tail at start: nothing of this session yet, so the default backend answers.
    start = history(kc, hist_access_type="tail", n=100)
    check("history_at_start_answered", start.get("status") == "ok" and isinstance(start.get("history"), list), start)

    ids = [send(kc, code, metadata) for code, metadata in CELLS]
    seen = collect(kc, ids)
    cells = []
    for (code, metadata), msg_id in zip(CELLS, ids):
        s = seen[msg_id]
        cells.append({"code": code, "javascript": metadata is JS, "input": s["input"], "result": s["result"], "reply": s["reply"], "idle": s["idle"], "stdout": s["stdout"]})
    out["cells"] = cells
    expected = list(range(1, len(CELLS) + 1))
    check("every_cell_answered", all(c["idle"] and c["reply"] is not None for c in cells), [(c["code"], c["idle"], c["reply"] is not None) for c in cells])
    check("every_cell_ok", all((c["reply"] or {}).get("status") == "ok" for c in cells), [(c["code"], (c["reply"] or {}).get("status")) for c in cells])
    # The javascript cells ran in tslab (its values are printed), the others in ipykernel or the router.
    equal("javascript_cells_ran_in_tslab", [c["stdout"].strip() for c in cells if c["javascript"]], ["21", "ab"])
    # tslab publishes no execute_input (nor execute_result): its cells have only the reply's count.
    equal("execute_input_counts", [c["input"] for c in cells], [[] if c["javascript"] else [n] for n, c in zip(expected, cells)])
    equal("execute_reply_counts", [(c["reply"] or {}).get("execution_count") for c in cells], expected)
    valued = [(n, c) for n, c in zip(expected, cells) if not c["javascript"] and not c["code"].startswith("%")]
    equal("execute_result_counts", [c["result"] for _n, c in valued], [[n] for n, _c in valued])

    tail = history(kc, hist_access_type="tail", n=100)
    equal("history_tail_session_numbers", [h[1:] for h in tail.get("history", [])], [[n, code] for n, (code, _m) in zip(expected, CELLS)])
    rng = history(kc, hist_access_type="range", session=0, start=2, stop=4)
    equal("history_range_of_the_session", [h[1:] for h in rng.get("history", [])], [[2, "20 + 1"], [3, "%llmspell status"]])

    quiet = send(kc, "", {}, silent=True)
    q = collect(kc, [quiet])[quiet]
    equal("silent_request_reads_the_count", (q["reply"] or {}).get("execution_count"), len(CELLS))
    after = send(kc, "'after'", {})
    a = collect(kc, [after])[after]
    equal("next_cell_goes_on", [a["input"], (a["reply"] or {}).get("execution_count")], [[len(CELLS) + 1], len(CELLS) + 1])


def main() -> None:
    run_kernel_check(KERNEL, run, checks, out, STEP_TIMEOUT)


if __name__ == "__main__":
    main()
