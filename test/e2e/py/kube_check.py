"""Pod backends driven through jupyter_client against the real llmspell-fleet router.

Usage: python kube_check.py share|oom
  share: two clients of kernel llmspell-fleet (a runtime with launcher = "kubernetes"): code runs in
  the pod (its name from the downward API), the second client shares its state, an interrupt
  (a message: no signal crosses into a pod) stops a sleeping cell, a restart gives both a fresh
  pod.
  oom: a cell allocating past the runtime's memory_mb (256) gets the pod OOMKilled, and the
  client is told so by its Kubernetes reason.
The last stdout line is one JSON object {"ok": bool, "checks": {name: {"ok", "detail"}}}.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from typing import Any

from jupyter_client import KernelManager

checks: dict[str, dict[str, Any]] = {}


def check(name: str, ok: bool, detail: Any = None) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}
    print(f"[kube_check] {'ok  ' if ok else 'FAIL'} {name} {json.dumps(detail, default=str)[:300]}", file=sys.stderr, flush=True)


def start(kernel: str):
    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=180)
    return km, kc


def run(kc, code: str, timeout: float = 120) -> tuple[str, dict]:
    out: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return "".join(out), reply["content"]


def texts_until(kc, needle: str, timeout: float) -> list[str]:
    """Every text the client sees on iopub until one contains needle (or the time is up)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        content = msg["content"]
        text = content.get("text") or "\n".join(content.get("traceback", []) or []) or content.get("evalue", "")
        if text:
            seen.append(text)
            if needle in text:
                break
    return seen


def oom() -> None:
    km, kc = start("llmspell-fleet")
    out, _ = run(kc, "print('alive')")
    check("starts under its memory limit", out.strip() == "alive", out)
    kc.execute("b = bytearray(400 * 1024 * 1024)\nprint('survived')")
    seen = texts_until(kc, "memory limit", 180)
    check("client told of the memory limit by its Kubernetes reason", any("killed: memory limit 256 MB reached (OOMKilled)" in t for t in seen), seen[-5:])
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def share() -> None:
    km1, kc1 = start("llmspell-fleet")
    out, _ = run(kc1, "import os\nx = 42\nprint(os.environ.get('POD_NAME', 'none'), os.path.exists('/etc/llmspell-fleet/connection.json'))")
    pod = out.split()[0] if out.split() else ""
    check("runs in a pod", pod.startswith("llmspell-") and out.split()[1:] == ["True"], out)
    km2, kc2 = start("llmspell-fleet")
    out2, _ = run(kc2, "print(x, os.environ['POD_NAME'])")
    check("second client shares the backend", out2.split() == ["42", pod], {"first": out, "second": out2})
    msg_id = kc1.execute("import time\ntime.sleep(120)")
    # Wait until the cell runs (busy), so the interrupt hits it and not an idle kernel.
    while True:
        msg = kc1.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy":
            break
    km1.interrupt_kernel()
    reply = kc1.get_shell_msg(timeout=60)
    check("interrupt stops the running cell", reply["content"].get("ename") == "KeyboardInterrupt", reply["content"].get("ename"))
    km1.restart_kernel(now=False)
    kc1.wait_for_ready(timeout=180)
    out3, _ = run(kc1, "import os\nprint(os.environ['POD_NAME'], 'x' in globals())")
    check("restart gives a fresh pod", len(out3.split()) == 2 and out3.split()[0] != pod and out3.split()[1] == "False", {"before": pod, "after": out3})
    for km, kc in ((km1, kc1), (km2, kc2)):
        kc.stop_channels()
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    {"share": share, "oom": oom}[sys.argv[1]]()
    print(json.dumps({"ok": all(c["ok"] for c in checks.values()) and len(checks) > 0, "checks": checks}))
