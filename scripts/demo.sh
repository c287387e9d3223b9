#!/usr/bin/env bash
# The main job on a fresh machine: set up, install the kernelspec for this user, and run a
# short session through the router to a Python (ipykernel) and a JavaScript (tslab) backend.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
node dist/src/cli/main.js install --user
echo
.venv/bin/python examples/demo.py
echo
echo "The fleet after the demo (backends linger for linger_seconds, then stop):"
node dist/src/cli/main.js list
node dist/src/cli/main.js stop-all >/dev/null
