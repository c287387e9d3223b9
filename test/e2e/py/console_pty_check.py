"""Drive an interactive `jupyter console --kernel NAME` through a real pseudo-terminal (pexpect).

Usage: python console_pty_check.py KERNEL_NAME --transcript FILE [--timeout SECONDS]

What a user does at the terminal, with the kernel routed to ipykernel: Tab completes a Python
name (one candidate: inserted in the line; several: a menu), Ctrl-C while a cell runs interrupts
it (KeyboardInterrupt) and the console keeps working, `exit` leaves. The full prompt_toolkit UI
runs (no --simple-prompt: it has no completion), so its output is full of escape sequences and
redraws; every wait is for text in the terminal stream with the escape sequences removed, and
each wait only looks at what arrived after the previous one.

The transcript (escape sequences removed) goes to FILE. Progress goes to stderr; the last stdout
line is one JSON object: {"ok": bool, "kernel": NAME, "checks": {name: {"ok", "detail",
"seconds"}}, "exitstatus": int | None}. Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

import pexpect
from pty_steps import Steps, plain


class Terminal:
    """The console's pty, read as text: `wait_for` consumes the stream up to the match."""

    def __init__(self, child: pexpect.spawn, timeout: float) -> None:
        self.child = child
        self.timeout = timeout
        self.raw = ""
        self.mark = 0

    def _read(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise pexpect.TIMEOUT("deadline passed")
        self.raw += self.child.read_nonblocking(65536, timeout=min(left, 1.0))

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Waits for `pattern` in the plain text after the last match; moves the mark past it."""
        deadline = time.monotonic() + self.timeout
        regex = re.compile(pattern)
        while True:
            text = plain(self.raw)
            match = regex.search(text, self.mark)
            if match:
                self.mark = match.end()
                return match
            try:
                self._read(deadline)
            except pexpect.TIMEOUT:
                if time.monotonic() >= deadline:
                    raise pexpect.TIMEOUT(f"no {pattern!r} within {self.timeout}s; after the mark: {text[self.mark:][-1500:]!r}")

    def since_mark(self) -> str:
        return plain(self.raw)[self.mark:]

    def drain_to_eof(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._read(deadline)
            except pexpect.EOF:
                return


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel")
    ap.add_argument("--transcript", required=True)
    ap.add_argument("--timeout", type=float, default=90.0)
    args = ap.parse_args()

    console = os.path.join(os.path.dirname(sys.executable), "jupyter-console")
    # No cursor-position request: nobody answers it on this pty, and prompt_toolkit would warn.
    env = dict(os.environ, TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    argv = ["--kernel", args.kernel, "--no-confirm-exit", "--ZMQTerminalInteractiveShell.kernel_timeout=60"]
    steps = Steps("console_pty_check")
    steps.log("spawning", console, argv)
    child = pexpect.spawn(console, argv, env=env, dimensions=(40, 120), encoding="utf-8", codec_errors="replace")
    term = Terminal(child, args.timeout)

    def first_prompt() -> str:
        term.wait_for(r"In \[1\]: ")
        child.sendline("import time; fleet_alpha = 11; fleet_beta = 22")
        term.wait_for(r"In \[2\]: ")
        return "prompt shown, names defined"

    def completes_one_name() -> str:
        # Only "fleet_al" is typed: "fleet_alpha" can only come from the kernel's completion.
        child.send("fleet_al")
        term.wait_for(r"fleet_al")
        child.send("\t")
        term.wait_for(r"pha")
        child.send("\r")
        out = term.wait_for(r"Out\[2\]: (\d+)")
        assert out.group(1) == "11", f"the completed name evaluated to {out.group(1)}"
        term.wait_for(r"In \[3\]: ")
        return "fleet_al<Tab> -> fleet_alpha, Out[2]: 11"

    def lists_candidates() -> str:
        child.send("fleet_")
        term.wait_for(r"fleet_")
        child.send("\t")
        # The completion menu is drawn below the line, one candidate per row.
        term.wait_for(r"fleet_alpha")
        term.wait_for(r"fleet_beta")
        # At the prompt Ctrl-C is a key (raw mode, no SIGINT): the first closes the menu, the second
        # empties the line. Keys are handled in order, so the next step's line starts on an empty
        # one (or fails to run: it would read "fleet_while ...").
        child.send("\x03\x03")
        return "fleet_<Tab> -> menu with fleet_alpha, fleet_beta"

    def interrupts_running_cell() -> str:
        # The output is built so that the echoed input does not match it.
        child.send('while True: print("still " + "looping", flush=True); time.sleep(0.5)')
        # A second Enter ends the compound statement if the first one only opened a new line.
        child.send("\r\r")
        term.wait_for(r"still looping")
        # Now the cell runs and the terminal is in cooked mode: ^C is SIGINT to jupyter console,
        # which asks the kernel (the router) to interrupt its backend.
        child.sendintr()
        term.wait_for(r"KeyboardInterrupt")
        term.wait_for(r"In \[4\]: ")
        return "KeyboardInterrupt shown, prompt In [4] back"

    def keeps_working() -> str:
        child.sendline("print(6 * 7)")
        term.wait_for(r"\b42\b")
        term.wait_for(r"In \[5\]: ")
        return "print(6 * 7) -> 42"

    def exits() -> str:
        child.sendline("exit")
        term.wait_for(r"Shutting down kernel")
        term.drain_to_eof()
        child.close()
        assert child.exitstatus == 0, f"exit status {child.exitstatus}, signal {child.signalstatus}"
        return "exit status 0"

    for name, fn in [
        ("first_prompt", first_prompt),
        ("completes_one_name", completes_one_name),
        ("lists_candidates", lists_candidates),
        ("interrupts_running_cell", interrupts_running_cell),
        ("keeps_working", keeps_working),
        ("exits", exits),
    ]:
        if not steps.step(name, fn):
            break
    steps.log("transcript:", args.transcript)
    return steps.finish(child, args.transcript, plain(term.raw), args.kernel)


if __name__ == "__main__":
    sys.exit(main())
