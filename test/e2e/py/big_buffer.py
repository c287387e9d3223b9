"""Send a large binary buffer through a kernel and back, and check it arrives intact.

Usage: python big_buffer.py [KERNEL_NAME] [MEGABYTES]   (defaults: $KERNEL_NAME or python3, 20)

The kernel must be a Python kernel with comm support (ipykernel). The script registers a
comm target "fleet_big" in the kernel whose handler answers every comm_msg with the
sha256 and size of the buffer it received, plus that buffer itself (reversed, so that an
echo of the request frame could not pass) as a binary buffer on IOPub. The client sends
MEGABYTES of random bytes as a buffer (a binary frame after content) of a comm_msg on
shell and checks:
  - the kernel saw exactly our bytes (its sha256 equals ours),
  - the buffer it sent back is exactly our bytes reversed,
  - the reply's parent is our comm_msg.
Then the same with four buffers in one message, one of them empty (frame count and
order must survive), and finally kernel -> client only: the kernel generates MEGABYTES from
a seed we send and we check the buffer against the sha256 it reports.

Progress goes to stderr; the last stdout line is one JSON object:
    {"ok": bool, "kernel": NAME, "bytes": n, "checks": {name: {"ok": bool, "detail": ...}}}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from typing import Any

from jupyter_client import KernelManager
from jupyter_core.paths import jupyter_runtime_dir

KERNEL_NAME = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KERNEL_NAME", "python3")
MEGABYTES = int(sys.argv[2]) if len(sys.argv) > 2 else 20
TIMEOUT = 60.0

KERNEL_CODE = r"""
import hashlib as _fleet_hashlib
import random as _fleet_random
import comm as _fleet_comm

def _fleet_big_target(c, open_msg):
    @c.on_msg
    def _on_msg(msg):
        data = msg["content"]["data"]
        if data.get("op") == "echo":
            bufs = [bytes(b) for b in msg["buffers"]]
            c.send(
                {"sha256": [_fleet_hashlib.sha256(b).hexdigest() for b in bufs],
                 "size": [len(b) for b in bufs], "tag": data.get("tag")},
                buffers=[b[::-1] for b in bufs],
            )
        elif data.get("op") == "generate":
            buf = _fleet_random.Random(data["seed"]).randbytes(data["size"])
            c.send({"sha256": _fleet_hashlib.sha256(buf).hexdigest(), "size": len(buf),
                    "tag": data.get("tag")}, buffers=[buf])

_fleet_comm.get_comm_manager().register_target("fleet_big", _fleet_big_target)
"""


def log(*args: Any) -> None:
    print("[big_buffer]", *args, file=sys.stderr, flush=True)


def main() -> int:
    checks: dict[str, dict[str, Any]] = {}
    size = MEGABYTES * 1024 * 1024

    def record(name: str, ok: bool, detail: Any) -> None:
        checks[name] = {"ok": bool(ok), "detail": detail}
        log(name, "ok" if ok else "FAILED", detail)

    km = KernelManager(
        kernel_name=KERNEL_NAME,
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-big-{uuid.uuid4().hex}.json"),
    )
    kc = None
    try:
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(KERNEL_CODE, timeout=TIMEOUT, output_hook=lambda m: None)
        record("register_target", reply["content"]["status"] == "ok", reply["content"]["status"])

        comm_id = uuid.uuid4().hex
        open_msg = kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "fleet_big", "data": {}})
        kc.shell_channel.send(open_msg)

        def wait_reply(tag: str) -> dict[str, Any]:
            deadline = time.monotonic() + TIMEOUT
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no comm_msg reply tagged {tag} within {TIMEOUT}s")
                msg = kc.get_iopub_msg(timeout=remaining)
                if msg["msg_type"] == "error":
                    raise RuntimeError(f"kernel error: {msg['content'].get('evalue')}")
                if (msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == comm_id
                        and msg["content"]["data"].get("tag") == tag):
                    return msg

        def echo(tag: str, payloads: list[bytes]) -> None:
            digests = [hashlib.sha256(p).hexdigest() for p in payloads]
            msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"op": "echo", "tag": tag}})
            msg["buffers"] = payloads
            t0 = time.monotonic()
            kc.shell_channel.send(msg)
            echoed = wait_reply(tag)
            seconds = round(time.monotonic() - t0, 3)
            data = echoed["content"]["data"]
            record(f"{tag}_kernel_received_intact",
                   data["sha256"] == digests and data["size"] == [len(p) for p in payloads],
                   {"sizes": data["size"], "sha256_match": data["sha256"] == digests})
            back = [bytes(b) for b in echoed.get("buffers") or []]
            total_mb = sum(len(p) for p in payloads) / (1024 * 1024)
            record(f"{tag}_buffers_back_intact",
                   back == [p[::-1] for p in payloads],
                   {"buffers": len(back), "sizes": [len(b) for b in back], "round_trip_s": seconds,
                    "MB_per_s": round(2 * total_mb / seconds, 1) if seconds else None})
            record(f"{tag}_parent", echoed["parent_header"].get("msg_id") == msg["header"]["msg_id"],
                   "reply parent is our comm_msg")

        # 1. client -> kernel -> client, one big buffer
        echo("echo", [os.urandom(size)])
        # 2. several buffers, including an empty one (frame count and order must survive)
        echo("multi", [b"", os.urandom(1), os.urandom(1024 * 1024), b"\x00" * 10])

        # 3. kernel -> client only
        seed = int.from_bytes(os.urandom(4), "big")
        msg = kc.session.msg("comm_msg", {"comm_id": comm_id,
                                          "data": {"op": "generate", "seed": seed, "size": size, "tag": "gen"}})
        kc.shell_channel.send(msg)
        generated = wait_reply("gen")
        buffers = generated.get("buffers") or []
        got = bytes(buffers[0]) if buffers else b""
        record("generated_buffer_intact",
               len(buffers) == 1 and hashlib.sha256(got).hexdigest() == generated["content"]["data"]["sha256"]
               and len(got) == size,
               {"buffers": len(buffers), "size": len(got)})

        kc.shell_channel.send(kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}}))
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
    print(json.dumps({"ok": ok, "kernel": KERNEL_NAME, "bytes": size, "checks": checks}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
