"""jupyter_kernel_test conformance tests for llmspell behind the adapter (the "LLMSpell (Lua)"
kernelspec that `llmspell-fleet install --llmspell` writes).

The kernel name comes from $KERNEL_NAME (default llmspell). Run either way:
    KERNEL_NAME=llmspell python -m unittest -v kernel_test_llmspell     (from this directory)
    KERNEL_NAME=llmspell python kernel_test_llmspell.py
The second form prints the same JSON summary line as kernel_test_python.py, with the names of
the tests that passed.

Samples are given for everything Lua in llmspell can do. Left empty, so their tests skip:
- code_stderr: llmspell captures print and io.write only; io.stderr:write goes to the process's
  own stderr, which the adapter keeps in the backend log, so a cell cannot write a stderr stream;
- code_display_data: llmspell's display_data only repeats a cell's result, and the adapter drops
  it as a duplicate of the execute_result;
- code_page_something, code_clear_output: Lua has no help pager and llmspell no clear_output.
The iopub_welcome tests are not run: the adapter speaks protocol 5.3, and iopub_welcome is 5.5.
"""

from __future__ import annotations

import os
import sys

import jupyter_kernel_test as jkt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_test_python import PatientExecuteMixin, run_and_report  # noqa: E402

KERNEL_NAME = os.environ.get("KERNEL_NAME", "llmspell")


class LlmspellKernelTests(PatientExecuteMixin, jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "lua"
    file_extension = ".lua"

    code_hello_world = 'print("hello, world")'

    completion_samples = [
        {"text": "pri", "matches": {"print"}},
        {"text": "string.fo", "matches": {"format"}},
    ]

    complete_code_samples = ["x = 1", "return 1", "function f()\n  return 1\nend"]
    incomplete_code_samples = ["for i=1,3 do", "function f()", 's = "unfinished']
    invalid_code_samples = ["x = = 1", "return )"]

    code_generate_error = 'error("boom")'

    code_execute_result = [
        {"code": "return 6*7", "result": "42"},
        {"code": 'return "fl" .. "eet"', "result": '"fleet"'},
    ]

    # a glob over the whole input, matching the first execute_result sample
    code_history_pattern = "return 6*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "print"


if __name__ == "__main__":
    sys.exit(run_and_report("__main__", KERNEL_NAME))
