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

from launcher_checks import Checks, interrupt_sleeping_cell, main, memory_limit, run, start

checks = Checks("kube_check")


def oom() -> None:
    memory_limit(checks, "llmspell-fleet", "client told of the memory limit by its Kubernetes reason", "killed: memory limit 256 MB reached (OOMKilled)", 180)


def share() -> None:
    km1, kc1 = start("llmspell-fleet")
    out, _ = run(kc1, "import os\nx = 42\nprint(os.environ.get('POD_NAME', 'none'), os.path.exists('/etc/llmspell-fleet/connection.json'))")
    pod = out.split()[0] if out.split() else ""
    checks.check("runs in a pod", pod.startswith("llmspell-") and out.split()[1:] == ["True"], out)
    km2, kc2 = start("llmspell-fleet")
    out2, _ = run(kc2, "print(x, os.environ['POD_NAME'])")
    checks.check("second client shares the backend", out2.split() == ["42", pod], {"first": out, "second": out2})
    interrupt_sleeping_cell(checks, km1, kc1)
    km1.restart_kernel(now=False)
    kc1.wait_for_ready(timeout=180)
    out3, _ = run(kc1, "import os\nprint(os.environ['POD_NAME'], 'x' in globals())")
    checks.check("restart gives a fresh pod", len(out3.split()) == 2 and out3.split()[0] != pod and out3.split()[1] == "False", {"before": pod, "after": out3})
    for km, kc in ((km1, kc1), (km2, kc2)):
        kc.stop_channels()
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    main(checks, {"share": share, "oom": oom})
