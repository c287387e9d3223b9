"""Flood IOPub with output and check that every line arrives, complete and in order.

Usage: python flood.py [KERNEL_NAME] [N] [--keep-kernel-hwm]
       (defaults: $KERNEL_NAME or python3, 20000)

Executes code that prints N numbered lines ("fleet-line <i>"), flushing after each one
(Python: print(..., flush=True); JavaScript/TypeScript kernels: console.log, which tslab
turns into one stream message per call). The client collects the stdout stream messages
with our execute_request as parent until the idle status, joins their text and compares
it with the expected lines: the kernel may batch lines into fewer messages, but none may be
lost, duplicated, split wrongly or reordered. The idle status itself must arrive too (it is
the last message of the request; a dropped idle would leave a notebook "busy" forever).
Our SUB socket has an unlimited receive high-water mark, so losses are upstream of us; for
Python kernels the kernel's own IOPub send limit is lifted as well (see PY_LIFT_HWM).

The code to run is chosen from the language in the kernel_info_reply.

Progress goes to stderr; the last stdout line is one JSON object:
    {"ok": bool, "kernel": NAME, "n": N, "language": str, "kernel_hwm_lifted": bool,
     "seconds": float, "stream_messages": int, "checks": {name: {"ok": bool, "detail": ...}}}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

import zmq
from jupyter_client import KernelManager
from jupyter_core.paths import jupyter_runtime_dir

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
KEEP_KERNEL_HWM = "--keep-kernel-hwm" in sys.argv[1:]
KERNEL_NAME = ARGS[0] if ARGS else os.environ.get("KERNEL_NAME", "python3")
N = int(ARGS[1]) if len(ARGS) > 1 else 20000
TIMEOUT = float(os.environ.get("FLOOD_TIMEOUT", "90"))

# ipykernel publishes from its IOPub thread on a PUB socket with the default send high-water
# mark (1000 messages), and PUB drops silently when that fills, i.e. whenever the messages
# cannot leave the process fast enough. Under CPU contention that happens in ipykernel
# itself, whoever the subscriber is (seen with two test workers on 2 cores: 120-1900 of
# 20000 lines lost, our SUB having no limit). Unless --keep-kernel-hwm is given, the flood
# first lifts that limit, in the IOPub thread (ZeroMQ sockets are not thread safe; libzmq
# applies a changed HWM to existing pipes), so the test measures the path between kernel
# and client -- i.e. a proxy in between -- and not ipykernel's own PUB.
# tslab has no such knob and loses everything after about 500 messages sent in one
# synchronous burst (including the final idle status), so use N <= 400 for it.
PY_LIFT_HWM = (
    "import zmq as _fleet_zmq\n"
    "_fleet_t = get_ipython().kernel.iopub_thread\n"
    "_fleet_t.schedule(lambda: _fleet_t.socket.setsockopt(_fleet_zmq.SNDHWM, 0))\n"
)

CODE = {
    "python": "for i in range({n}):\n    print(f'fleet-line {{i}}', flush=True)\n",
    "javascript": "for (let i = 0; i < {n}; i++) {{ console.log('fleet-line ' + i); }}",
    "typescript": "for (let i = 0; i < {n}; i++) {{ console.log('fleet-line ' + i); }}",
}


def log(*args: Any) -> None:
    print("[flood]", *args, file=sys.stderr, flush=True)


def main() -> int:
    checks: dict[str, dict[str, Any]] = {}
    summary: dict[str, Any] = {"kernel": KERNEL_NAME, "n": N}

    def record(name: str, ok: bool, detail: Any) -> None:
        checks[name] = {"ok": bool(ok), "detail": detail}
        log(name, "ok" if ok else "FAILED", detail)

    km = KernelManager(
        kernel_name=KERNEL_NAME,
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-flood-{uuid.uuid4().hex}.json"),
    )
    kc = None
    try:
        km.start_kernel()
        kc = km.client()
        # Unlimited receive high-water mark on our SUB socket (set as a context default so it
        # applies when jupyter_client creates the socket). With the default 1000 the
        # kernel's PUB drops lines whenever this Python client is descheduled for a moment
        # (seen on a loaded 2-core machine: 240 of 20000 lines lost talking to ipykernel
        # directly). Unlimited, the client's ZeroMQ I/O thread drains TCP on its own, so a
        # loss can only happen upstream: in the kernel or in a proxy between us.
        kc.context.setsockopt(zmq.RCVHWM, 0)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        info = kc.kernel_info(reply=True, timeout=30)["content"]
        language = info["language_info"]["name"].lower()
        summary["language"] = language
        code = CODE[language].format(n=N)
        if language == "python" and not KEEP_KERNEL_HWM:
            code = PY_LIFT_HWM + code
        summary["kernel_hwm_lifted"] = language == "python" and not KEEP_KERNEL_HWM

        # drain what wait_for_ready left behind
        for ch in (kc.shell_channel, kc.iopub_channel):
            while ch.msg_ready():
                ch.get_msg(timeout=0)

        shell_sock, iopub_sock = kc.shell_channel.socket, kc.iopub_channel.socket
        poller = zmq.Poller()
        poller.register(shell_sock, zmq.POLLIN)
        poller.register(iopub_sock, zmq.POLLIN)
        t0 = time.monotonic()
        msg_id = kc.execute(code)
        chunks: list[str] = []
        other: list[str] = []
        reply = None
        idle = False
        deadline = time.monotonic() + TIMEOUT
        while reply is None or not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"after {TIMEOUT}s: reply={'yes' if reply else 'no'} idle={idle} "
                    f"stream messages={len(chunks)}"
                )
            ready = dict(poller.poll(remaining * 1000))
            if shell_sock in ready:
                msg = kc.shell_channel.get_msg(timeout=0)
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
            if iopub_sock not in ready:
                continue
            msg = kc.iopub_channel.get_msg(timeout=0)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream" and msg["content"]["name"] == "stdout":
                chunks.append(msg["content"]["text"])
            elif kind == "status":
                if msg["content"]["execution_state"] == "idle":
                    idle = True
            elif kind == "execute_input":
                pass
            else:
                other.append(kind)
        seconds = round(time.monotonic() - t0, 3)
        summary["seconds"] = seconds
        summary["stream_messages"] = len(chunks)

        record("reply_ok", reply["content"]["status"] == "ok", reply["content"]["status"])
        text = "".join(chunks)
        record("ends_with_newline", text.endswith("\n"), repr(text[-30:]))
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        expected = [f"fleet-line {i}" for i in range(N)]
        first_bad = next((i for i, (a, b) in enumerate(zip(lines, expected)) if a != b), None)
        detail: dict[str, Any] = {"lines": len(lines), "expected": N, "stream_messages": len(chunks),
                                  "seconds": seconds, "lines_per_s": round(N / seconds) if seconds else None}
        if first_bad is not None:
            detail["first_mismatch"] = {"index": first_bad, "got": lines[first_bad],
                                        "want": expected[first_bad]}
        record("all_lines_in_order", lines == expected, detail)
        record("no_other_output", not other, other)
    except Exception as e:  # noqa: BLE001
        record("no_exception", False, f"{type(e).__name__}: {e}")
    finally:
        if kc is not None:
            kc.stop_channels()
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=False)
        except Exception as e:  # noqa: BLE001
            log("shutdown failed:", e)

    ok = bool(checks) and all(c["ok"] for c in checks.values())
    print(json.dumps({"ok": ok, **summary, "checks": checks}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
