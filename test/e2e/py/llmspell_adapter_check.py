"""The built-in lua runtime (llmspell behind the adapter) through the real router, driven by jupyter_client.

Usage: python llmspell_adapter_check.py SCENARIO
Scenarios (see test/e2e/router-llmspell-adapter.test.ts for what each one proves):
  session    output, results, errors with tracebacks, status, execution counts, completion,
             is_complete; a second router shares the backend; llmspell's argv (first run: the
             openai profile, no config file); isolation (llmspell's tcp ports unreachable from the
             host, the adapter's file uses ipc); nothing left after both clients shut down
  interrupt  interrupt while a cell runs (default policy: notice, the cell finishes), then SIGINT
             to the adapter's process group: llmspell survives it
  restart    interrupt = "restart": the cell gets LlmspellInterrupted, the next runs on a new llmspell
  kill       SIGKILL to llmspell mid-cell: LlmspellDied, the next cell runs on a new llmspell

"llmspell" is test/fixtures/llmspell-double.mjs, first on PATH, run with LLMSPELL_DOUBLE_ANNOUNCE=1:
its "running <msg_id>" lines in the backend log say when a cell has reached it.
Environment: FLEET_NODE and FLEET_CLI (the built CLI), LLMSPELL_FLEET_HOME, the Jupyter isolation
variables. Progress goes to stderr; the last stdout line is one JSON object
    {"ok": bool, "scenario": NAME, "checks": {name: {"ok": bool, "detail": ...}}}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid
from typing import Any, Callable

from jupyter_client import KernelManager
from jupyter_core.paths import jupyter_runtime_dir

SCENARIO = sys.argv[1] if len(sys.argv) > 1 else ""
HOME = os.environ["LLMSPELL_FLEET_HOME"]
NODE = os.environ.get("FLEET_NODE", "node")
CLI = os.environ["FLEET_CLI"]
STEP_TIMEOUT = 60.0
RUNNING = "llmspell-double: running "
# Busy in the double for `seconds` of its own CPU time: a loaded machine only makes it longer.
BUSY_CELL = 'local t=os.clock() while os.clock()-t<{seconds} do end print("done")'

checks: dict[str, dict[str, Any]] = {}
T0 = time.monotonic()


def log(*args: Any) -> None:
    print(f"[llmspell_adapter_check {time.monotonic() - T0:7.2f}s]", *args, file=sys.stderr, flush=True)


def check(name: str, ok: bool, detail: Any = None) -> bool:
    if name in checks:
        raise RuntimeError(f"check {name} recorded twice")
    checks[name] = {"ok": bool(ok), "detail": detail}
    log(("ok  " if ok else "FAIL"), name, json.dumps(detail, default=str)[:400])
    return bool(ok)


def equal(name: str, actual: Any, expected: Any) -> bool:
    return check(name, actual == expected, {"actual": actual, "expected": expected})


def wait_until(cond: Callable[[], Any], timeout: float = STEP_TIMEOUT, step: float = 0.05) -> Any:
    """Polls a state that has no event of its own (a process, a log file); returns cond's last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


# ---------------------------------------------------------------------------------------
# Processes, files and the fleet CLI


def running(pid: int | None) -> bool:
    """True while pid runs; a zombie counts as gone."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def double_pids() -> list[int]:
    """The llmspell doubles of this test (their connection file is in this fleet home)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            argv = cmdline(int(entry))
            if any(a.endswith("llmspell-double.mjs") for a in argv) and any(HOME in a for a in argv):
                found.append(int(entry))
    return sorted(found)


