"""Container backends driven through jupyter_client against the real llmspell-fleet router.

Usage: python container_check.py SCENARIO
  share  two clients of kernel llmspell-fleet (a container runtime): code runs in the container,
         the second client shares its state, an interrupt stops a sleeping cell, a restart
         gives both a fresh one
  oom    kernel llmspell-fleet-pyoom-openai (memory_mb set): a cell that allocates past the limit
         ends the backend, and the client is told it was the memory limit
  warn   the same kernel: a cell that holds 92 % of memory_mb (by its own cgroup's count) is warned
         once while it waits on input(); then, told to go on, it is killed by the limit
The last stdout line is one JSON object {"ok": bool, "checks": {name: {"ok", "detail"}}}.
"""

from __future__ import annotations

from launcher_checks import Checks, interrupt_sleeping_cell, main, memory_limit, run, start, texts_until

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


# Its own memory cgroup: the host's path when the container sees the whole hierarchy, else the
# container's own cgroup mounted at the root. Holds 92 % of the limit, then waits for the client.
WARN_CELL = """
import os
cg = [l.split(':', 2)[2] for l in open('/proc/self/cgroup').read().splitlines() if l.split(':')[1] == 'memory'][0]
path = [p for p in ('/sys/fs/cgroup/memory' + cg.rstrip('/') + '/memory.usage_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes') if os.path.exists(p)][0]
usage = lambda: int(open(path).read())
blocks = []
while usage() < 0.92 * 128 * 2**20:
    blocks.append(b'\\x01' * 2**20)
print('holding', usage() // 2**20, 'MB', flush=True)
input('allocate past the limit? ')
while True:
    blocks.append(b'\\x01' * (16 * 2**20))
"""


def warn() -> None:
    km, kc = start("llmspell-fleet-pyoom-openai")
    kc.execute(WARN_CELL, allow_stdin=True)
    seen = texts_until(kc, "Save your work", 180)
    checks.check("the running cell is warned before the limit", any("of its 128 MB memory limit" in t for t in seen), seen[-5:])
    request = kc.get_stdin_msg(timeout=180)
    checks.check("the cell held its memory and asks to go on", request["msg_type"] == "input_request", request["msg_type"])
    kc.input("y")
    after = texts_until(kc, "memory limit 128 MB reached", 120)
    checks.check("then it is killed by the limit", any("killed: memory limit 128 MB reached" in t for t in after), after[-5:])
    checks.check("warned once", sum("Save your work" in t for t in seen + after) == 1, [t for t in seen + after if "Save your work" in t])
    kc.stop_channels()
    km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main(checks, {"share": share, "oom": oom, "warn": warn})
