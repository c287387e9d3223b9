"""Router-specific lifecycle checks, driven through jupyter_client against the llmspell-fleet kernel.

Usage: python router_lifecycle.py SCENARIO [KERNEL_NAME]
Scenarios:
  bad-signature  messages with a wrong or replayed signature never reach the backend
  sigterm        SIGTERM to the router (all VS Code sends) stops the backend and the router
  sigint         SIGINT to the router interrupts the backend's running cell
  two-routers    killing one router never touches another router's backend (restart race)
  parent-death   (run as the parent) starts a kernel, prints pids, exits without shutdown
The last stdout line is one JSON object {"ok": bool, "checks": {...}, ...}.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from typing import Any

import zmq
from jupyter_client import KernelManager
from jupyter_client.session import Session

SCENARIO = sys.argv[1]
KERNEL_NAME = sys.argv[2] if len(sys.argv) > 2 else "llmspell-fleet"
# Bounds for waiting on an event or a state; generous for a busy machine, since a passing run
# never waits them out.
STEP_TIMEOUT = 60.0
checks: dict[str, dict[str, Any]] = {}
extra: dict[str, Any] = {}


def check(name: str, ok: bool, detail: Any = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}


def start() -> tuple[KernelManager, Any]:
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=STEP_TIMEOUT)
    return km, kc


def run(kc: Any, code: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
    """Execute and return {reply, stdout, result} once idle."""
    out: list[str] = []
    result: list[Any] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "execute_result":
            result.append(msg["content"]["data"].get("text/plain"))

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return {"reply": reply["content"], "stdout": "".join(out), "result": result[0] if result else None}


def backend_pid(kc: Any) -> int:
    return int(run(kc, "import os; os.getpid()")["result"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def router_pid(km: KernelManager) -> int:
    return km.provisioner.process.pid  # type: ignore[union-attr]


def scenario_bad_signature() -> None:
    km, kc = start()
    try:
        marker = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], f"forged-{uuid.uuid4().hex}")
        ctx = zmq.Context.instance()
        shell = ctx.socket(zmq.DEALER)
        shell.linger = 0
        shell.connect(f"{km.transport}://{km.ip}:{km.shell_port}")
        forged = Session(key=b"not-the-key", username="mallory")
        forged.send(shell, "execute_request", {"code": f"open({marker!r}, 'a').write('forged\\n')", "silent": False})
        unsigned = Session(key=b"", username="mallory")
        unsigned.send(shell, "execute_request", {"code": f"open({marker!r}, 'a').write('unsigned\\n')", "silent": False})
        # A correctly signed message, captured and sent twice: the second copy is a replay.
        good = Session(key=km.session.key, username="replayer")
        msg = good.msg("execute_request", {"code": f"open({marker!r}, 'a').write('once\\n')", "silent": False})
        frames = good.serialize(msg)
        shell.send_multipart(frames)
        shell.send_multipart(frames)
        # The router reads one socket in order and the backend executes in order: once the reply
        # to a later message on the same socket is back, every earlier one has been dealt with.
        last = good.msg("execute_request", {"code": "'last'", "silent": False})
        good.send(shell, last)
        replied = False
        deadline = time.monotonic() + STEP_TIMEOUT
        while not replied and time.monotonic() < deadline:
            if shell.poll(int(max(0, deadline - time.monotonic()) * 1000)):
                _, reply = good.feed_identities(shell.recv_multipart())
                replied = good.deserialize(reply)["parent_header"].get("msg_id") == last["header"]["msg_id"]
        check("later_message_answered", replied)
        r = run(kc, f"import os; open({marker!r}).read() if os.path.exists({marker!r}) else ''")
        content = (r["result"] or "''").strip("'").replace("\\n", "\n")
        check("forged_never_executed", "forged" not in content, content)
        check("unsigned_never_executed", "unsigned" not in content, content)
        check("replay_executed_once", content.count("once") == 1, content)
        check("session_still_works", run(kc, "6*7")["result"] == "42")
        shell.close()
    finally:
        km.shutdown_kernel(now=False)
        check("router_exited", not km.is_alive())


def stop_with(sig: signal.Signals) -> None:
    """SIGTERM (VS Code) and SIGHUP (a closed terminal) both mean: stop cleanly, exit 0."""
    km, kc = start()
    bpid = backend_pid(kc)
    rpid = router_pid(km)
    os.kill(rpid, sig)
    try:
        km.provisioner.process.wait(timeout=STEP_TIMEOUT)  # type: ignore[union-attr]
        code = km.provisioner.process.returncode  # type: ignore[union-attr]
        check("router_exited_0", code == 0, code)
    except Exception as e:  # noqa: BLE001
        check("router_exited_0", False, str(e))
    check("backend_exited", wait_gone(bpid, STEP_TIMEOUT), bpid)
    km.cleanup_resources()


def scenario_sigterm() -> None:
    stop_with(signal.SIGTERM)


def scenario_sighup() -> None:
    stop_with(signal.SIGHUP)


def scenario_sigint() -> None:
    km, kc = start()
    try:
        # (longer than any wait here: only the interrupt can end it in time)
        msg_id = kc.execute("import time\ntime.sleep(600)")
        deadline = time.monotonic() + STEP_TIMEOUT
        busy = False
        while not busy and time.monotonic() < deadline:
            m = kc.get_iopub_msg(timeout=STEP_TIMEOUT)
            busy = m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input"
        t = time.monotonic()
        os.kill(router_pid(km), signal.SIGINT)
        reply = kc.get_shell_msg(timeout=STEP_TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=STEP_TIMEOUT)
        check("interrupted", reply["content"].get("ename") == "KeyboardInterrupt", reply["content"].get("ename"))
        extra["interrupt_seconds"] = round(time.monotonic() - t, 2)
        check("still_works", run(kc, "1+1")["result"] == "2")
    finally:
        km.shutdown_kernel(now=False)


def scenario_two_routers() -> None:
    km_a, kc_a = start()
    km_b, kc_b = start()
    a_backend = backend_pid(kc_a)
    b_backend = backend_pid(kc_b)
    run(kc_b, "survivor = 'b'")
    check("distinct_backends", a_backend != b_backend)
    # VS Code's restart: kill the old kernel process while a new one runs.
    os.kill(router_pid(km_a), signal.SIGTERM)
    km_a.provisioner.process.wait(timeout=STEP_TIMEOUT)  # type: ignore[union-attr]
    check("a_backend_gone", wait_gone(a_backend, STEP_TIMEOUT))
    check("b_backend_alive", alive(b_backend))
    check("b_state_kept", run(kc_b, "survivor")["result"] == "'b'")
    km_a.cleanup_resources()
    km_b.shutdown_kernel(now=False)
    check("b_backend_gone_after_shutdown", wait_gone(b_backend, STEP_TIMEOUT))


def scenario_parent_death() -> None:
    km, kc = start()
    extra["router_pid"] = router_pid(km)
    extra["backend_pid"] = backend_pid(kc)
    check("started", True)
    print(json.dumps({"ok": True, "checks": checks, **extra}), flush=True)
    os._exit(0)  # no shutdown, no cleanup: the router must notice JPY_PARENT_PID is gone


def scenario_backend_kill() -> None:
    km, kc = start()
    try:
        pid = backend_pid(kc)
        # (longer than any wait here: only the backend's death can end it in time)
        msg_id = kc.execute("import time\ntime.sleep(600)")
        deadline = time.monotonic() + STEP_TIMEOUT
        started = False
        while not started and time.monotonic() < deadline:
            m = kc.get_iopub_msg(timeout=STEP_TIMEOUT)
            started = m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input"
        t = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        reply = kc.get_shell_msg(timeout=STEP_TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=STEP_TIMEOUT)
        seconds = round(time.monotonic() - t, 2)
        content = reply["content"]
        check("error_reply", content.get("status") == "error" and content.get("ename") == "FleetError", content)
        check("says_what_happened", "killed by SIGKILL" in str(content.get("evalue")), content.get("evalue"))
        told: list[str] = []
        while not any("killed by SIGKILL" in x for x in told):
            try:
                m = kc.get_iopub_msg(timeout=STEP_TIMEOUT)
            except Exception:  # noqa: BLE001 - nothing more came: reported below
                break
            if m["msg_type"] == "stream" and m["content"]["name"] == "stderr":
                told.append(m["content"]["text"])
        check("clients_told_on_stderr", any("killed by SIGKILL" in x for x in told), told)
        new_pid = backend_pid(kc)
        check("next_request_works_on_new_backend", new_pid != pid, [pid, new_pid])
        extra["recovery"] = {"error_reply_seconds": seconds, "new_backend_answered_seconds": round(time.monotonic() - t, 2)}
    finally:
        km.shutdown_kernel(now=False)


SCENARIOS = {
    "backend-kill": scenario_backend_kill,
    "bad-signature": scenario_bad_signature,
    "sigterm": scenario_sigterm,
    "sighup": scenario_sighup,
    "sigint": scenario_sigint,
    "two-routers": scenario_two_routers,
    "parent-death": scenario_parent_death,
}

try:
    SCENARIOS[SCENARIO]()
except Exception as e:  # noqa: BLE001 - reported as a failed check, with the reason
    check("exception", False, f"{type(e).__name__}: {e}")
print(json.dumps({"ok": all(c["ok"] for c in checks.values()) and bool(checks), "checks": checks, **extra}))
sys.exit(0 if all(c["ok"] for c in checks.values()) else 1)
