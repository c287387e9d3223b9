"""The kernel usage panel's request (jupyter-resource-usage) through the router, as a
jupyter_client user sends it.

Usage: python usage_check.py KERNEL_NAME CODE BACKEND_WORD
Starts KERNEL_NAME with a KernelManager, runs CODE so that the backend is up, then sends
usage_request on the control channel as jupyter-resource-usage does, twice. Each must get one
usage_reply with ipykernel's fields; its pid must be the backend's (a process group leader
whose command line holds BACKEND_WORD, not the router), and its kernel_memory must be within
30% of the resident memory of that process group and what it started, read here from /proc
right after the reply.
The last stdout line is one JSON object: {"ok": bool, "checks": {...}, "replies": [...], "group_rss": [...],
"group_processes": [...]}.
"""

from __future__ import annotations

import os
import sys
import time
from queue import Empty
from typing import Any

from jupyter_client import KernelManager
from kernel_checks import Checks, run_kernel_check

KERNEL, CODE, BACKEND_WORD = sys.argv[1], sys.argv[2], sys.argv[3]
STEP_TIMEOUT = 90.0
FIELDS = ["hostname", "pid", "kernel_cpu", "kernel_memory", "host_cpu_percent", "cpu_count", "host_virtual_memory"]
MEMORY_FIELDS = {"total", "available", "percent", "used", "free"}

checks = Checks()
check = checks.check
out: dict[str, Any] = {"replies": [], "group_rss": [], "group_processes": []}


def group_rss(pgid: int) -> tuple[int, int]:
    """Resident bytes and number of the processes in the group led by pgid and of their
    descendants in groups of their own (llmspell behind the adapter), read from /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    procs: dict[int, tuple[int, int, int]] = {}  # pid -> (ppid, pgrp, rss bytes)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 1 :].split()  # state, ppid, pgrp, ...
            with open(f"/proc/{name}/statm") as f:
                rss = int(f.read().split()[1]) * page
            procs[int(name)] = (int(fields[1]), int(fields[2]), rss)
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading
    family = {pid for pid, (_ppid, pgrp, _rss) in procs.items() if pgrp == pgid}
    grown = True
    while grown:
        more = {pid for pid, (ppid, _pgrp, _rss) in procs.items() if ppid in family} - family
        family |= more
        grown = bool(more)
    return sum(procs[pid][2] for pid in family), len(family)


def usage(kc: Any) -> list[dict[str, Any]]:
    """Every usage_reply to one usage_request, until a second passes with no other."""
    msg = kc.session.msg("usage_request", {})
    kc.control_channel.send(msg)
    replies = []
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            reply = kc.control_channel.get_msg(timeout=1.0 if replies else deadline - time.monotonic())
        except Empty:
            break
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            replies.append({"msg_type": reply["header"]["msg_type"], "content": reply["content"]})
    return replies


def run(km: KernelManager, kc: Any) -> None:
    # Its output is not wanted: the last stdout line must be the JSON result.
    reply = kc.execute_interactive(CODE, timeout=STEP_TIMEOUT, output_hook=lambda _msg: None)
    check("code_ran", reply["content"]["status"] == "ok", reply["content"])
    router_pid = km.provisioner.process.pid if km.provisioner and km.provisioner.process else None
    for n in (1, 2):
        replies = usage(kc)
        rss, members = group_rss(replies[0]["content"].get("pid", -1)) if replies else (0, 0)
        out["replies"].append(replies)
        out["group_rss"].append(rss)
        out["group_processes"].append(members)
        check(f"one_usage_reply_{n}", [r["msg_type"] for r in replies] == ["usage_reply"], replies)
        if not replies:
            return
        content = replies[0]["content"]
        check(f"fields_{n}", all(k in content for k in FIELDS) and MEMORY_FIELDS <= set(content.get("host_virtual_memory", {})), sorted(content))
        pid = content.get("pid")
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            leader = os.getpgid(pid) == pid
        except (OSError, TypeError):
            cmdline, leader = "", False
        check(f"pid_is_the_backend_{n}", pid != router_pid and pid != os.getpid() and leader and BACKEND_WORD in cmdline, {"pid": pid, "router": router_pid, "leader": leader, "cmdline": cmdline})
        memory = content.get("kernel_memory")
        check(f"memory_is_the_group_{n}", isinstance(memory, int) and rss > 0 and abs(memory - rss) <= 0.3 * rss, {"kernel_memory": memory, "group_rss": rss})
        check(
            f"host_figures_{n}",
            content.get("cpu_count") == os.cpu_count() and content.get("hostname") == os.uname().nodename and isinstance(content.get("kernel_cpu"), (int, float)) and content["kernel_cpu"] >= 0 and 0 <= content.get("host_cpu_percent", -1) <= 100,
            {k: content.get(k) for k in ("cpu_count", "hostname", "kernel_cpu", "host_cpu_percent")},
        )


def main() -> None:
    run_kernel_check(KERNEL, run, checks, out, STEP_TIMEOUT)


if __name__ == "__main__":
    main()