def fleet_list() -> list[dict[str, Any]]:
    r = subprocess.run([NODE, CLI, "list", "--json"], capture_output=True, text=True, timeout=60, env=os.environ)
    if r.returncode != 0:
        raise RuntimeError(f"llmspell-fleet list failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


class Backend:
    """The one lua backend of this test: the adapter (the pid the fleet knows) and its llmspell."""

    def __init__(self) -> None:
        records = fleet_list()
        if len(records) != 1:
            raise RuntimeError(f"expected one backend, got {records}")
        self.record = records[0]
        self.kernel_id: str = self.record["kernelId"]
        self.adapter_pid: int = self.record["pid"]
        self.log_file = os.path.join(HOME, "logs", f"{self.kernel_id}.log")
        self.connection_file = os.path.join(HOME, "backends", f"{self.kernel_id}.json")
        self.llmspell_file = os.path.join(HOME, "backends", f"{self.kernel_id}-llmspell.json")

    def log_text(self) -> str:
        with open(self.log_file, encoding="utf-8", errors="replace") as f:
            return f.read()

    def cells_started(self) -> int:
        return self.log_text().count(RUNNING)

    def wait_cell_started(self, before: int) -> bool:
        """Waits until llmspell has started one more chunk than `before` (it announces each in the log)."""
        return bool(wait_until(lambda: self.cells_started() > before))

    def llmspell_pid(self) -> int | None:
        pids = wait_until(double_pids)
        return pids[0] if len(pids) == 1 else None


# ---------------------------------------------------------------------------------------
# Clients


class Client:
    """One KernelManager of the llmspell-fleet kernelspec (i.e. one router) and its client."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.km = KernelManager(
            kernel_name="llmspell-fleet",
            connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-{label}-{uuid.uuid4().hex}.json"),
        )
        self.km.shutdown_wait_time = 30.0
        self.kc: Any = None

    def start(self) -> "Client":
        t = time.monotonic()
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=STEP_TIMEOUT)
        log(f"{self.label}: router ready in {time.monotonic() - t:.2f} s")
        return self

    def send(self, code: str) -> str:
        return self.kc.execute(code, stop_on_error=False)

    def collect(self, msg_id: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        """Everything one request caused: its iopub up to idle, then its shell reply."""
        out: dict[str, Any] = {"stdout": "", "stderr": "", "results": [], "errors": [], "statuses": [], "inputs": [], "reply": None}
        deadline = time.monotonic() + timeout
        while not out["statuses"] or out["statuses"][-1] != "idle":
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{self.label}: no idle for {msg_id} within {timeout} s: {out}")
            m = self.kc.get_iopub_msg(timeout=remaining)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = m["msg_type"], m["content"]
            if t == "stream":
                out[c["name"]] += c["text"]
            elif t == "execute_result":
                out["results"].append(c)
            elif t == "error":
                out["errors"].append(c)
            elif t == "execute_input":
                out["inputs"].append(c)
            elif t == "status":
                out["statuses"].append(c["execution_state"])
        while out["reply"] is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{self.label}: no reply for {msg_id} within {timeout} s: {out}")
            r = self.kc.get_shell_msg(timeout=remaining)
            if r["parent_header"].get("msg_id") == msg_id:
                out["reply"] = r["content"]
        return out

    def execute(self, code: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        return self.collect(self.send(code), timeout)

    def request(self, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
        """A shell request other than execute: its reply and the statuses it caused."""
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        return self.collect(msg["header"]["msg_id"])

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=False)


def results_text(r: dict[str, Any]) -> list[str]:
    return [c["data"].get("text/plain") for c in r["results"]]


def stop_all(clients: list[Client]) -> None:
    for c in clients:
        try:
            c.shutdown()
        except Exception as e:  # noqa: BLE001 - the other clients must still be shut down
            log(f"shutdown of {c.label} failed: {e}")


def started(clients: list[Client], label: str) -> Client:
    c = Client(label)
    clients.append(c)
    return c.start()


def interrupted_cell(label: str, c: Client, backend: Backend, seconds: int, interrupt: Callable[[], None]) -> dict[str, Any]:
    """Runs BUSY_CELL, calls `interrupt` once llmspell runs it, and returns what the cell caused."""
    before = backend.cells_started()
    msg_id = c.send(BUSY_CELL.format(seconds=seconds))
    check(f"{label}_cell_reached_llmspell", backend.wait_cell_started(before), before)
    interrupt()
    return c.collect(msg_id)


# ---------------------------------------------------------------------------------------
# Scenarios


def scenario_session(clients: list[Client]) -> None:
    a = started(clients, "A")
    backend = Backend()
    info = a.kc.kernel_info(reply=True, timeout=STEP_TIMEOUT)["content"]
    equal("kernel_info_language_lua", info.get("language_info", {}).get("name"), "lua")

    # First run: no provider config, so the adapter writes a minimal one for openai; with no key in
    # the environment it configures no provider (llmspell would refuse to start) and says so.
    pid = backend.llmspell_pid()
    argv = cmdline(pid) if pid else []
    generated = argv[argv.index("--config") + 1] if "--config" in argv else ""
    check("llmspell_argv_generated_config", generated.endswith("-llmspell.toml") and "--profile" not in argv, argv)
    try:
        generated_text = open(generated).read() if generated else ""
    except OSError as error:
        generated_text = str(error)
    check("generated_config_has_no_provider_without_a_key", generated_text.startswith("# Written by llmspell-fleet") and "[providers" not in generated_text, generated_text)
    check("llmspell_argv_kernel_start_port_0", argv[argv.index("kernel"):argv.index("kernel") + 4] == ["kernel", "start", "--port", "0"] if "kernel" in argv else False, argv)
    check("backend_log_names_the_config", f"llmspell --config {generated} kernel start" in backend.log_text(), backend.log_file)

    cells: list[dict[str, Any]] = []

    def run(code: str) -> dict[str, Any]:
        r = a.execute(code)
        cells.append(r)
        return r

    r = run('print("hello from lua")')
    check("first_cell_says_no_api_key", "No API key for openai: set OPENAI_API_KEY" in r["stderr"], r["stderr"])
    equal("print_output", (r["stdout"], results_text(r), r["reply"]["status"]), ("hello from lua\n", [], "ok"))
    r = run('print("again")')
    equal("the_notice_is_said_once", (r["stdout"], r["stderr"]), ("again\n", ""))
    r = run("return 2+3")
    equal("return_result", (results_text(r), r["stdout"], r["reply"]["status"]), (["5"], "", "ok"))
    equal("result_execution_count", [c.get("execution_count") for c in r["results"]], [r["reply"]["execution_count"]])
    r = run("fleet_greeting = 'hi'\nfleet_number = 41")
    equal("assignment_shows_nothing", (r["stdout"], r["stderr"], results_text(r), r["errors"]), ("", "", [], []))
    r = run("return fleet_number + 1")
    equal("global_kept_between_cells", results_text(r), ["42"])

    r = run("local a = 1\nlocal b = = 2\nprint(a)")
    e = r["errors"][0] if r["errors"] else {}
    equal("syntax_error_reply", (r["reply"]["status"], r["reply"].get("ename")), ("error", "LuaSyntaxError"))
    equal("syntax_error_one_iopub_error", [x.get("ename") for x in r["errors"]], ["LuaSyntaxError"])
    check("syntax_error_names_the_cell_line_2", "line 2" in e.get("evalue", "") or ":2:" in e.get("evalue", ""), e)

    r = run("local function inner()\n  error('boom')\nend\nlocal function outer()\n  inner()\nend\nouter()")
    e = r["errors"][0] if r["errors"] else {}
    equal("runtime_error_reply", (r["reply"]["status"], r["reply"].get("ename")), ("error", "LuaRuntimeError"))
    check("runtime_error_evalue_boom", "boom" in e.get("evalue", ""), e)
    check("runtime_error_traceback_lines", len(e.get("traceback", [])) > 1 and any("inner" in line or ":2:" in line for line in e.get("traceback", [])), e.get("traceback"))
    check("no_engine_rs_anywhere", all("engine.rs" not in json.dumps(c) for c in cells), [c["errors"] for c in cells])
    r = run('print("still fine")')
    equal("runs_after_errors", r["stdout"], "still fine\n")

    equal("status_busy_idle_per_request", [c["statuses"] for c in cells], [["busy", "idle"]] * len(cells))
    counts = [c["reply"].get("execution_count") for c in cells]
    equal("execution_counts_1_2_3", counts, list(range(1, len(cells) + 1)))
    equal("execute_input_counts", [[i.get("execution_count") for i in c["inputs"]] for c in cells], [[n] for n in counts])

    r = a.request("complete_request", {"code": "pri", "cursor_pos": 3})
    matches = (r["reply"] or {}).get("matches", [])
    check("complete_pri_print", r["reply"]["status"] == "ok" and "print" in matches, r["reply"])
    equal("complete_status_busy_idle", r["statuses"], ["busy", "idle"])
    r = a.request("complete_request", {"code": "x = fleet_gr", "cursor_pos": 12})
    check("complete_global_from_earlier_cell", "fleet_greeting" in (r["reply"] or {}).get("matches", []), r["reply"])
    r = a.request("is_complete_request", {"code": "for i=1,3 do"})
    equal("is_complete_for_loop_incomplete", r["reply"].get("status"), "incomplete")
    r = a.request("is_complete_request", {"code": "for i=1,3 do print(i) end"})
    equal("is_complete_whole_loop_complete", r["reply"].get("status"), "complete")

    # A second router (a second client) gets the same llmspell: state set by one is read by the other.
    b = started(clients, "B")
    records = fleet_list()
    equal("one_backend_two_clients", [(x["kernelId"], x["clients"]) for x in records], [(backend.kernel_id, 2)])
    a.execute("fleet_shared = 'from A'")
    r = b.execute("print(fleet_shared)")
    equal("global_set_by_A_read_by_B", r["stdout"], "from A\n")
    b.execute("fleet_shared = fleet_shared .. ' and B'")
    r = a.execute("print(fleet_shared)")
    equal("global_changed_by_B_read_by_A", r["stdout"], "from A and B\n")
    equal("same_llmspell_all_along", double_pids(), [pid])

    # Isolation: llmspell's own ports are in its private network namespace.
    with open(backend.llmspell_file) as f:
        inner = json.load(f)
    with open(backend.connection_file) as f:
        outer = json.load(f)
    equal("adapter_connection_file_transport_ipc", outer.get("transport"), "ipc")
    check("adapter_ipc_sockets_in_backends_dir", str(outer.get("ip", "")).startswith(os.path.join(HOME, "backends") + os.sep), outer.get("ip"))
    equal("llmspell_connection_file_transport_tcp", (inner.get("transport"), inner.get("ip")), ("tcp", "127.0.0.1"))
    refused = {}
    for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", inner[name]))
            refused[name] = f"connected to {inner[name]}"
        except ConnectionRefusedError:
            refused[name] = "refused"
        finally:
            s.close()
    equal("llmspell_ports_refused_from_the_host", refused, {k: "refused" for k in refused})
    check("llmspell_in_another_network_namespace", pid is not None and os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net"), pid)
    r = a.execute("return 6*7")
    equal("client_works_through_the_router", results_text(r), ["42"])

    # Both clients leave; linger_seconds = 0 stops the adapter and llmspell.
    adapter = backend.adapter_pid
    for c in (a, b):
        c.shutdown()
        clients.remove(c)
    gone = wait_until(lambda: not running(adapter) and not double_pids())
    check("no_adapter_no_llmspell_after_shutdown", gone, {"adapter": running(adapter), "doubles": double_pids()})
    backends = os.path.join(HOME, "backends")
    left = wait_until(lambda: not [f for f in os.listdir(backends) if f.startswith(backend.kernel_id)])
    check("connection_files_and_ipc_sockets_removed", left, os.listdir(backends))


def scenario_interrupt(clients: list[Client]) -> None:
    a = started(clients, "A")
    backend = Backend()
    a.execute("fleet_before = 7")
    pid = backend.llmspell_pid()

    r = interrupted_cell("interrupt", a, backend, 3, a.km.interrupt_kernel)
    check("notice_in_the_cell", "cannot stop a running cell" in r["stderr"], r["stderr"])
    equal("cell_finishes_with_its_output", (r["stdout"], r["reply"]["status"], r["errors"]), ("done\n", "ok", []))
    equal("kernel_lives_state_kept", results_text(a.execute("return fleet_before")), ["7"])
    check("same_llmspell_after_interrupt", double_pids() == [pid] and running(pid), {"before": pid, "now": double_pids()})

    # SIGINT to the adapter's whole process group (a terminal's Ctrl-C, jupyter_client's signal
    # interrupt) is an interrupt for the adapter; llmspell, which would die of it, never gets it.
    adapter = backend.adapter_pid
    group = os.getpgid(adapter)
    check("adapter_leads_its_own_group", group == adapter and group != os.getpgid(0), {"adapter": adapter, "group": group})
    if group != adapter or group == os.getpgid(0):
        return
    r = interrupted_cell("sigint", a, backend, 3, lambda: os.killpg(group, signal.SIGINT))
    check("sigint_seen_by_the_adapter_as_interrupt", "cannot stop a running cell" in r["stderr"], r["stderr"])
    equal("cell_finishes_after_sigint", (r["stdout"], r["reply"]["status"], r["errors"]), ("done\n", "ok", []))
    check("llmspell_survives_sigint", double_pids() == [pid] and running(pid), {"before": pid, "now": double_pids()})
    check("adapter_survives_sigint", running(adapter), adapter)
    equal("state_kept_after_sigint", results_text(a.execute("return fleet_before")), ["7"])


def scenario_restart(clients: list[Client]) -> None:
    a = started(clients, "A")
    backend = Backend()
    a.execute("fleet_before = 7")
    old = backend.llmspell_pid()
    # Long enough that only the restart can end it.
    r = interrupted_cell("restart", a, backend, 600, a.km.interrupt_kernel)
    check("notice_says_restart", "will be restarted" in r["stderr"], r["stderr"])
    equal("cell_error_reply", (r["reply"]["status"], r["reply"].get("ename")), ("error", "LlmspellInterrupted"))
    equal("cell_iopub_error", [e.get("ename") for e in r["errors"]], ["LlmspellInterrupted"])
    check("cell_output_not_shown", "done" not in r["stdout"], r["stdout"])
    r = a.execute("print(tostring(fleet_before))")
    equal("next_cell_runs_on_a_new_llmspell", (r["stdout"], r["reply"]["status"]), ("nil\n", "ok"))
    check("next_cell_says_llmspell_restarted", "llmspell restarted" in r["stderr"], r["stderr"])
    new = backend.llmspell_pid()
    old_gone = wait_until(lambda: not running(old))
    check("old_llmspell_gone_new_one_runs", old_gone and new is not None and new != old, {"old": old, "new": new})
    r = a.execute("print('once')")
    equal("notice_only_once", (r["stdout"], r["stderr"]), ("once\n", ""))


def scenario_kill(clients: list[Client]) -> None:
    a = started(clients, "A")
    backend = Backend()
    a.execute("fleet_before = 7")
    old = backend.llmspell_pid()
    r = interrupted_cell("kill", a, backend, 600, lambda: os.kill(old, signal.SIGKILL) if old else None)
    equal("cell_error_reply", (r["reply"]["status"], r["reply"].get("ename")), ("error", "LlmspellDied"))
    equal("cell_iopub_error", [e.get("ename") for e in r["errors"]], ["LlmspellDied"])
    r = a.execute('print("after", tostring(fleet_before))')
    equal("next_cell_works_on_a_new_llmspell", (r["stdout"], r["reply"]["status"]), ("after\tnil\n", "ok"))
    check("next_cell_says_llmspell_restarted", "llmspell restarted" in r["stderr"], r["stderr"])
    new = backend.llmspell_pid()
    check("new_llmspell", new is not None and new != old, {"old": old, "new": new})


SCENARIOS: dict[str, Callable[[list[Client]], None]] = {
    "session": scenario_session,
    "interrupt": scenario_interrupt,
    "restart": scenario_restart,
    "kill": scenario_kill,
}


def main() -> int:
    fn = SCENARIOS.get(SCENARIO)
    if fn is None:
        raise SystemExit(f"unknown scenario {SCENARIO!r}; one of {sorted(SCENARIOS)}")
    clients: list[Client] = []
    try:
        fn(clients)
    except Exception as e:  # noqa: BLE001 - reported as a failed check with its traceback
        check("scenario_ran_to_the_end", False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    finally:
        stop_all(clients)
    ok = bool(checks) and all(c["ok"] for c in checks.values())
    print(json.dumps({"ok": ok, "scenario": SCENARIO, "checks": checks}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
