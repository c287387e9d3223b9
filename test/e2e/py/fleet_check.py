"""Fleet scenarios driven through jupyter_client against the real llmspell-fleet router.

Usage: python fleet_check.py SCENARIO
Scenarios (see test/e2e/fleet-routing.test.ts for what each one proves):
  share         two routers, one requirement: one backend, shared state, `%llmspell status`
  interrupts    a client's interrupt reaches the shared backend, its shutdown spares another's cell
  providers     lua/openai vs lua/anthropic (llmspell stand-in): two processes, provider env,
                llmspell's launch contract (--port 0, no --daemon)
  routing       each requirement source routes as specified, and their precedence
  many          N routers (FLEET_ROUTERS, default 20) started at once: exactly one backend
  manager-kill  SIGKILL to the manager while two routers are attached
  router-kill   SIGKILL to one of two routers: the manager drops its attachment, linger still works
  manager-backend-kill  the manager and the shared backend die together: routers recover
  linger0       linger_seconds = 0: the backend stops when its last router leaves
  linger2       a router arriving while a backend lingers gets it; a 2 s linger then stops one
  restart       a restart by one client of a shared backend, seen by the other

Environment: FLEET_NODE and FLEET_CLI (how to run the built CLI), FLEET_DIR (the test's temp
dir), LLMSPELL_FLEET_HOME, and the Jupyter isolation variables.
Progress goes to stderr; the last stdout line is one JSON object
    {"ok": bool, "scenario": NAME, "checks": {name: {"ok": bool, "detail": ...}}, ...extra}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from typing import Any, Callable

from jupyter_client import KernelManager

SCENARIO = sys.argv[1] if len(sys.argv) > 1 else ""
FLEET = "llmspell-fleet"
FLEET_JS = "llmspell-fleet-javascript-openai"
FLEET_LUA_ANTHROPIC = "llmspell-fleet-lua-anthropic"
HOME = os.environ["LLMSPELL_FLEET_HOME"]
TMP = os.environ["FLEET_DIR"]
NODE = os.environ.get("FLEET_NODE", "node")
CLI = os.environ["FLEET_CLI"]
STEP_TIMEOUT = 60.0
# How long a state (a process gone, a listing) may take to settle on a busy machine; the polls
# return as soon as it holds, so this bounds only a failing run.
SETTLE = 60.0
# `1 == 1` is valid in both languages and names the one that evaluated it.
PROBE = "1 == 1"
LANGUAGE_OF = {"True": "python", "true": "javascript"}

checks: dict[str, dict[str, Any]] = {}
extra: dict[str, Any] = {}
T0 = time.monotonic()


def log(*args: Any) -> None:
    print(f"[fleet_check {time.monotonic() - T0:7.2f}s]", *args, file=sys.stderr, flush=True)


def check(name: str, ok: bool, detail: Any = None) -> bool:
    if name in checks:
        raise RuntimeError(f"check {name} recorded twice")
    checks[name] = {"ok": bool(ok), "detail": detail}
    log(("ok  " if ok else "FAIL"), name, json.dumps(detail, default=str)[:300])
    return bool(ok)


def equal(name: str, actual: Any, expected: Any) -> bool:
    return check(name, actual == expected, {"actual": actual, "expected": expected})


# ---------------------------------------------------------------------------------------
# Processes and the fleet CLI


def running(pid: int | None) -> bool:
    """True while pid runs; a zombie counts as gone (its parent may be dead and never reap it)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    state = stat[stat.rindex(")") + 2]
    return state not in ("Z", "X")


def wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def fleet_list() -> list[dict[str, Any]]:
    """`llmspell-fleet list --json` (starts a manager if none runs, as any CLI command does)."""
    r = subprocess.run([NODE, CLI, "list", "--json"], capture_output=True, text=True, timeout=60, env=os.environ)
    if r.returncode != 0:
        raise RuntimeError(f"llmspell-fleet list failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def brief(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "kernelId": r["kernelId"],
            "pid": r["pid"],
            "runtime": r["requirement"]["runtime"],
            "provider": r["requirement"]["provider"],
            "clients": r["clients"],
            "state": r["state"],
        }
        for r in records
    ]


def poll_list(cond: Callable[[list[dict[str, Any]]], bool], timeout: float) -> tuple[bool, list[dict[str, Any]]]:
    """Polls `list` until cond holds; returns (held, last listing)."""
    deadline = time.monotonic() + timeout
    while True:
        records = fleet_list()
        if cond(records) or time.monotonic() >= deadline:
            return cond(records), records
        time.sleep(0.1)


