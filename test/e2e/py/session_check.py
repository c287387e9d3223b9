"""End-to-end session check of one Jupyter kernel, driven through jupyter_client.

Usage: python session_check.py [KERNEL_NAME]   (default: $KERNEL_NAME or python3)

The kernel must speak Python (the checks execute Python code): it is ipykernel
directly, or our router when it routes to ipykernel.

Checks, in order (a check that fails is recorded and the next one still runs):
  start                KernelManager.start_kernel + wait_for_ready(60) + kernel_info_reply
  heartbeat            two raw REQ/REP echoes on the hb port (byte-exact)
  kernel_info_control  kernel_info_request on the control channel is answered there
  execute_result       `1+1` -> busy first, execute_result "2", reply ok
  error                `1/0` -> reply status error, ename ZeroDivisionError, one iopub error
  stdin                input() -> input_request (prompt, parent = the execute) -> kc.input
                       ("fleet") -> `print(x)` writes "fleet"
  comm                 kernel registers target "echo"; client comm_open -> echoed open data,
                       comm_info lists the comm, comm_msg -> echoed comm_msg (parent = ours),
                       comm_close -> comm gone from comm_info
  interrupt            `time.sleep(600)` running -> km.interrupt_kernel() -> reply error
                       KeyboardInterrupt within 10 s; the kernel still executes afterwards
  restart              km.restart_kernel(now=False): new pid, a new client (own session id)
                       gets ready, a variable set before is gone (NameError)
  restart_old_client   the client connected before the restart still works (same ports)
  shutdown             km.shutdown_kernel(now=False): not alive, exit status 0 (graceful)
Progress goes to stderr; the last stdout line is one JSON object:
    {"ok": bool, "kernel": NAME, "checks": {name: {"ok": bool, "detail": ..., "seconds": float}}}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid
from typing import Any, Callable

import zmq
from jupyter_client import KernelManager
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.session import Session
from jupyter_core.paths import jupyter_runtime_dir

KERNEL_NAME = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KERNEL_NAME", "python3")
START_TIMEOUT = 60.0
STEP_TIMEOUT = 60.0


def log(*args: Any) -> None:
    print("[session_check]", *args, file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def parent_id(msg: dict[str, Any]) -> str | None:
    return (msg.get("parent_header") or {}).get("msg_id")


def run_request(
    kc: BlockingKernelClient,
    msg_id: str,
    *,
    timeout: float = STEP_TIMEOUT,
    on_stdin: Callable[[dict[str, Any]], None] | None = None,
    on_iopub: Callable[[dict[str, Any]], None] | None = None,
    expect_reply: bool = True,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Wait for the shell reply to msg_id and for the idle status it causes.

    Returns (reply, iopub messages with that parent, including status messages).
    Event driven: blocks in zmq poll on shell, iopub and stdin until the deadline.
    """
    poller = zmq.Poller()
    sockets = {
        kc.shell_channel.socket: "shell",
        kc.iopub_channel.socket: "iopub",
        kc.stdin_channel.socket: "stdin",
    }
    for sock in sockets:
        poller.register(sock, zmq.POLLIN)
    reply: dict[str, Any] | None = None
    idle = False
    iopub: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while (expect_reply and reply is None) or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CheckFailed(
                f"timeout after {timeout}s waiting for "
                f"{'reply' if expect_reply and reply is None else ''} "
                f"{'idle' if not idle else ''}; iopub so far: "
                f"{[m['msg_type'] for m in iopub]}"
            )
        for sock, _ in poller.poll(remaining * 1000):
            name = sockets[sock]
            if name == "shell":
                msg = kc.shell_channel.get_msg(timeout=0)
                if parent_id(msg) == msg_id:
                    reply = msg
                else:
                    log("ignoring shell message", msg["msg_type"], "for", parent_id(msg))
            elif name == "iopub":
                msg = kc.iopub_channel.get_msg(timeout=0)
                if parent_id(msg) != msg_id:
                    continue
                iopub.append(msg)
                if on_iopub is not None:
                    on_iopub(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
            else:
                msg = kc.stdin_channel.get_msg(timeout=0)
                if on_stdin is None:
                    raise CheckFailed(f"unexpected stdin message {msg['msg_type']}")
                on_stdin(msg)
    return reply, iopub


def execute(kc: BlockingKernelClient, code: str, **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    allow_stdin = kw.pop("allow_stdin", False)
    msg_id = kc.execute(code, allow_stdin=allow_stdin, stop_on_error=False)
    reply, iopub = run_request(kc, msg_id, **kw)
    assert reply is not None
    return reply, iopub


def wait_iopub(
    kc: BlockingKernelClient, pred: Callable[[dict[str, Any]], bool], timeout: float = STEP_TIMEOUT
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CheckFailed(f"timeout after {timeout}s waiting on iopub; saw {seen}")
        if not kc.iopub_channel.socket.poll(remaining * 1000):
            continue
        msg = kc.iopub_channel.get_msg(timeout=0)
        seen.append(msg["msg_type"])
        if pred(msg):
            return msg


def stdout_text(iopub: list[dict[str, Any]]) -> str:
    return "".join(
        m["content"]["text"]
        for m in iopub
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def kernel_pid(km: KernelManager) -> int | None:
    proc = getattr(km.provisioner, "process", None)
    return getattr(proc, "pid", None)


def new_client(km: KernelManager, fresh_session: bool = False) -> BlockingKernelClient:
    if fresh_session:
        # km.client() hands every client the manager's Session, and jupyter_client uses the
        # session id as the ZeroMQ routing id of shell/stdin/control. A second client with
        # the same id, while the first is still connected, is refused by the kernel's ROUTER
        # (libzmq drops a duplicate identity) and its wait_for_ready never gets a reply.
        session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme)
        kc = km.client(session=session)
    else:
        kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=START_TIMEOUT)
    return kc


COMM_TARGET_CODE = r"""
import comm as _fleet_comm

def _fleet_echo_target(c, open_msg):
    @c.on_msg
    def _on_msg(msg):
        c.send({"echo": msg["content"]["data"]})
    c.send({"opened": open_msg["content"]["data"]})

_fleet_comm.get_comm_manager().register_target("echo", _fleet_echo_target)
print("registered")
"""


def main() -> int:
    checks: dict[str, dict[str, Any]] = {}
    state: dict[str, Any] = {}

    def check(name: str, fn: Callable[[], Any]) -> bool:
        log("check", name)
        t0 = time.monotonic()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # noqa: BLE001 - every failure is recorded, not raised
            ok = False
            detail = f"{type(e).__name__}: {e}"
            if not isinstance(e, CheckFailed):
                detail += "\n" + traceback.format_exc()
        seconds = round(time.monotonic() - t0, 3)
        checks[name] = {"ok": ok, "detail": detail, "seconds": seconds}
        log("  ->", "ok" if ok else "FAILED", f"({seconds}s)", "" if ok else detail)
        return ok

    # The connection file goes into $JUPYTER_RUNTIME_DIR (a bare KernelManager would put it in
    # /tmp), so the kernel's argv names the test's temp dir, like jupyter console/server do.
    km = KernelManager(
        kernel_name=KERNEL_NAME,
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-session-{uuid.uuid4().hex}.json"),
    )

    def c_start() -> Any:
        km.start_kernel()
        state["kc"] = kc = new_client(km)
        info = kc.kernel_info(reply=True, timeout=STEP_TIMEOUT)["content"]
        expect(info.get("status", "ok") == "ok", f"kernel_info status {info.get('status')}")
        state["pid"] = kernel_pid(km)
        return {
            "pid": state["pid"],
            "implementation": info.get("implementation"),
            "language": info.get("language_info", {}).get("name"),
            "protocol_version": info.get("protocol_version"),
        }

    def c_heartbeat() -> Any:
        # A raw REQ/REP echo on the hb port (jupyter_client's HBChannel reports "beating"
        # optimistically for its first second, so it cannot prove anything here).
        info = km.get_connection_info()
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.linger = 0
        try:
            sock.connect(f"{info['transport']}://{info['ip']}:{info['hb_port']}")
            payloads = [f"fleet-ping-{uuid.uuid4().hex}".encode(), os.urandom(64)]
            for payload in payloads:
                sock.send(payload)
                expect(sock.poll(STEP_TIMEOUT * 1000) != 0, "no heartbeat echo")
                echoed = sock.recv()
                expect(echoed == payload, f"heartbeat echoed {echoed!r}")
        finally:
            sock.close()
        expect(km.is_alive(), "km.is_alive() is False")
        return f"{len(payloads)} echoes"

    def c_kernel_info_control() -> Any:
        # Protocol 5.5: kernel_info_request is also valid on control
        # (jupyter_server and VS Code send it there while waiting for a kernel).
        kc = state["kc"]
        msg = kc.session.msg("kernel_info_request", {})
        kc.control_channel.send(msg)
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            expect(remaining > 0, "no kernel_info_reply on control")
            reply = kc.control_channel.get_msg(timeout=remaining)
            if parent_id(reply) == msg["header"]["msg_id"]:
                break
        expect(reply["msg_type"] == "kernel_info_reply", f"got {reply['msg_type']}")
        return {"protocol_version": reply["content"].get("protocol_version")}

    def c_execute_result() -> Any:
        reply, iopub = execute(state["kc"], "1+1")
        expect(reply["content"]["status"] == "ok", f"status {reply['content']['status']}")
        results = [m for m in iopub if m["msg_type"] == "execute_result"]
        expect(len(results) == 1, f"execute_result count {len(results)}")
        value = results[0]["content"]["data"].get("text/plain")
        expect(value == "2", f"execute_result {value!r}")
        types = [m["msg_type"] for m in iopub]
        expect(types[0] == "status" and iopub[0]["content"]["execution_state"] == "busy",
               f"first iopub message is not busy: {types}")
        return {"iopub": types, "execution_count": reply["content"].get("execution_count")}

    def c_error() -> Any:
        reply, iopub = execute(state["kc"], "1/0")
        content = reply["content"]
        expect(content["status"] == "error", f"status {content['status']}")
        expect(content.get("ename") == "ZeroDivisionError", f"ename {content.get('ename')}")
        errors = [m for m in iopub if m["msg_type"] == "error"]
        expect(len(errors) == 1 and errors[0]["content"]["ename"] == "ZeroDivisionError",
               f"iopub error messages: {[m['content'] for m in errors]}")
        return {"ename": content["ename"], "evalue": content.get("evalue")}

    def c_stdin() -> Any:
        kc = state["kc"]
        seen: dict[str, Any] = {}

        def on_stdin(msg: dict[str, Any]) -> None:
            expect(msg["msg_type"] == "input_request", f"stdin got {msg['msg_type']}")
            seen["prompt"] = msg["content"].get("prompt")
            seen["parent"] = parent_id(msg)
            kc.input("fleet")

        msg_id = kc.execute('x = input("name? ")', allow_stdin=True)
        reply, _ = run_request(kc, msg_id, on_stdin=on_stdin)
        assert reply is not None
        expect(reply["content"]["status"] == "ok", f"input status {reply['content']['status']}")
        expect(seen.get("prompt") == "name? ", f"input_request prompt {seen.get('prompt')!r}")
        expect(seen.get("parent") == msg_id, "input_request parent is not the execute_request")
        reply, iopub = execute(kc, "print(x)")
        out = stdout_text(iopub)
        expect(out == "fleet\n", f"print(x) wrote {out!r}")
        return seen

    def c_comm() -> Any:
        kc = state["kc"]
        reply, iopub = execute(kc, COMM_TARGET_CODE)
        expect(reply["content"]["status"] == "ok", f"register: {reply['content']}")
        comm_id = uuid.uuid4().hex
        open_msg = kc.session.msg(
            "comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {"hello": "fleet"}}
        )
        kc.shell_channel.send(open_msg)
        opened = wait_iopub(
            kc, lambda m: m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
        )
        expect(opened["content"]["data"] == {"opened": {"hello": "fleet"}},
               f"open echo {opened['content']['data']}")
        expect(parent_id(opened) == open_msg["header"]["msg_id"], "open echo has the wrong parent")
        # comm_info must list the comm (a shell request/reply while a comm is open)
        info = kc.comm_info(target_name="echo", reply=True, timeout=STEP_TIMEOUT)["content"]
        expect(comm_id in info.get("comms", {}), f"comm_info: {info}")
        ping = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"ping": [1, 2, 3]}})
        kc.shell_channel.send(ping)
        echoed = wait_iopub(
            kc,
            lambda m: m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and parent_id(m) == ping["header"]["msg_id"],
        )
        expect(echoed["content"]["data"] == {"echo": {"ping": [1, 2, 3]}},
               f"echo {echoed['content']['data']}")
        close = kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}})
        kc.shell_channel.send(close)
        wait_iopub(
            kc,
            lambda m: m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            and parent_id(m) == close["header"]["msg_id"],
        )
        info = kc.comm_info(target_name="echo", reply=True, timeout=STEP_TIMEOUT)["content"]
        expect(comm_id not in info.get("comms", {}), f"comm still listed after close: {info}")
        return {"comm_id": comm_id}

    def c_interrupt() -> Any:
        kc = state["kc"]
        msg_id = kc.execute('import time; print("sleeping", flush=True); time.sleep(600)')
        busy = False
        running = False
        deadline = time.monotonic() + STEP_TIMEOUT
        while not (busy and running):
            remaining = deadline - time.monotonic()
            expect(remaining > 0, "the sleep never started")
            msg = kc.iopub_channel.get_msg(timeout=remaining)
            if parent_id(msg) != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy":
                busy = True
            if msg["msg_type"] == "stream" and "sleeping" in msg["content"]["text"]:
                running = True
        t0 = time.monotonic()
        km.interrupt_kernel()
        reply, iopub = run_request(kc, msg_id, timeout=STEP_TIMEOUT)
        assert reply is not None
        elapsed = round(time.monotonic() - t0, 3)
        content = reply["content"]
        expect(content["status"] == "error", f"status {content['status']}")
        expect(content.get("ename") == "KeyboardInterrupt", f"ename {content.get('ename')}")
        # the kernel still works afterwards
        reply, iopub = execute(kc, "40+2")
        results = [m["content"]["data"]["text/plain"] for m in iopub if m["msg_type"] == "execute_result"]
        expect(results == ["42"], f"after interrupt: {results}")
        return {"reply_after_s": elapsed}

    def c_restart() -> Any:
        kc = state["kc"]
        reply, _ = execute(kc, "fleet_marker = 12345")
        expect(reply["content"]["status"] == "ok", "could not set fleet_marker")
        pid_before = kernel_pid(km)
        km.restart_kernel(now=False)
        pid_after = kernel_pid(km)
        expect(pid_after is not None and pid_after != pid_before,
               f"pid did not change: {pid_before} -> {pid_after}")
        kc2 = new_client(km, fresh_session=True)
        state["kc2"] = kc2
        reply, iopub = execute(kc2, "fleet_marker")
        content = reply["content"]
        expect(content["status"] == "error" and content.get("ename") == "NameError",
               f"fleet_marker after restart: {content.get('status')} {content.get('ename')}")
        return {"pid_before": pid_before, "pid_after": pid_after}

    def c_restart_old_client() -> Any:
        # jupyter_client restarts a kernel on the same ports and connection file, so a
        # client that was connected before the restart keeps working (jupyter_server relies
        # on this): its ZeroMQ sockets reconnect by themselves.
        kc = state["kc"]
        # drain what the old client buffered before the restart
        for ch in (kc.shell_channel, kc.iopub_channel):
            while ch.msg_ready():
                ch.get_msg(timeout=0)
        reply, iopub = execute(kc, "6*7", timeout=STEP_TIMEOUT)
        results = [m["content"]["data"]["text/plain"] for m in iopub if m["msg_type"] == "execute_result"]
        expect(reply["content"]["status"] == "ok" and results == ["42"], f"old client got {results}")
        return "old client works after restart"

    def c_shutdown() -> Any:
        proc = getattr(km.provisioner, "process", None)
        t0 = time.monotonic()
        km.shutdown_kernel(now=False)
        elapsed = round(time.monotonic() - t0, 3)
        expect(not km.is_alive(), "km.is_alive() is True after shutdown")
        returncode = proc.poll() if proc is not None else None
        # A graceful shutdown (shutdown_request honoured) exits by itself with status 0;
        # SIGTERM/SIGKILL from jupyter_client would show as a negative status.
        expect(returncode == 0, f"kernel exit status {returncode} (not a graceful exit)")
        return {"elapsed_s": elapsed, "returncode": returncode}

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("heartbeat", c_heartbeat),
        ("kernel_info_control", c_kernel_info_control),
        ("execute_result", c_execute_result),
        ("error", c_error),
        ("stdin", c_stdin),
        ("comm", c_comm),
        ("interrupt", c_interrupt),
        ("restart", c_restart),
        ("restart_old_client", c_restart_old_client),
    ]
    try:
        if check("start", c_start):
            for name, fn in steps:
                check(name, fn)
            check("shutdown", c_shutdown)
        else:
            for name, _ in [*steps, ("shutdown", None)]:
                checks[name] = {"ok": False, "detail": "skipped: kernel did not start", "seconds": 0}
    finally:
        for key in ("kc", "kc2"):
            if key in state:
                try:
                    state[key].stop_channels()
                except Exception:  # noqa: BLE001
                    pass
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        except Exception as e:  # noqa: BLE001
            log("final shutdown failed:", e)
        try:
            km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass

    ok = all(c["ok"] for c in checks.values())
    print(json.dumps({"ok": ok, "kernel": KERNEL_NAME, "checks": checks}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
