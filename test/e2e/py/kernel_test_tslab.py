"""jupyter_kernel_test conformance tests for tslab.

The kernel name comes from $KERNEL_NAME (default tslab). The spec we install runs
`tslab kernel --js`, whose kernel_info says language "javascript", file extension ".js"
(implementation "jslab"); without --js it is "typescript" / ".ts". $KERNEL_LANGUAGE
(default javascript) selects which of the two to expect.

Run either way:
    KERNEL_NAME=tslab python -m unittest -v kernel_test_tslab     (from this directory)
    KERNEL_NAME=tslab python kernel_test_tslab.py
The second form prints the same JSON summary line as kernel_test_python.py.

What tslab does differently from ipykernel (so the upstream samples that do not apply are
left empty, and tslab's own behaviour is asserted by the extra tests below):
- no execute_result: the value of the last expression is console.log'ed (a stdout stream);
- an exception gives execute_reply {status: "error"} without ename/evalue/traceback and no
  iopub `error` message; the traceback is a stderr stream. For 200 ms after an error, tslab
  answers further execute_requests with status "abort";
- is_complete never answers "invalid"; no pager payloads, no history_request reply (it only
  publishes busy/idle), no clear_output, no comms (comm_info_reply is sent with
  msg_type "complete_reply").
"""

from __future__ import annotations

import os
import sys
import time

import jupyter_kernel_test as jkt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_test_python import PatientExecuteMixin, run_and_report  # noqa: E402

KERNEL_NAME = os.environ.get("KERNEL_NAME", "tslab")
LANGUAGE = os.environ.get("KERNEL_LANGUAGE", "javascript")


class TslabKernelTests(PatientExecuteMixin, jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = LANGUAGE
    file_extension = ".js" if LANGUAGE == "javascript" else ".ts"

    code_hello_world = "console.log('hello, world')"
    code_stderr = "console.error('to stderr')"

    completion_samples = [
        {"text": "Math.ab", "matches": {"abs"}},
        {"text": "const fleetVariableAbc = 1;\nfleetVariableA", "matches": {"fleetVariableAbc"}},
    ]

    complete_code_samples = ["1 + 1", "console.log('hello, world')", "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "if (x) {\n"]

    code_display_data = [
        {"code": "require('tslab').display.html('<b>fleet</b>')", "mime": "text/html"},
        {"code": "require('tslab').display.markdown('*fleet*')", "mime": "text/markdown"},
    ]

    code_inspect_sample = "Math"

    def stream_text(self, output_msgs: list, name: str) -> str:
        return "".join(
            m["content"]["text"]
            for m in output_msgs
            if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    def test_expression_value_is_printed(self) -> None:
        self.flush_channels()
        reply, output_msgs = self.execute_helper("[1, 2, 3].map(x => x * x)")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual([m["msg_type"] for m in output_msgs], ["stream"])
        self.assertEqual(self.stream_text(output_msgs, "stdout"), "[ 1, 4, 9 ]\n")

    def test_state_persists(self) -> None:
        self.flush_channels()
        reply, _ = self.execute_helper("var fleetCounter = 41;")
        self.assertEqual(reply["content"]["status"], "ok")
        reply, output_msgs = self.execute_helper("fleetCounter + 1")
        self.assertEqual(self.stream_text(output_msgs, "stdout"), "42\n")

    def raw_execute(self, code: str) -> tuple[dict, list]:
        """execute_request -> (reply, iopub messages up to idle), without schema validation."""
        msg_id = self.kc.execute(code)
        reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
        assert reply is not None
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["msg_type"], "execute_reply")
        outputs = []
        deadline = time.monotonic() + jkt.TIMEOUT
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.0, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return reply, outputs
            outputs.append(msg)

    def test_kernel_info(self) -> None:
        # replaces the upstream test: tslab's kernel_info_reply has no "status" field, which
        # the upstream schema requires; everything else is checked here
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        while True:  # skip replies to wait_for_ready's extra kernel_info requests
            reply = self.kc.get_shell_msg(timeout=jkt.TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        content = reply["content"]
        self.assertNotIn("status", content)  # tslab quirk; if this changes, use the upstream test
        self.assertEqual(content["language_info"]["name"], self.language_name)
        self.assertEqual(content["language_info"]["file_extension"], self.file_extension)
        self.assertEqual(content["implementation"], "jslab" if LANGUAGE == "javascript" else "tslab")
        self.assertTrue(content["protocol_version"].startswith("5."))

    def test_error(self) -> None:
        # replaces the upstream test_error: tslab's error reply is not a protocol error reply
        self.flush_channels()
        reply, outputs = self.raw_execute("throw new Error('fleet-boom')")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertNotIn("ename", reply["content"])
        self.assertNotIn("error", [m["msg_type"] for m in outputs])
        self.assertIn("Error: fleet-boom", self.stream_text(outputs, "stderr"))
        # tslab aborts executions for 200 ms after an error; wait (bounded) until it takes
        # code again so that the next test does not see an "abort".
        deadline = time.monotonic() + 60
        while True:
            reply, _ = self.raw_execute("1")
            if reply["content"]["status"] == "ok":
                break
            self.assertEqual(reply["content"]["status"], "abort")
            self.assertLess(time.monotonic(), deadline, "tslab kept aborting after an error")

if __name__ == "__main__":
    sys.exit(run_and_report("__main__", KERNEL_NAME))