def read_proc(pid: str, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def manager_pids() -> list[int]:
    """Fleet manager processes of this test's home (argv `... main.js manager`, env LLMSPELL_FLEET_HOME)."""
    needle = f"LLMSPELL_FLEET_HOME={HOME}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = read_proc(entry, "cmdline").split(b"\0")
        if b"manager" not in argv or not any(a.endswith(b"main.js") for a in argv):
            continue
        if needle in read_proc(entry, "environ").split(b"\0"):
            found.append(int(entry))
    return sorted(found)


def standin_pids() -> list[int]:
    """Stand-in backend processes of this test (their connection file is under TMP)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            cmd = read_proc(entry, "cmdline")
            if b"llmspell-standin.mjs" in cmd and TMP.encode() in cmd:
                found.append(int(entry))
    return sorted(found)


# ---------------------------------------------------------------------------------------
# Clients


def shown(r: dict[str, Any]) -> str | None:
    if r["result"] is not None:
        return r["result"]
    return r["stdout"].strip() if r["stdout"] and not r["error"] else None


def language_of(r: dict[str, Any]) -> Any:
    return LANGUAGE_OF.get(shown(r) or "", {"result": r["result"], "stdout": r["stdout"], "error": r["error"], "stderr": r["stderr"]})


class Client:
    """One KernelManager of an llmspell-fleet kernel (i.e. one router) and its client."""

    def __init__(self, label: str, kernel: str = FLEET, **start: Any) -> None:
        self.label = label
        self.km = KernelManager(kernel_name=kernel)
        self.km.shutdown_wait_time = 30.0
        self.start_args = start
        self.kc: Any = None
        # iopub messages that did not belong to a request this client waited for
        self.other_iopub: list[dict[str, Any]] = []
        # messages collect() reads before iopub (taken off it while waiting for a cell to start)
        self.replay: list[dict[str, Any]] = []

    def launch(self) -> "Client":
        self.km.start_kernel(**self.start_args)
        return self

    def connect(self, timeout: float = STEP_TIMEOUT) -> "Client":
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)
        return self

    def start(self) -> "Client":
        t = time.monotonic()
        self.launch().connect()
        log(f"{self.label}: router {self.router_pid} ready in {time.monotonic() - t:.2f} s")
        return self

    @property
    def router_pid(self) -> int:
        return self.km.provisioner.process.pid  # type: ignore[union-attr]

    def execute(self, code: str, metadata: dict[str, Any] | None = None, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        """Sends one execute_request (with message metadata), collects its iopub until idle and its reply."""
        return self.collect(self.send(code, metadata), timeout)

    def send(self, code: str, metadata: dict[str, Any] | None = None) -> str:
        """Sends an execute_request built by hand (jupyter_client's execute() takes no metadata)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.kc.session.msg("execute_request", content, metadata=metadata or {})
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def collect(self, msg_id: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        """The outputs of one request: its iopub until idle (others kept in other_iopub), then its reply."""
        out: dict[str, Any] = {"stdout": "", "stderr": "", "result": None, "error": None, "inputs": [], "reply": None}
        deadline = time.monotonic() + timeout
        idle = False
        while not idle and time.monotonic() < deadline:
            if self.replay:
                m = self.replay.pop(0)
            else:
                try:
                    m = self.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
                except Exception:  # noqa: BLE001 - queue.Empty: reported below as a missing idle
                    break
            if m["parent_header"].get("msg_id") != msg_id:
                self.other_iopub.append(m)
                continue
            t, c = m["msg_type"], m["content"]
            if t == "stream":
                out[c["name"]] += c["text"]
            elif t == "execute_result":
                out["result"] = c["data"].get("text/plain")
            elif t == "error":
                out["error"] = f"{c.get('ename')}: {c.get('evalue')}"
            elif t == "execute_input":
                out["inputs"].append(c["code"])
            elif t == "status" and c["execution_state"] == "idle":
                idle = True
        while out["reply"] is None and time.monotonic() < deadline:
            try:
                r = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001
                break
            if r["parent_header"].get("msg_id") == msg_id:
                out["reply"] = r["content"]
        out["idle"] = idle
        return out

    def value(self, code: str, metadata: dict[str, Any] | None = None) -> Any:
        """The cell's value: ipykernel sends an execute_result, tslab --js prints it on stdout."""
        r = self.execute(code, metadata)
        v = shown(r)
        return v if v is not None else {"error": r["error"], "stderr": r["stderr"], "reply": r["reply"]}

    def language(self, code: str = PROBE, metadata: dict[str, Any] | None = None) -> Any:
        """Which backend ran the cell: the probe's value is True in Python and true in JavaScript."""
        r = self.execute(code, metadata)
        return language_of(r)

    def pid(self) -> int | None:
        """The pid of the (python) backend that runs this client's cells."""
        v = self.value("import os; os.getpid()")
        return int(v) if isinstance(v, str) and v.isdigit() else None

    def kernel_info(self) -> dict[str, Any]:
        return self.kc.kernel_info(reply=True, timeout=STEP_TIMEOUT)["content"]

    def drain_iopub(self, until: Callable[[dict[str, Any]], bool], timeout: float) -> bool:
        """Reads iopub (keeping everything in other_iopub) until a message satisfies `until`."""
        if any(until(m) for m in self.other_iopub):
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = self.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001
                return False
            self.other_iopub.append(m)
            if until(m):
                return True
        return False

    def shutdown(self) -> None:
        """What a notebook's "shut down kernel" does: shutdown_request, wait for the router to exit."""
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km.has_kernel:
            t = time.monotonic()
            self.km.shutdown_kernel(now=False)
            log(f"{self.label}: shut down in {time.monotonic() - t:.2f} s")


def started(clients: list[Client], client: Client) -> Client:
    """Registers the client for stop_all before starting it, so a failed start leaves no router behind."""
    clients.append(client)
    return client.start()


def stop_all(clients: list[Client]) -> None:
    """Shut every router down at the same time (request, then wait), never raising."""
    for c in clients:
        try:
            if c.kc is not None:
                c.kc.stop_channels()
            if c.km.has_kernel:
                c.km.request_shutdown()
        except Exception as e:  # noqa: BLE001
            log(f"shutdown request to {c.label} failed: {e}")
    for c in clients:
        try:
            if c.km.has_kernel:
                c.km.finish_shutdown(waittime=30)
                c.km.cleanup_resources()
        except Exception as e:  # noqa: BLE001
            log(f"shutdown of {c.label} failed: {e}")


# ---------------------------------------------------------------------------------------
# Scenarios


def scenario_share(clients: list[Client]) -> None:
    a = started(clients, Client("A"))
    b = started(clients, Client("B"))
    a.execute("shared_x = 41")
    equal("variable_set_by_A_read_by_B", b.value("shared_x + 1"), "42")
    pa, pb = a.pid(), b.pid()
    check("same_backend_pid", pa is not None and pa == pb, {"A": pa, "B": pb})
    for c in (a, b):
        status = c.execute("%llmspell status")
        check(f"status_{c.label}_shared_by_2", "shared by 2 clients" in status["stdout"], status["stdout"])
        check(f"status_{c.label}_names_pid", f"pid {pa}" in status["stdout"], status["stdout"])
    records = fleet_list()
    check(
        "list_one_backend_2_clients",
        [(r["pid"], r["clients"], r["requirement"]["runtime"]) for r in records] == [(pa, 2, "python")],
        brief(records),
    )
    # A leaves: B keeps the backend and its state.
    a.shutdown()
    check("A_router_exited", not a.km.is_alive())
    check("backend_alive_after_A_left", running(pa), pa)
    equal("B_still_sees_state", b.value("shared_x"), "41")
    ok, records = poll_list(lambda rs: [r["clients"] for r in rs] == [1], SETTLE)
    check("list_1_client_after_A_left", ok, brief(records))
    b.shutdown()
    t = time.monotonic()
    check("backend_stopped_after_last_client", wait_until(lambda: not running(pa), SETTLE), {"pid": pa, "seconds": round(time.monotonic() - t, 2)})


def started_running(c: Client, msg_id: str) -> bool:
    """Waits until the backend has taken the cell (its execute_input is on iopub)."""
    seen = c.drain_iopub(lambda m: m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input", STEP_TIMEOUT)
    # collect() reads the cell's messages from iopub again: put back what drain_iopub took
    taken = [m for m in c.other_iopub if m["parent_header"].get("msg_id") == msg_id]
    c.other_iopub = [m for m in c.other_iopub if m["parent_header"].get("msg_id") != msg_id]
    c.replay = taken
    return seen


def scenario_interrupts(clients: list[Client]) -> None:
    """A client's interrupt reaches the shared backend; a client's shutdown never interrupts another's cell."""
    a = started(clients, Client("A"))
    b = started(clients, Client("B"))
    pa = a.pid()
    check("shared_backend", pa is not None and pa == b.pid(), pa)
    # A interrupts its own long cell on the shared backend (kernelspec interrupt_mode "message").
    # (the cell outlasts the wait: only the interrupt can end it in time)
    cell = a.send("import time; time.sleep(600)")
    check("A_cell_running", started_running(a, cell))
    t = time.monotonic()
    a.km.interrupt_kernel()
    r = a.collect(cell, timeout=STEP_TIMEOUT)
    check("A_interrupt_reaches_the_shared_backend", (r["error"] or "").startswith("KeyboardInterrupt"), {"error": r["error"], "seconds": round(time.monotonic() - t, 2)})
    # B runs a cell while A's notebook is shut down. jupyter_client's shutdown_kernel() sends an
    # interrupt before the shutdown_request; for a shared backend that interrupt must not stop
    # B's cell (A had nothing running, and shutting A down only detaches A).
    # B's cell runs until A's shutdown is over (a file says so), however long that shutdown takes.
    a_gone = os.path.join(TMP, "interrupts-A-shut-down")
    cell = b.send(f"import os, time\nwhile not os.path.exists({a_gone!r}): time.sleep(0.05)\n'slept'")
    check("B_cell_running", started_running(b, cell))
    try:
        a.shutdown()
        clients.remove(a)
    finally:
        open(a_gone, "w").close()
    r = b.collect(cell)
    equal("B_cell_not_interrupted_by_A_shutdown", (r["result"], r["error"]), ("'slept'", None))
    equal("B_keeps_working", b.value("6 * 7"), "42")
    b.shutdown()
    clients.remove(b)
    check("backend_stopped", wait_until(lambda: not running(pa), SETTLE), pa)


def standin(c: Client) -> dict[str, Any]:
    info = c.kernel_info()
    s = info.get("standin") or {}
    return {"implementation": info.get("implementation"), "language": info.get("language_info", {}).get("name"), **s}


def flag_value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def scenario_providers(clients: list[Client]) -> None:
    # One through router argv appended by the client (jupyter console --kernel llmspell-fleet -- ...),
    # one through an alias kernelspec that pins lua/anthropic.
    openai = started(clients, Client("openai", FLEET, extra_arguments=["--runtime", "lua", "--provider", "openai"]))
    anthropic = started(clients, Client("anthropic", FLEET_LUA_ANTHROPIC))
    so, sa = standin(openai), standin(anthropic)
    extra["standin"] = {"openai": so, "anthropic": sa}
    for label, s, provider in (("openai", so, "openai"), ("anthropic", sa, "anthropic")):
        argv = s.get("argv") or []
        equal(f"{label}_is_the_standin", (s.get("implementation"), s.get("language")), ("llmspell-standin", "lua"))
        equal(f"{label}_provider_env", s.get("provider"), provider)
        equal(f"{label}_port_0", flag_value(argv, "--port"), "0")
        check(f"{label}_no_daemon", "--daemon" not in argv, argv)
        check(f"{label}_kernel_start", argv[:2] == ["kernel", "start"], argv)
        check(f"{label}_id", (flag_value(argv, "--id") or "").startswith(f"lua-{provider}-"), flag_value(argv, "--id"))
        conn = flag_value(argv, "--connection-file") or ""
        check(f"{label}_connection_file_in_fleet_home", conn.startswith(os.path.join(HOME, "backends") + os.sep), conn)
    check("different_processes", so.get("pid") and sa.get("pid") and so["pid"] != sa["pid"], {"openai": so.get("pid"), "anthropic": sa.get("pid")})
    r = openai.execute('print("hi")')
    equal("relays_execute", (r["stdout"], (r["reply"] or {}).get("status")), ('print("hi")', "ok"))
    # A second client of lua/openai shares the stand-in ...
    second = started(clients, Client("openai-2", FLEET, extra_arguments=["--runtime", "lua", "--provider", "openai"]))
    equal("second_openai_client_shares_the_process", standin(second).get("pid"), so.get("pid"))
    records = fleet_list()
    listed = sorted((r["requirement"]["provider"], r["pid"], r["clients"]) for r in records)
    equal("list_two_backends", listed, sorted([("anthropic", sa.get("pid"), 1), ("openai", so.get("pid"), 2)]))
    # ... and keeps it when the first one shuts its kernel down the way notebooks do
    # (jupyter_client: interrupt, then shutdown_request). The stand-in, like llmspell, has no
    # SIGINT handler: a signal-mode interrupt of the idle shared backend kills it.
    openai.shutdown()
    clients.remove(openai)
    check("standin_survives_other_client_shutdown", running(so.get("pid")), so.get("pid"))
    r = second.execute('print("still")')
    equal("second_openai_client_keeps_working", (r["stdout"], (r["reply"] or {}).get("status")), ('print("still")', "ok"))
    stop_all(clients)
    clients.clear()
    check("both_stopped", wait_until(lambda: not running(so.get("pid")) and not running(sa.get("pid")), SETTLE), [so.get("pid"), sa.get("pid")])


def write_notebook(path: str, runtime: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    nb = {
        "cells": [],
        "metadata": {"llmspell": {"runtime": runtime}, "kernelspec": {"name": FLEET, "display_name": "LLMSpell Fleet"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    with open(path, "w") as f:
        json.dump(nb, f)


def launch_source_check(clients: list[Client], name: str, client: Client, js_pid: Any) -> None:
    """A router whose launch-time requirement says javascript: its default slot is the shared tslab."""
    started(clients, client)
    info = client.kernel_info()
    equal(f"{name}_kernel_info_language", info.get("language_info", {}).get("name"), "javascript")
    equal(f"{name}_routes_to_javascript", client.language(), "javascript")
    equal(f"{name}_shares_the_javascript_backend", client.value("process.pid"), js_pid)
    client.shutdown()
    clients.remove(client)


def scenario_routing(clients: list[Client]) -> None:
    env = dict(os.environ)
    for k in ("LLMSPELL_RUNTIME", "KERNEL_LLMSPELL_RUNTIME", "LLMSPELL_PROVIDER", "KERNEL_LLMSPELL_PROVIDER", "JPY_SESSION_NAME"):
        env.pop(k, None)
    # The anchor session holds both backends for the whole scenario, so that every router below
    # attaches to running ones (linger 0 would stop them between routers).
    main = started(clients, Client("main", FLEET, env=env))
    equal("default_from_config_is_python", main.language(), "python")

    js = {"llmspell": {"runtime": "javascript"}}
    equal("message_metadata_llmspell", main.language(metadata=js), "javascript")
    js_pid = main.value("process.pid", metadata=js)
    extra["javascript_pid"] = js_pid
    equal("message_metadata_flat_key", main.language(metadata={"llmspell_runtime": "javascript"}), "javascript")
    equal("message_metadata_cell_tag", main.language(metadata={"tags": ["parameters", "llmspell:runtime=javascript"]}), "javascript")
    nb = os.path.join(TMP, "notebooks", "cell id.ipynb")
    write_notebook(nb, "javascript")
    cell_id = "vscode-notebook-cell:" + nb.replace(" ", "%20") + "#W1sZmlsZQ%3D%3D"
    equal("vscode_cellid_notebook_metadata", main.language(metadata={"cellId": cell_id}), "javascript")
    equal("after_metadata_default_still_python", main.language(), "python")

    # The cell directive: that cell only, and the backend never sees the directive line. tslab
    # would fail on it with a SyntaxError, ipykernel with "cell magic not found"; ipykernel
    # reports the code it got (execute_input), the stand-in echoes it verbatim.
    r = main.execute("%%llmspell runtime=javascript\n" + PROBE)
    equal("directive_routes_to_javascript", (language_of(r), r["error"]), ("javascript", None))
    r = main.execute("%%llmspell runtime=python provider=openai\n" + PROBE)
    equal("directive_routes_to_python", (language_of(r), r["error"]), ("python", None))
    check("directive_stripped_for_python", r["inputs"] != [] and all("%%llmspell" not in i for i in r["inputs"]), r["inputs"])
    r = main.execute('%%llmspell runtime=lua provider=anthropic\nprint("cell")')
    equal("directive_stripped_for_lua_standin", r["stdout"], '\nprint("cell")')
    equal("directive_applies_to_its_cell_only", main.language(), "python")

    # The sticky magic, and the precedence above it.
    use = main.execute("%llmspell use javascript")
    check("magic_use_javascript_ok", (use["reply"] or {}).get("status") == "ok" and "javascript" in use["stdout"], use["stdout"] or use["error"])
    equal("magic_use_routes_later_cells", [main.language(), main.language()], ["javascript", "javascript"])
    equal("metadata_beats_sticky", main.language(metadata={"llmspell": {"runtime": "python"}}), "python")
    equal("directive_beats_metadata", main.language("%%llmspell runtime=javascript\n" + PROBE, {"llmspell": {"runtime": "python"}}), "javascript")
    status = main.execute("%llmspell status")
    check("status_names_the_sticky_choice", "This session: javascript/openai" in status["stdout"], status["stdout"])
    use = main.execute("%llmspell use python")
    check("magic_use_python_ok", (use["reply"] or {}).get("status") == "ok", use["stdout"] or use["error"])
    equal("magic_use_python_routes_back", main.language(), "python")
    bad = main.execute("%%llmspell runtime=lua,\n" + PROBE)
    check("bad_directive_refused", (bad["reply"] or {}).get("status") == "error" and bad["inputs"] == [], {"reply": bad["reply"], "inputs": bad["inputs"]})

    # Router argv from an alias kernelspec, and the precedence chain above it.
    argv = Client("argv", FLEET_JS, env=env)
    launch_source_check(clients, "argv_alias_kernelspec", argv, js_pid)
    chain = started(clients, Client("chain", FLEET_JS, env=env))
    equal("chain_argv", chain.language(), "javascript")
    chain.execute("%llmspell use python")
    equal("chain_sticky_beats_argv", chain.language(), "python")
    equal("chain_metadata_beats_sticky", chain.language(metadata=js), "javascript")
    equal("chain_directive_beats_metadata", chain.language("%%llmspell runtime=python\n" + PROBE, js), "python")
    chain.shutdown()
    clients.remove(chain)

    # Launch-time sources of a plain llmspell-fleet kernel.
    session_nb = os.path.join(TMP, "notebooks", "session.ipynb")
    write_notebook(session_nb, "javascript")
    launch_source_check(clients, "jpy_session_name_notebook", Client("notebook", FLEET, env={**env, "JPY_SESSION_NAME": session_nb}), js_pid)
    launch_source_check(clients, "env_LLMSPELL_RUNTIME", Client("env", FLEET, env={**env, "LLMSPELL_RUNTIME": "javascript"}), js_pid)
    launch_source_check(clients, "env_KERNEL_LLMSPELL_RUNTIME", Client("kenv", FLEET, env={**env, "KERNEL_LLMSPELL_RUNTIME": "javascript"}), js_pid)
    project = os.path.join(TMP, "project")
    deeper = os.path.join(project, "src", "deeper")
    os.makedirs(deeper, exist_ok=True)
    with open(os.path.join(project, "llmspell-fleet.toml"), "w") as f:
        f.write('runtime = "javascript"\n')
    launch_source_check(clients, "project_file_walking_up_from_cwd", Client("project", FLEET, env=env, cwd=deeper), js_pid)

    records = fleet_list()
    listed = sorted((r["requirement"]["runtime"], r["clients"]) for r in records)
    equal("only_three_backends_all_along", listed, [("javascript", 1), ("lua", 1), ("python", 1)])
    pids = [r["pid"] for r in records]
    main.shutdown()
    clients.remove(main)
    check("both_backends_stopped", wait_until(lambda: not any(running(p) for p in pids), SETTLE), pids)


def scenario_many(clients: list[Client]) -> None:
    n = int(os.environ.get("FLEET_ROUTERS", "20"))
    fleet = [Client(f"r{i}", FLEET, extra_arguments=["--runtime", "lua"]) for i in range(n)]
    clients.extend(fleet)
    t = time.monotonic()
    for c in fleet:
        c.launch()
    launched = time.monotonic() - t
    for c in fleet:
        c.connect(timeout=90)
    ready = time.monotonic() - t
    pids = sorted({standin(c).get("pid") for c in fleet})
    extra["timing"] = {"routers": n, "launch_seconds": round(launched, 2), "all_ready_seconds": round(ready, 2)}
    log(f"{n} routers launched in {launched:.2f} s, all ready after {ready:.2f} s")
    check("one_backend_pid", len(pids) == 1 and pids[0] is not None, pids)
    records = fleet_list()
    check("list_one_backend_with_all_clients", [(r["pid"], r["clients"]) for r in records] == [(pids[0], n)], brief(records))
    check("one_standin_process", standin_pids() == pids, {"processes": standin_pids(), "answered": pids})
    # All 20 execute at once on the shared backend: every client gets its own reply and output.
    t = time.monotonic()
    sent = [(c, f"cell of {c.label}", c.send(f"cell of {c.label}")) for c in fleet]
    results = [(c, code, c.collect(msg_id, timeout=60)) for c, code, msg_id in sent]
    extra["timing"]["concurrent_execute_seconds"] = round(time.monotonic() - t, 2)
    wrong = {
        c.label: {"reply": (r["reply"] or {}).get("status"), "result": r["result"], "idle": r["idle"]}
        for c, code, r in results
        if (r["reply"] or {}).get("status") != "ok" or r["result"] != code or not r["idle"]
    }
    check("concurrent_executes_each_answered_with_own_output", not wrong, wrong)
    t = time.monotonic()
    stop_all(clients)
    extra["timing"]["shutdown_seconds"] = round(time.monotonic() - t, 2)
    check("routers_exited", not any(c.km.is_alive() for c in fleet))
    check("backend_stopped", wait_until(lambda: not running(pids[0]), SETTLE), pids)
    clients.clear()


def scenario_manager_kill(clients: list[Client]) -> None:
    a = started(clients, Client("A"))
    b = started(clients, Client("B"))
    a.execute("kept = 'state'")
    pa, pb = a.pid(), b.pid()
    check("shared_backend", pa is not None and pa == pb, {"A": pa, "B": pb})
    managers = manager_pids()
    check("one_manager", len(managers) == 1, managers)
    old = managers[0]
    os.kill(old, signal.SIGKILL)
    check("manager_killed", wait_until(lambda: not running(old), SETTLE), old)
    check("backend_survives", running(pa), pa)
    # The data path never goes through the manager: both sessions keep working, state kept.
    equal("A_works_without_manager", a.value("kept"), "'state'")
    equal("B_works_without_manager", b.value("kept + '!'"), "'state!'")
    # The routers reconnect (autostarting a new manager), which adopts the backend; they re-attach.
    t = time.monotonic()
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pa, 2)], SETTLE)
    check("new_manager_adopted_backend_with_both_routers", ok, {"records": brief(records), "seconds": round(time.monotonic() - t, 2)})
    managers = manager_pids()
    check("one_new_manager", len(managers) == 1 and managers[0] != old, {"old": old, "now": managers})
    equal("A_still_works", a.value("kept"), "'state'")
    equal("B_still_works", b.value("kept"), "'state'")
    stop_all(clients)
    clients.clear()
    t = time.monotonic()
    check("backend_stopped_after_both_left", wait_until(lambda: not running(pa), SETTLE), {"pid": pa, "seconds": round(time.monotonic() - t, 2)})
    ok, records = poll_list(lambda rs: rs == [], SETTLE)
    check("list_empty", ok, brief(records))


def scenario_router_kill(clients: list[Client]) -> None:
    """A router dies without a word: its lease (the manager connection) is how the manager knows."""
    a = started(clients, Client("A"))
    b = started(clients, Client("B"))
    b.execute("kept = 'state'")
    pa, pb = a.pid(), b.pid()
    check("shared_backend", pa is not None and pa == pb, {"A": pa, "B": pb})
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pa, 2)], SETTLE)
    check("two_clients_listed", ok, brief(records))
    rpid = a.router_pid
    a.kc.stop_channels()
    os.kill(rpid, signal.SIGKILL)
    check("router_killed", wait_until(lambda: not running(rpid), SETTLE), rpid)
    clients.remove(a)
    a.km.cleanup_resources()
    t = time.monotonic()
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pa, 1)], SETTLE)
    extra["attachment_dropped_seconds"] = round(time.monotonic() - t, 2)
    check("manager_dropped_the_dead_routers_attachment", ok, brief(records))
    check("backend_survives_for_the_other", running(pa), pa)
    equal("B_still_works", b.value("kept"), "'state'")
    # linger 0: the backend stops once the last (live) router leaves.
    stop_all(clients)
    clients.clear()
    check("backend_stopped_after_last_left", wait_until(lambda: not running(pa), SETTLE), pa)
    ok, records = poll_list(lambda rs: rs == [], SETTLE)
    check("list_empty", ok, brief(records))


