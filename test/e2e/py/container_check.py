"""Container backends driven through jupyter_client against the real llmspell-fleet router.

Usage: python container_check.py SCENARIO
  share  two clients of kernel llmspell-fleet (a container runtime): code runs in the container,
         the second client shares its state, an interrupt stops a sleeping cell, a restart
         gives both a fresh one
  oom    kernel llmspell-fleet-pyoom-openai (memory_mb set): a cell that allocates past the limit
         ends the backend, and the client is told it was the memory limit
The last stdout line is one JSON object {"ok": bool, "checks": {name: {"ok", "detail"}}}.
"""

from __future__ import annotations

from launcher_checks import Checks, interrupt_sleeping_cell, main, memory_limit, run, start

checks = Checks("container_check")


def share() -> None:
    km1, kc1 = start("llmspell-fleet")
    out, _ = run(kc1, "import os\nx = 42\nprint(os.path.exists('/run/.containerenv'), os.getpid())")
    checks.check("runs in a container", out.split()[0] == "True", out)
    km2, kc2 = start("llmspell-fleet")
    out2, _ = run(kc2, "print(x, os.getpid())")
    checks.check("second client shares the backend", out2.split() == ["42", out.split()[1]], {"first": out, "second": out2})
    interrupt_sleeping_cell(checks, km1, kc1)
    km1.restart_kernel(now=False)
    kc1.wait_for_ready(timeout=180)
    out3, _ = run(kc1, "import os\nprint(os.path.exists('/run/.containerenv'), 'x' in globals(), os.getpid())")
    checks.check("restart gives a fresh container backend", out3.split()[:2] == ["True", "False"], out3)
    for km, kc in ((km1, kc1), (km2, kc2)):
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def oom() -> None:
    memory_limit(checks, "llmspell-fleet-pyoom-openai", "client told of the memory limit", "killed: memory limit 128 MB reached", 120)


if __name__ == "__main__":
    main(checks, {"share": share, "oom": oom})
