"""Drive `jupyter console --kernel NAME --simple-prompt` non-interactively.

Usage: python console_check.py [KERNEL_NAME] [--code CODE] [--expect TEXT] [--exit-command CMD]
                               [--timeout SECONDS]

Feeds CODE (and then the exit command, if any) on stdin, closes stdin, and checks that
the console printed TEXT, exited with status 0 within the timeout and removed the
connection file it wrote into $JUPYTER_RUNTIME_DIR.

Defaults depend on the kernelspec's language: python -> code `print("answer:", 6*7)` and
exit command `exit` (the kernel answers it with an ask_exit payload, so the execute_reply
payload path is exercised); javascript/typescript -> `console.log("answer:", 6*7)` and no
exit command (jupyter console then exits on end of input; confirm_exit is switched off).
Expected text defaults to "answer: 42" (the input is not echoed on a pipe, so the text can
only come from the kernel's output).

Progress goes to stderr; the last stdout line is one JSON object:
    {"ok": bool, "kernel": NAME, "checks": {name: {"ok": bool, "detail": ...}},
     "returncode": int | None, "seconds": float, "stdout": str, "stderr": str}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager

DEFAULT_CODE = {
    "python": 'print("answer:", 6*7)',
    "javascript": 'console.log("answer:", 6*7)',
    "typescript": 'console.log("answer:", 6*7)',
}


def log(*args: Any) -> None:
    print("[console_check]", *args, file=sys.stderr, flush=True)


def runtime_files() -> set[str]:
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR")
    if not runtime or not os.path.isdir(runtime):
        return set()
    return {f for f in os.listdir(runtime) if f.startswith("kernel-") and f.endswith(".json")}


def descendants(pid: int) -> list[int]:
    """Every process below pid, read from /proc (the kernel the console started, and its children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # the command name (field 2) may hold spaces; ppid is the 2nd field after its ")"
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel", nargs="?", default=os.environ.get("KERNEL_NAME", "python3"))
    ap.add_argument("--code")
    ap.add_argument("--expect", default="answer: 42")
    ap.add_argument("--exit-command")
    ap.add_argument("--timeout", type=float, default=90.0)
    # The backend's language, when the kernelspec's is not it (llmspell-fleet says "lua" and routes).
    ap.add_argument("--language")
    args = ap.parse_args()

    language = (args.language or KernelSpecManager().get_kernel_spec(args.kernel).language).lower()
    code = args.code if args.code is not None else DEFAULT_CODE.get(language)
    if code is None:
        raise SystemExit(f"no default code for kernel language {language!r}; pass --code")
    exit_command = args.exit_command
    if exit_command is None and args.code is None and language == "python":
        exit_command = "exit"
    stdin_text = code + "\n" + (exit_command + "\n" if exit_command else "")

    console = os.path.join(os.path.dirname(sys.executable), "jupyter-console")
    argv = [
        console,
        "--kernel",
        args.kernel,
        "--simple-prompt",
        "--no-confirm-exit",
        # wait_for_ready inside jupyter console; a cold kernel on 2 cores can be slow
        "--ZMQTerminalInteractiveShell.kernel_timeout=60",
    ]
    before = runtime_files()
    log("running", argv, "stdin", repr(stdin_text))
    t0 = time.monotonic()
    # Output goes to files, not pipes: the kernel the console starts inherits them, and with
    # pipes a console killed on timeout left its kernel holding them open, so reading them
    # waited for that kernel forever and the report of what the console printed never came.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
        timed_out = False
        try:
            proc.communicate(stdin_text, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            below = descendants(proc.pid)
            log("timed out; killing the console and", below)
            for pid in [proc.pid, *below]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    seconds = round(time.monotonic() - t0, 3)
    log(f"console finished in {seconds}s with status {proc.returncode}")

    checks: dict[str, dict[str, Any]] = {}

    def record(name: str, ok: bool, detail: Any) -> None:
        checks[name] = {"ok": bool(ok), "detail": detail}

    record("exited_in_time", not timed_out, f"{seconds}s (timeout {args.timeout}s)")
    record("exit_status_0", proc.returncode == 0, proc.returncode)
    record("output", args.expect in stdout, f"looking for {args.expect!r}")
    # The console shuts its kernel down on exit and removes the connection file it wrote.
    left = sorted(runtime_files() - before)
    record("connection_file_removed", not left, left)

    ok = all(c["ok"] for c in checks.values())
    print(
        json.dumps(
            {
                "ok": ok,
                "kernel": args.kernel,
                "language": language,
                "checks": checks,
                "returncode": proc.returncode,
                "seconds": seconds,
                "stdout": stdout[-4000:],
                "stderr": stderr[-4000:],
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