# The linger scenarios use ipykernel: an idle ipykernel shrugs off the SIGINT that jupyter_client's
# shutdown_kernel() makes the router send (see "providers"), so only the linger can stop it.


def scenario_manager_backend_kill(clients: list[Client]) -> None:
    """The backend dies while no manager runs: routers must notice, not hang."""
    a = started(clients, Client("A", FLEET, extra_arguments=["--runtime", "lua"]))
    b = started(clients, Client("B", FLEET, extra_arguments=["--runtime", "lua"]))
    old = standin(a).get("pid")
    equal("shared_standin", standin(b).get("pid"), old)
    managers = manager_pids()
    check("one_manager", len(managers) == 1, managers)
    os.kill(managers[0], signal.SIGKILL)
    os.kill(old, signal.SIGKILL)
    check("both_killed", wait_until(lambda: not running(managers[0]) and not running(old), SETTLE), [managers[0], old])
    # Each router must tell its client and get a new backend for the next request (the new
    # manager forgets the dead one). A router that missed the death forwards into the void.
    # (The first request may be refused while the router notices; it must be answered, though.)
    answered = []
    for c in (a, b):
        r = c.execute('print("first")', timeout=STEP_TIMEOUT)
        detail = {"reply": r["reply"], "stdout": r["stdout"], "stderr": r["stderr"]}
        if check(f"{c.label}_answered_after_backend_died", r["reply"] is not None, detail):
            answered.append(c)
    # (a router that did not answer would only time out again below)
    for c in answered:
        r = c.execute('print("after")', timeout=STEP_TIMEOUT)
        equal(f"{c.label}_works_on_a_new_backend", (r["stdout"], (r["reply"] or {}).get("status")), ('print("after")', "ok"))
    if len(answered) == 2:
        pa, pb = standin(a).get("pid"), standin(b).get("pid")
        check("new_shared_backend", pa is not None and pa == pb and pa != old, {"old": old, "A": pa, "B": pb})
    stop_all(clients)
    clients.clear()


