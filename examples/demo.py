"""A short session through the llmspell-fleet router, printing what the backends answer.

Run by scripts/demo.sh after the kernelspec is installed. For each runtime it starts the
"llmspell-fleet" kernel exactly as Jupyter does (jupyter_client.KernelManager), picks the
runtime through the environment (LLMSPELL_RUNTIME), runs a few cells and shuts down.
"""

from __future__ import annotations

import os
import sys

from jupyter_client import KernelManager

CELLS = {
    "python": ["import sys; print('hello from', sys.implementation.name, sys.version.split()[0])", "sum(range(10))", "1/0"],
    "javascript": ["console.log('hello from node', process.version)", "[1, 2, 3].map(x => x * 2)"],
}


def run_cell(kc, code: str) -> None:
    print(f"  In : {code}")

    def show(msg):
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            print(f"  {c['name']}: {c['text'].rstrip()}")
        elif t == "execute_result":
            print(f"  Out: {c['data'].get('text/plain')}")
        elif t == "error":
            print(f"  Err: {c['ename']}: {c['evalue']}")

    reply = kc.execute_interactive(code, timeout=60, output_hook=show)
    print(f"  [{reply['content']['status']}]")


def main() -> int:
    for runtime, cells in CELLS.items():
        km = KernelManager(kernel_name="llmspell-fleet")
        km.start_kernel(env={**os.environ, "LLMSPELL_RUNTIME": runtime})
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            info = kc.kernel_info(reply=True)["content"]
            print(f"llmspell-fleet -> {runtime}: {info.get('implementation')} ({info['language_info']['name']}), router pid {km.provisioner.process.pid}")
            for code in cells:
                run_cell(kc, code)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        print(f"  shut down; router alive: {km.is_alive()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
