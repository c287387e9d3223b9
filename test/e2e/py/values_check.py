"""%llmspell get/put through the real router, driven by jupyter_client (issue 13, item 7).

Usage: python values_check.py
One router (the llmspell-fleet kernelspec, default runtime python) and three backends of its
session: ipykernel (python), tslab (javascript) and the llmspell double behind the adapter
(lua, real Lua 5.4). A nested value goes python -> javascript -> lua -> python; values that
cannot cross are refused with errors that name them, and nothing is copied then. Every iopub
message the client sees belongs to a request it sent (the router's own snippets stay inside).
Progress goes to stderr; the last stdout line is one JSON object
    {"ok": bool, "checks": {name: {"ok": bool, "detail": ...}}}
Exit status 0 only if every check passed.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from jupyter_client import KernelManager

STEP_TIMEOUT = 90.0
checks: dict[str, dict[str, Any]] = {}
T0 = time.monotonic()


def log(*args: Any) -> None:
    print(f"[values_check {time.monotonic() - T0:7.2f}s]", *args, file=sys.stderr, flush=True)


def check(name: str, ok: bool, detail: Any = None) -> bool:
    if name in checks:
        raise RuntimeError(f"check {name} recorded twice")
    checks[name] = {"ok": bool(ok), "detail": detail}
    log(("ok  " if ok else "FAIL"), name, json.dumps(detail, default=str)[:600])
    return bool(ok)


def equal(name: str, actual: Any, expected: Any) -> bool:
    return check(name, actual == expected, {"actual": actual, "expected": expected})


class Client:
    def __init__(self) -> None:
        self.km = KernelManager(kernel_name="llmspell-fleet")
        self.km.shutdown_wait_time = 30.0
        self.kc: Any = None
        self.iopub: list[dict[str, Any]] = []
        self.shell: list[dict[str, Any]] = []

    def start(self) -> "Client":
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=STEP_TIMEOUT)
        return self

    def send(self, code: str) -> str:
        return self.kc.execute(code, stop_on_error=False)

    def execute(self, code: str) -> dict[str, Any]:
        return self.collect(self.send(code), code)

    def collect(self, msg_id: str, code: str = "") -> dict[str, Any]:
        """One cell: its iopub messages in order (types), stdout, error and reply. Reads through
        everything received so far first, so cells sent back to back are each seen whole."""
        out: dict[str, Any] = {"types": [], "stdout": "", "error": None, "reply": None}
        deadline = time.monotonic() + STEP_TIMEOUT
        idle = False
        i = 0
        while not idle and time.monotonic() < deadline:
            if i == len(self.iopub):
                self.iopub.append(self.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic())))
            m = self.iopub[i]
            i += 1
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = m["msg_type"], m["content"]
            out["types"].append(t if t != "status" else c["execution_state"])
            if t == "stream" and c["name"] == "stdout":
                out["stdout"] += c["text"]
            elif t == "error":
                out["error"] = f"{c.get('ename')}: {c.get('evalue')}"
            elif t == "status" and c["execution_state"] == "idle":
                idle = True
        i = 0
        while out["reply"] is None and time.monotonic() < deadline:
            if i == len(self.shell):
                self.shell.append(self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic())))
            r = self.shell[i]
            i += 1
            if r["parent_header"].get("msg_id") == msg_id:
                out["reply"] = r["content"]
        log(f"cell {code.splitlines()[0][:60] if code else msg_id!r}: {out['reply'] and out['reply']['status']} {out['stdout'][:200]!r} {out['error']}")
        return out

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=False)


def js(code: str) -> str:
    return "%%llmspell runtime=javascript\n" + code


def py(code: str) -> str:
    return "%%llmspell runtime=python\n" + code


def ok_magic(name: str, r: dict[str, Any], stdout: str) -> None:
    check(name, r["reply"] is not None and r["reply"]["status"] == "ok" and r["stdout"] == stdout, {"stdout": r["stdout"], "error": r["error"]})


def failed_magic(name: str, r: dict[str, Any], *needles: str) -> None:
    text = r["error"] or ""
    check(name, r["reply"] is not None and r["reply"]["status"] == "error" and text.startswith("FleetError") and all(n in text for n in needles), {"error": text, "expected": needles})


TEXT = 'é "q"\\ \nline\t😀'


def scenario(c: Client) -> None:
    c.execute(
        "data = {'name': 'fleet', 'n': [1, 2.5, -3], 'ok': True, 'none': None, 'text': %r,\n"
        "        'nested': {'deep': [[{'k': 'v'}]]}, 'empty': [], 'big': 12345678901234567890}\ncount = 3" % TEXT
    )
    r = c.execute("%llmspell put data count --to javascript")
    ok_magic("put_python_to_javascript", r, "copied data, count to javascript/openai\n")
    equal("magic_cell_messages", r["types"], ["busy", "execute_input", "stream", "idle"])
    r = c.execute(js(
        "console.log(JSON.stringify({name: data.name, n: data.n, ok: data.ok, none: data.none, text: data.text,"
        " deep: data.nested.deep[0][0].k, empty: data.empty, big: typeof data.big, bigText: data.big.toString(), count: count}))"
    ))
    got = json.loads(r["stdout"]) if r["stdout"].strip().startswith("{") else r
    equal("javascript_has_the_values", got, {
        "name": "fleet", "n": [1, 2.5, -3], "ok": True, "none": None, "text": TEXT,
        "deep": "v", "empty": [], "big": "bigint", "bigText": "12345678901234567890", "count": 3,
    })
    c.execute(js('data.n.push(4); let more = {list: [1, "two", {three: 3}], flag: false}'))

    r = c.execute("%llmspell use lua")
    check("use_lua", r["reply"]["status"] == "ok" and r["stdout"].startswith("Using lua/openai"), r["stdout"])
    # A BigInt beyond 64 bits cannot be a Lua integer: refused, named, and nothing is copied.
    r = c.execute("%llmspell get data more --from javascript")
    failed_magic("too_big_for_lua_is_refused", r, 'data["big"]', "does not fit a Lua integer")
    equal("nothing_copied_after_a_refusal", c.execute("print(more == nil, data == nil)")["stdout"], "true\ttrue\n")
    c.execute(js("delete data.big"))
    r = c.execute("%llmspell get data more --from javascript")
    ok_magic("get_javascript_into_lua", r, "copied data, more from javascript/openai\n")
    r = c.execute(
        "print(data.name, data.n[4], math.type(data.n[1]), math.type(data.n[2]), data.ok, data.none == nil,"
        " #data.empty, data.nested.deep[1][1].k, more.list[2], more.list[3].three, more.flag)"
    )
    equal("lua_has_the_values", r["stdout"], "fleet\t4\tinteger\tfloat\ttrue\ttrue\t0\tv\ttwo\t3\tfalse\n")
    equal("lua_text_unicode_quotes_newlines", c.execute("print(data.text)")["stdout"], TEXT + "\n")

    c.execute('data.name = "from lua"; t = {x = 1.5, y = {true, false}, e = {}, i = math.maxinteger}')
    r = c.execute("%llmspell put data t --to python")
    ok_magic("put_lua_to_python", r, "copied data, t to python/openai\n")
    r = c.execute(py("import json\nprint(json.dumps([data, t]))\nprint(type(data['n'][0]).__name__, type(data['n'][1]).__name__)"))
    lines = r["stdout"].splitlines()
    got = json.loads(lines[0]) if lines and lines[0].startswith("[") else r
    equal("python_has_the_values_keys_sorted_by_lua", got, [
        {"empty": [], "n": [1, 2.5, -3, 4], "name": "from lua", "nested": {"deep": [[{"k": "v"}]]}, "ok": True, "text": TEXT},
        {"e": [], "i": 9223372036854775807, "x": 1.5, "y": [True, False]},
    ])
    check("python_keeps_order", lines[0].startswith('[{"empty": [], "n"') if lines else False, lines[:1])
    equal("python_int_and_float", lines[1:], ["int float"])

    c.execute(py("def f(): pass"))
    r = c.execute("%llmspell get f nope --from python")
    failed_magic("function_and_undefined_are_named", r, "f is a function", "nope is not defined")
    failed_magic("reserved_word_in_the_target", c.execute("%llmspell get end --from python"), '"end" is a reserved word in Lua')
    failed_magic("own_backend_refused", c.execute("%llmspell get data --from lua"), "lua/openai is this session's own backend")

    c.execute(py("tup = (1, 'a')\nbad_keys = {1: 'a'}\nnan = float('nan')\ncyc = []\ncyc.append(cyc)"))
    r = c.execute("%llmspell get bad_keys nan cyc --from python")
    failed_magic("python_refusals_named", r, "bad_keys has a key 1 that is not a string", "nan is nan, not a finite number", "cyc[0] contains itself")
    ok_magic("python_tuple_copied", c.execute("%llmspell get tup --from python"), "copied tup from python/openai\n")
    equal("python_tuple_is_a_lua_list", c.execute("print(tup[1], tup[2], #tup)")["stdout"], "1\ta\t2\n")

    # "Run all": the next cell is sent before the copy is answered, and still sees the value.
    c.execute(py("pipelined = {'a': [1, 2]}"))
    first = c.send("%llmspell get pipelined --from python")
    second = c.send("print(pipelined.a[2])")
    ok_magic("get_sent_back_to_back", c.collect(first), "copied pipelined from python/openai\n")
    equal("the_next_cell_sees_the_copy", c.collect(second)["stdout"], "2\n")

    # The router's snippets are requests of its own session; everything the client sees answers one of its own.
    foreign = [m for m in c.iopub if m["parent_header"] and m["parent_header"].get("session") != c.kc.session.session]
    check("no_iopub_of_the_routers_own_requests", not foreign, [(m["msg_type"], m["content"], m["parent_header"]) for m in foreign][:5])
    marker = [m for m in c.iopub if "llmspell-fleet-values" in json.dumps(m["content"])]
    check("no_export_marker_reaches_the_client", not marker, [m["content"] for m in marker][:3])


def main() -> int:
    c = Client()
    try:
        c.start()
        scenario(c)
    except Exception as e:  # noqa: BLE001 - reported as a failed check with its traceback
        check("scenario_ran_to_the_end", False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    finally:
        try:
            c.shutdown()
        except Exception as e:  # noqa: BLE001
            log(f"shutdown failed: {e}")
    ok = bool(checks) and all(x["ok"] for x in checks.values())
    print(json.dumps({"ok": ok, "checks": checks}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