def scenario_linger0(clients: list[Client]) -> None:
    a = started(clients, Client("A"))
    pid = a.pid()
    check("backend_running", running(pid), pid)
    t = time.monotonic()
    a.shutdown()
    clients.remove(a)
    gone = wait_until(lambda: not running(pid), SETTLE)
    extra["stop_seconds"] = round(time.monotonic() - t, 2)
    check("stopped_when_last_client_left", gone, {"pid": pid, "seconds": extra["stop_seconds"]})
    ok, records = poll_list(lambda rs: rs == [], SETTLE)
    check("list_empty", ok, brief(records))


def set_linger(seconds: int) -> None:
    """Rewrites linger_seconds in the fleet.toml that LLMSPELL_FLEET_CONFIG names."""
    path = os.environ["LLMSPELL_FLEET_CONFIG"]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    lines = [f"linger_seconds = {seconds}" if line.startswith("linger_seconds") else line for line in lines]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def manager_log() -> list[dict[str, Any]]:
    """The manager's log lines (pino JSON), oldest first."""
    with open(os.path.join(HOME, "logs", "manager.log"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def scenario_linger2(clients: list[Client]) -> None:
    """
    Linger without racing the clock. fleet.toml starts with a linger longer than the test, so a
    second router arrives within it however slow the machine is. The manager reads linger_seconds
    when it launches a backend: after a stop, a 2 s linger applies to the next one, and the
    manager's log says the linger (not a shutdown) stopped it, not before 2 s.
    """
    a = started(clients, Client("A"))
    a.execute("lingering = 'kept'")
    pid = a.pid()
    a.shutdown()
    clients.remove(a)
    left = time.monotonic()
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pid, 0)], SETTLE)
    check("lingers_with_no_client", ok, brief(records))
    b = started(clients, Client("B"))
    extra["second_router_ready_after_seconds"] = round(time.monotonic() - left, 2)
    equal("second_router_gets_the_same_backend", b.pid(), pid)
    equal("second_router_sees_the_state", b.value("lingering"), "'kept'")
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pid, 1)], SETTLE)
    check("second_router_attached_to_the_lingering_backend", ok, brief(records))
    b.shutdown()
    clients.remove(b)
    # The long linger would keep it for the rest of the test: stop it by hand.
    stop = subprocess.run([NODE, CLI, "stop", records[0]["kernelId"]], capture_output=True, text=True, timeout=60, env=os.environ)
    check("long_lingering_backend_stopped", stop.returncode == 0 and wait_until(lambda: not running(pid), SETTLE), {"code": stop.returncode, "stderr": stop.stderr[-500:]})

    set_linger(2)
    c = started(clients, Client("C"))
    pc = c.pid()
    check("next_router_gets_a_new_backend", pc is not None and pc != pid, {"old": pid, "new": pc})
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(pc, 1)], SETTLE)
    check("next_backend_listed", ok, brief(records))
    kernel_id = records[0]["kernelId"] if records else None
    # t is taken before the router leaves, so the linger ends at least 2 s after t.
    t = time.monotonic()
    c.shutdown()
    clients.remove(c)
    ok, records = poll_list(lambda rs: rs == [], SETTLE)
    waited = round(time.monotonic() - t, 2)
    extra["stopped_after_seconds"] = waited
    check("stopped_after_linger", ok and wait_until(lambda: not running(pc), SETTLE), {"records": brief(records), "seconds": waited})
    check("not_stopped_before_linger", waited >= 1.9, waited)
    stops = [e.get("why") for e in manager_log() if e.get("msg") == "stopping backend" and e.get("kernelId") == kernel_id]
    equal("the_linger_stopped_it", stops, ["linger"])


