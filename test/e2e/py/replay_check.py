"""Output that outlives the client, driven through jupyter_client against the real router.

Usage: python replay_check.py replay
A client runs a python cell that prints "before", then waits for a file and prints "after N".
Its router stops while the cell runs (the client closes the kernel, without an interrupt); the
fleet manager keeps the backend (linger_seconds is long) and its output. The test creates the
file only once the manager's iopub subscription is live, so the cell prints while no client is
attached. A new router for the same requirement gets the same backend; its first cell shows
the kept output under a heading, then its own; `%llmspell replay` shows it again.

Environment and output as fleet_check.py (whose clients and checks this reuses).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import traceback
from typing import Any

import fleet_check as fc
from fleet_check import CLI, NODE, SETTLE, STEP_TIMEOUT, TMP, Client, check, equal, fleet_list, poll_list, running, started, stop_all, wait_until

HEADING = "── output while no client was attached (cell started "


def held(records: list[dict[str, Any]]) -> list[Any]:
    return [(r["pid"], r["clients"], r.get("heldOutput")) for r in records]


def in_order(text: str, parts: list[str]) -> bool:
    at = -1
    for p in parts:
        at = text.find(p, at + 1)
        if at < 0:
            return False
    return True


def scenario_replay(clients: list[Client]) -> None:
    a = started(clients, Client("A"))
    pid = a.pid()
    go = os.path.join(TMP, "replay-go")
    cell = a.send(f"import os, time\nprint('before', flush=True)\nwhile not os.path.exists({go!r}): time.sleep(0.05)\nfor i in range(3): print('after', i, flush=True)\n")
    printed = a.drain_iopub(lambda m: m["parent_header"].get("msg_id") == cell and m["msg_type"] == "stream" and "before" in m["content"]["text"], STEP_TIMEOUT)
    check("A_cell_printed_before", printed)
    a_router = a.router_pid
    # The client closes the kernel: a shutdown_request, without the interrupt shutdown_kernel() sends first.
    stop_all([a])
    clients.remove(a)
    check("A_router_exited", wait_until(lambda: not running(a_router), SETTLE), a_router)
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"], (r.get("heldOutput") or {}).get("subscribed")) for r in rs] == [(pid, 0, True)], SETTLE)
    check("manager_subscribed_while_no_client", ok, held(records))
    open(go, "w").close()
    ok, records = poll_list(lambda rs: len(rs) == 1 and (rs[0].get("heldOutput") or {}).get("finished") is True, SETTLE)
    check("cell_finished_while_detached_output_kept", ok and records[0]["heldOutput"]["messages"] >= 2, held(records))

    b = started(clients, Client("B"))
    first = b.execute("print('mine')")
    out = first["stdout"]
    check("B_first_cell_starts_with_the_heading", out.startswith(HEADING) and re.match(r"── output while no client was attached \(cell started \d\d:\d\d:\d\d: `import os, time …`\) ──\n", out) is not None, out)
    check("B_first_cell_shows_after_lines_then_its_own_output", in_order(out, ["after 0\n", "after 1\n", "after 2\n", "── cell finished ", "mine\n"]), out)
    check("nothing_from_before_the_client_left", "before" not in out, out)
    equal("B_same_backend", b.pid(), pid)
    again = b.execute("%llmspell replay")
    check("replay_magic_shows_it_again", again["stdout"].startswith(HEADING) and in_order(again["stdout"], ["after 0\n", "after 1\n", "after 2\n", "── cell finished "]) and "mine" not in again["stdout"], again["stdout"])
    equal("next_cell_has_only_its_own_output", b.execute("print('second')")["stdout"], "second\n")
    records = fleet_list()
    check("output_handed_out_once", [(r["pid"], r["clients"], r.get("heldOutput")) for r in records] == [(pid, 1, None)], held(records))

    c = started(clients, Client("C"))
    r = c.execute("%llmspell replay")
    check("another_router_was_shown_nothing", r["stdout"].startswith("Nothing was replayed in this session"), r["stdout"])
    equal("C_shares_the_backend", c.pid(), pid)
    stop_all(clients)
    clients.clear()
    # linger_seconds is long: stop the backend by hand, so nothing is left.
    records = fleet_list()
    stop = subprocess.run([NODE, CLI, "stop", records[0]["kernelId"]], capture_output=True, text=True, timeout=60, env=os.environ) if records else None
    check("backend_stopped", stop is not None and stop.returncode == 0 and wait_until(lambda: not running(pid), SETTLE), held(records))


def main() -> int:
    clients: list[Client] = []
    try:
        scenario_replay(clients)
    except Exception as e:  # noqa: BLE001 - reported as a failed check, with the reason
        traceback.print_exc()
        check("exception", False, f"{type(e).__name__}: {e}")
    finally:
        stop_all(clients)
    ok = bool(fc.checks) and all(c["ok"] for c in fc.checks.values())
    fc.extra["seconds"] = round(time.monotonic() - fc.T0, 2)
    print(json.dumps({"ok": ok, "scenario": "replay", "checks": fc.checks, **fc.extra}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
