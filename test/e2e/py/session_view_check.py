"""What a session shows of its backends, driven through jupyter_client against the real router.

Usage: python session_view_check.py SCENARIO
Scenarios (see test/e2e/session-view.test.ts for what each one proves):
  run-all-status  a cell for a backend not started yet and `%llmspell status` sent at once (as
                  JupyterLab's Run All does): status answers after the cell, and says ready
  busy            `llmspell-fleet list` says busy while a cell runs (it waits for a file this
                  script creates), ready before and after
  start-progress  a cell waiting for its backend (the "gated" runtime starts when this script
                  creates FLEET_GATE) shows "starting … backend…", updated with how long it took
                  before its result; a second cell shows nothing; the backend killed is listed
                  dead (restarts are off), and started again it is listed restarting

Environment: FLEET_NODE and FLEET_CLI (the built CLI), FLEET_DIR (the test's temp dir),
FLEET_GATE (the file that lets a "gated" backend start), LLMSPELL_FLEET_HOME and the Jupyter
isolation variables. Progress goes to stderr; the last stdout line is one JSON object
    {"ok": bool, "scenario": NAME, "checks": {name: {"ok": bool, "detail": ...}}}
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
import traceback
import uuid
from typing import Any, Callable

from jupyter_client import BlockingKernelClient, KernelManager

SCENARIO = sys.argv[1] if len(sys.argv) > 1 else ""
NODE = os.environ.get("FLEET_NODE", "node")
CLI = os.environ["FLEET_CLI"]
TMP = os.environ["FLEET_DIR"]
GATE = os.environ["FLEET_GATE"]
# Bounds a failing run only: every wait returns as soon as what it waits for has happened.
SETTLE = 60.0

checks: dict[str, dict[str, Any]] = {}
T0 = time.monotonic()


def log(*args: Any) -> None:
    print(f"[session_view {time.monotonic() - T0:7.2f}s]", *args, file=sys.stderr, flush=True)


def check(name: str, ok: bool, detail: Any = None) -> bool:
    checks[name] = {"ok": bool(ok), "detail": detail}
    log(("ok  " if ok else "FAIL"), name, json.dumps(detail, default=str)[:300])
    return bool(ok)


def fleet_list(json_out: bool = True) -> Any:
    args = [NODE, CLI, "list"] + (["--json"] if json_out else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=60, env=os.environ)
    if r.returncode != 0:
        raise RuntimeError(f"llmspell-fleet list failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout) if json_out else r.stdout


def states(runtime: str) -> list[str]:
    return [r["state"] for r in fleet_list() if r["requirement"]["runtime"] == runtime]


def poll_state(runtime: str, want: str) -> tuple[bool, list[str]]:
    """Polls `list --json` until a backend of `runtime` is in state `want`."""
    deadline = time.monotonic() + SETTLE
    while True:
        seen = states(runtime)
        if want in seen or time.monotonic() >= deadline:
            return want in seen, seen
        time.sleep(0.05)


def pid_of(runtime: str) -> int:
    return next(r["pid"] for r in fleet_list() if r["requirement"]["runtime"] == runtime and r["state"] != "dead")


class Session:
    """One client; every message it receives, in order of arrival, as (channel, msg_type, parent, content)."""

    def __init__(self, kc: BlockingKernelClient) -> None:
        self.kc = kc
        self.seen: list[tuple[str, str, str | None, dict[str, Any]]] = []

    def pump(self, until: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + SETTLE
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not happen within {SETTLE} s")
            for channel, get in (("iopub", self.kc.get_iopub_msg), ("shell", self.kc.get_shell_msg)):
                try:
                    msg = get(timeout=0.02)
                except queue.Empty:
                    continue
                self.seen.append((channel, msg["msg_type"], msg["parent_header"].get("msg_id"), msg["content"]))

    def of(self, msg_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(c, t, content) for c, t, p, content in self.seen if p == msg_id]

    def done(self, msg_id: str) -> bool:
        mine = self.of(msg_id)
        idle = any(t == "status" and c.get("execution_state") == "idle" for _, t, c in mine)
        return idle and any(t == "execute_reply" for _, t, _c in mine)

    def run(self, code: str) -> str:
        msg_id = self.kc.execute(code)
        self.pump(lambda: self.done(msg_id), f"the end of {code!r}")
        return msg_id

    def stdout(self, msg_id: str) -> str:
        return "".join(c.get("text", "") for _, t, c in self.of(msg_id) if t == "stream" and c.get("name") == "stdout")

    def index(self, msg_id: str, msg_type: str, state: str | None = None) -> int:
        """Where the first such iopub message arrived (shell and iopub are separate sockets: only iopub is ordered)."""
        return next(
            (
                i
                for i, (ch, t, p, c) in enumerate(self.seen)
                if ch == "iopub" and p == msg_id and t == msg_type and (state is None or c.get("execution_state") == state)
            ),
            -1,
        )


def start() -> tuple[KernelManager, Session]:
    km = KernelManager(kernel_name="llmspell-fleet")
    km.start_kernel()
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    kc.wait_for_ready(timeout=SETTLE)
    return km, Session(kc)


def run_all_status(s: Session) -> None:
    cell = s.kc.execute("%%llmspell runtime=flood\nhello")
    status = s.kc.execute("%llmspell status")
    s.pump(lambda: s.done(cell) and s.done(status), "the cell and the status")
    check("cell_ran_on_its_backend", "hello" in s.stdout(cell), s.of(cell))
    text = s.stdout(status)
    check("status_answered_after_the_cell_above", -1 < s.index(cell, "status", "idle") < s.index(status, "stream"), [x[:3] for x in s.seen])
    check("status_says_ready", "flood/openai: ready, backend " in text, text)


def busy(s: Session) -> None:
    s.run("1 + 1")
    ok, seen = poll_state("python", "ready")
    check("list_ready_before", ok, seen)
    release = os.path.join(TMP, f"release-{uuid.uuid4().hex}")
    cell = s.kc.execute(f"import os, time\nwhile not os.path.exists({release!r}):\n    time.sleep(0.02)\n'released'")
    ok, seen = poll_state("python", "busy")
    check("list_busy_during_cell", ok, seen)
    table = fleet_list(json_out=False)
    rows = [line for line in table.splitlines() if " python " in f" {line} "]
    check("list_table_says_busy", len(rows) == 1 and rows[0].split()[-1] == "busy", table)
    with open(release, "w"):
        pass
    s.pump(lambda: s.done(cell), "the long cell's end")
    result = [c for _, t, c in s.of(cell) if t == "execute_result"]
    check("cell_finished", bool(result) and result[0]["data"]["text/plain"] == "'released'", s.of(cell))
    ok, seen = poll_state("python", "ready")
    check("list_ready_after_cell", ok, seen)


def displays(s: Session, msg_id: str) -> list[tuple[str, str, str]]:
    return [(t, c["transient"]["display_id"], c["data"]["text/plain"]) for _, t, c in s.of(msg_id) if t in ("display_data", "update_display_data")]


def start_progress(s: Session) -> None:
    first = s.kc.execute("%%llmspell runtime=gated\nfirst")
    s.pump(lambda: len(displays(s, first)) >= 1, "the first cell's display")
    check("display_while_starting", displays(s, first)[0][0::2] == ("display_data", "starting gated/openai backend…"), displays(s, first))
    ok, seen = poll_state("gated", "starting")
    check("list_says_starting", ok, seen)
    open(GATE, "w").close()
    s.pump(lambda: s.done(first), "the first cell's end")
    shown = displays(s, first)
    check(
        "display_updated_with_the_start_time",
        len(shown) == 2 and shown[1][0] == "update_display_data" and shown[1][1] == shown[0][1] and shown[1][2].startswith("gated/openai backend started in "),
        shown,
    )
    check("update_before_the_result", -1 < s.index(first, "update_display_data") < s.index(first, "stream") < s.index(first, "status", "idle"), s.of(first))
    second = s.run("%%llmspell runtime=gated\nsecond")
    check("second_cell_shows_nothing", displays(s, second) == [] and "second" in s.stdout(second), s.of(second))
    status = s.run("%llmspell status")
    check("status_says_ready", "gated/openai: ready, backend " in s.stdout(status), s.stdout(status))

    os.kill(pid_of("gated"), signal.SIGKILL)
    ok, seen = poll_state("gated", "dead")
    check("list_says_dead", ok, seen)
    status = s.run("%llmspell status")
    check("status_says_dead", "gated/openai: dead" in s.stdout(status), s.stdout(status))

    third = s.kc.execute("%%llmspell runtime=gated\nthird")
    s.pump(lambda: len(displays(s, third)) >= 1, "the third cell's display")
    check("display_when_started_again", displays(s, third)[0][0::2] == ("display_data", "starting gated/openai backend…"), displays(s, third))
    ok, seen = poll_state("gated", "restarting")
    check("list_says_restarting", ok, seen)
    open(GATE, "w").close()
    s.pump(lambda: s.done(third), "the third cell's end")
    check("works_after_restart", "third" in s.stdout(third), s.of(third))
    ok, seen = poll_state("gated", "ready")
    check("list_ready_after_restart", ok, {"states": seen, "all": [(r["requirement"]["runtime"], r["state"]) for r in fleet_list()]})


SCENARIOS: dict[str, Callable[[Session], None]] = {"run-all-status": run_all_status, "busy": busy, "start-progress": start_progress}


def main() -> None:
    body = SCENARIOS[SCENARIO]
    km, s = start()
    try:
        body(s)
    except Exception as error:  # recorded, not raised: the JSON line is the result
        check("scenario_ran", False, "".join(traceback.format_exception(error))[-2000:])
    finally:
        s.kc.stop_channels()
        km.shutdown_kernel(now=False)
        check("kernel_shut_down", not km.is_alive())


main()
print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "scenario": SCENARIO, "checks": checks}))