def scenario_restart(clients: list[Client]) -> None:
    a = started(clients, Client("A"))
    b = started(clients, Client("B"))
    a.execute("restart_var = 'before'")
    equal("B_reads_A_variable", b.value("restart_var"), "'before'")
    old = a.pid()
    check("shared_backend", old is not None and old == b.pid(), old)
    old_router = a.router_pid
    t = time.monotonic()
    a.km.restart_kernel(now=False)
    extra["restart_seconds"] = round(time.monotonic() - t, 2)
    check("A_router_relaunched", a.router_pid != old_router and a.km.is_alive(), {"old": old_router, "new": a.router_pid})
    check("old_router_exited", not running(old_router), old_router)
    a.kc.wait_for_ready(timeout=STEP_TIMEOUT)
    restarting = b.drain_iopub(lambda m: m["msg_type"] == "status" and m["content"].get("execution_state") == "restarting", STEP_TIMEOUT)
    check("B_saw_status_restarting", restarting, [m["msg_type"] + ":" + str(m["content"].get("execution_state", "")) for m in b.other_iopub][-20:])
    r = b.execute("restart_var")
    check("B_state_gone_NameError", (r["error"] or "").startswith("NameError"), r["error"] or r["result"])
    equal("B_keeps_working", b.value("6 * 7"), "42")
    new_b, new_a = b.pid(), a.pid()
    check("new_backend_process", new_b is not None and new_b != old, {"old": old, "new": new_b})
    check("A_attached_to_the_new_backend", new_a == new_b, {"A": new_a, "B": new_b})
    check("old_backend_gone", wait_until(lambda: not running(old), SETTLE), old)
    b.execute("after = 'restart'")
    equal("A_and_B_share_again", a.value("after"), "'restart'")
    ok, records = poll_list(lambda rs: [(r["pid"], r["clients"]) for r in rs] == [(new_b, 2)], SETTLE)
    check("list_one_backend_2_clients", ok, brief(records))
    stop_all(clients)
    clients.clear()
    check("backend_stopped", wait_until(lambda: not running(new_b), SETTLE), new_b)


SCENARIOS: dict[str, Callable[[list[Client]], None]] = {
    "share": scenario_share,
    "interrupts": scenario_interrupts,
    "providers": scenario_providers,
    "routing": scenario_routing,
    "many": scenario_many,
    "manager-kill": scenario_manager_kill,
    "router-kill": scenario_router_kill,
    "manager-backend-kill": scenario_manager_backend_kill,
    "linger0": scenario_linger0,
    "linger2": scenario_linger2,
    "restart": scenario_restart,
}


def main() -> int:
    clients: list[Client] = []
    try:
        SCENARIOS[SCENARIO](clients)
    except Exception as e:  # noqa: BLE001 - reported as a failed check, with the reason
        traceback.print_exc()
        check("exception", False, f"{type(e).__name__}: {e}")
    finally:
        stop_all(clients)
    ok = bool(checks) and all(c["ok"] for c in checks.values())
    extra["seconds"] = round(time.monotonic() - T0, 2)
    print(json.dumps({"ok": ok, "scenario": SCENARIO, "checks": checks, **extra}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
