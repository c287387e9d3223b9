"""One cell through the llmspell-fleet router, as a Jupyter client does it (jupyter_client).

Usage: python curve_check.py KERNEL_NAME CODE
The last stdout line is one JSON object {"status": reply status, "stdout": what the cell printed}.
"""

from __future__ import annotations

import json
import sys

from jupyter_client import KernelManager


def main() -> None:
    kernel, code = sys.argv[1], sys.argv[2]
    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        out: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])

        reply = kc.execute_interactive(code, output_hook=hook, timeout=120)
        kc.stop_channels()
        print(json.dumps({"status": reply["content"]["status"], "stdout": "".join(out)}), flush=True)
    finally:
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    main()
