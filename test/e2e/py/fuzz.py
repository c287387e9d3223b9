"""Fuzz the router's client-facing sockets with random and mutated multipart messages.

Usage: python fuzz.py KERNEL_NAME [N_PER_CHANNEL=10000]
Every fuzz message is built from an execute_request whose code would append a line to a
marker file, then broken so that it must be refused: a flipped byte in the signature or in a
signed frame, a wrong key, no signature, no delimiter, missing frames, random frames, or a
correctly signed header that is not JSON or lacks msg_type. Afterwards a valid execute must
work, the marker file must not exist (nothing reached the backend) and hb must still echo.
The last stdout line is JSON: {"ok", "checks", "sent"}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import sys
import time
import uuid

import zmq
from jupyter_client import KernelManager
from jupyter_client.session import Session

KERNEL = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
rng = random.Random(20261122)
checks: dict[str, dict] = {}


def check(name, ok, detail=None):
    checks[name] = {"ok": bool(ok), "detail": detail}


def sign(key: bytes, parts: list[bytes]) -> bytes:
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(p)
    return h.hexdigest().encode()


def flip(b: bytes) -> bytes:
    if not b:
        return b"x"
    i = rng.randrange(len(b))
    return b[:i] + bytes([b[i] ^ (1 << rng.randrange(8))]) + b[i + 1 :]


def fuzz_frames(key: bytes, session: Session, marker: str, msg_type: str) -> list[bytes]:
    msg = session.msg(msg_type, {"code": f"open({marker!r}, 'a').write('leak\\n')", "silent": False, "value": "leak"})
    signed = [session.pack(msg["header"]), session.pack(msg["parent_header"]), session.pack(msg["metadata"]), session.pack(msg["content"])]
    sig = sign(key, signed)
    kind = rng.randrange(10)
    if kind == 0:
        return [b"<IDS|MSG>", flip(sig), *signed]
    if kind == 1:
        i = rng.randrange(4)
        broken = list(signed)
        broken[i] = flip(broken[i])
        return [b"<IDS|MSG>", sig, *broken]
    if kind == 2:
        return [b"<IDS|MSG>", sign(b"wrong-key", signed), *signed]
    if kind == 3:
        return [b"<IDS|MSG>", b"", *signed]
    if kind == 4:
        return [sig, *signed]  # no delimiter
    if kind == 5:
        return [b"<IDS|MSG>", sig, *signed][: rng.randrange(1, 5)]  # too few frames
    if kind == 6:
        return [os.urandom(rng.randrange(0, 64)) for _ in range(rng.randrange(1, 9))]
    if kind == 7:
        bad = [b"{not json", *signed[1:]]
        return [b"<IDS|MSG>", sign(key, bad), *bad]
    if kind == 8:
        header = json.dumps({"msg_id": uuid.uuid4().hex, "session": "s"}).encode()  # no msg_type
        bad = [header, *signed[1:]]
        return [b"<IDS|MSG>", sign(key, bad), *bad]
    # a signature over the frames plus a buffer, i.e. not over exactly the four JSON frames
    return [b"<IDS|MSG>", sign(key, signed + [b"buf"]), *signed, b"buf"]


def main() -> int:
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    sent = 0
    try:
        kc.wait_for_ready(timeout=60)
        marker = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], f"leak-{uuid.uuid4().hex}")
        key = km.session.key
        session = Session(key=key, username="fuzzer")
        ctx = zmq.Context.instance()
        t = time.monotonic()
        for channel, port, msg_type in (
            ("shell", km.shell_port, "execute_request"),
            ("control", km.control_port, "execute_request"),
            ("stdin", km.stdin_port, "input_reply"),
        ):
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 1000
            sock.sndhwm = 0
            sock.connect(f"tcp://{km.ip}:{port}")
            for _ in range(N):
                sock.send_multipart(fuzz_frames(key, session, marker, msg_type))
                sent += 1
            sock.close()
        # Random subscriptions and unsubscriptions on iopub must not disturb anything either.
        sub = ctx.socket(zmq.XSUB)
        sub.linger = 0
        sub.connect(f"tcp://{km.ip}:{km.iopub_port}")
        for _ in range(1000):
            sub.send(bytes([rng.choice([0, 1])]) + os.urandom(rng.randrange(0, 16)))
        sub.close()
        hb = ctx.socket(zmq.REQ)
        hb.linger = 0
        hb.connect(f"tcp://{km.ip}:{km.hb_port}")
        echoed = 0
        for _ in range(200):
            payload = os.urandom(rng.randrange(1, 256))
            hb.send(payload)
            if hb.poll(30000) and hb.recv() == payload:
                echoed += 1
        hb.close()
        check("hb_echoes_random_payloads", echoed == 200, echoed)
        fuzz_seconds = round(time.monotonic() - t, 2)
        # The router reads each socket in order; a valid request after the flood proves it got through it all.
        results: list[str] = []

        def keep_result(m: dict) -> None:
            if m["msg_type"] == "execute_result":
                results.append(m["content"]["data"].get("text/plain"))

        reply = kc.execute_interactive("6*7", timeout=120, output_hook=keep_result)
        check("valid_execute_after_fuzz", reply["content"]["status"] == "ok" and results == ["42"], [reply["content"].get("status"), results])
        check("nothing_reached_the_backend", not os.path.exists(marker), marker)
        check("router_alive", km.is_alive())
        print(f"[fuzz] {sent} messages in {fuzz_seconds} s", file=sys.stderr)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    ok = all(c["ok"] for c in checks.values())
    print(json.dumps({"ok": ok, "checks": checks, "sent": sent}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
