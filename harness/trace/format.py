"""Trace files: a recorded sequence of operations with the answers they must get back.

    {"format": "cascadecheck/trace-1", "grain_size": 2, "policy": "per-type",
     "ops": [{"op": "create_volume", "volume": "S", "size": 8, "expect": {"ok": true}}, ...]}

Loading checks the whole file before anything runs, in time linear in its size, and names the
line of a bad operation: every operation must be a request of the vocabulary (its schema,
`harness.protocol`) unless it expects to be refused as `bad_request`, and an `expect` may name
only fields that operation's answer has. An operation marked `"catch_up": true` is background
time the specification needed to keep pace with an implementation that copies in its own time
(`pace: own`); replay sends it only to exact-pace implementations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.vocabulary import MAX_GRAIN_SIZE, POLICIES

from ..protocol.schema import expect_keys, request_problem

FORMAT = "cascadecheck/trace-1"
TOP_LEVEL_KEYS = {
    "format",
    "grain_size",
    "policy",
    "ops",
    "title",
    "description",
    "seed",
    "verdict",
    "driver",
    "problem",
}
OP_MARKS = ("expect", "catch_up")  # keys of a trace operation that are not request fields


class TraceError(Exception):
    """A trace file that cannot be run, with the line it went wrong on."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")
        self.line = line


@dataclass
class TraceOp:
    """One operation of a trace, what must come back, and where it stands in the file."""

    request: dict[str, Any]
    expect: Any = None
    line: int = 0
    catch_up: bool = False

    def to_json(self) -> dict[str, Any]:
        """The operation as a trace element."""
        out = dict(self.request)
        if self.catch_up:
            out["catch_up"] = True
        if self.expect is not None:
            out["expect"] = self.expect
        return out


@dataclass
class Trace:
    """A whole trace."""

    grain_size: int = 2
    policy: str = "per-type"
    ops: list[TraceOp] = field(default_factory=list)
    title: str = ""
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The trace as a JSON document."""
        doc: dict[str, Any] = {"format": FORMAT, "grain_size": self.grain_size}
        doc["policy"] = self.policy
        if self.title:
            doc["title"] = self.title
        if self.description:
            doc["description"] = self.description
        doc.update(self.extra)
        doc["ops"] = [o.to_json() for o in self.ops]
        return doc

    def dumps(self) -> str:
        """One operation per line, so diffs and line numbers stay readable."""
        doc = self.to_json()
        ops = doc.pop("ops")
        head = json.dumps(doc)[:-1]
        body = ",\n".join("  " + json.dumps(op) for op in ops)
        return f'{head}, "ops": [\n{body}\n]}}\n'

    def dump(self, path: str | Path) -> None:
        """Write the trace file."""
        Path(path).write_text(self.dumps())


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _op_offsets(text: str) -> list[int]:
    """Character offsets of each element of the top-level "ops" array (text is valid JSON)."""
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0) + 1  # past '{'
    while True:
        i = _skip_ws(text, i)
        if text[i] == "}":
            return []
        key, i = dec.raw_decode(text, i)
        i = _skip_ws(text, _skip_ws(text, i) + 1)  # past ':'
        if key == "ops" and text[i] == "[":
            offsets = []
            i += 1
            while True:
                i = _skip_ws(text, i)
                if text[i] == "]":
                    return offsets
                offsets.append(i)
                _, i = dec.raw_decode(text, i)
                i = _skip_ws(text, i)
                if text[i] == ",":
                    i += 1
        _, i = dec.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i += 1


def _check_op(raw: Any, index: int) -> str | None:
    """Why one trace element cannot run, or None."""
    if not isinstance(raw, dict) or not isinstance(raw.get("op"), str):
        return f'operation {index} needs an "op" string'
    expect = raw.get("expect")
    if expect is not None and not isinstance(expect, dict):
        return f"operation {index}: expect must be an object"
    if not isinstance(raw.get("catch_up", False), bool):
        return f"operation {index}: catch_up must be true or false"
    refused_as_malformed = isinstance(expect, dict) and expect.get("error") == "bad_request"
    request = {k: v for k, v in raw.items() if k not in OP_MARKS}
    if not refused_as_malformed:
        problem = request_problem(request)
        if problem:
            return f"operation {index} ({raw['op']}): {problem}"
    if isinstance(expect, dict):
        unknown = sorted(set(expect) - expect_keys(raw["op"]))
        if unknown:
            return f"operation {index} ({raw['op']}): expect names unknown field {unknown[0]!r}"
    return None


def parse_trace(text: str, path: str = "<trace>") -> Trace:
    """Check and load a trace document."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise TraceError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    except RecursionError:
        raise TraceError(path, None, "nested too deeply to be a trace") from None
    if not isinstance(doc, dict):
        raise TraceError(path, 1, "a trace is a JSON object")
    if doc.get("format") != FORMAT:
        raise TraceError(path, 1, f'"format" must be "{FORMAT}"')
    unknown = set(doc) - TOP_LEVEL_KEYS
    if unknown:
        raise TraceError(path, 1, f"unknown top-level field {sorted(unknown)[0]!r}")
    grain_size = doc.get("grain_size", 2)
    if (
        isinstance(grain_size, bool)
        or not isinstance(grain_size, int)
        or not 1 <= grain_size <= MAX_GRAIN_SIZE
    ):
        raise TraceError(path, 1, f'"grain_size" must be an integer 1-{MAX_GRAIN_SIZE}')
    policy = doc.get("policy", "per-type")
    if policy not in POLICIES:
        raise TraceError(path, 1, f'"policy" must be one of {", ".join(POLICIES)}')
    ops = doc.get("ops")
    if not isinstance(ops, list):
        raise TraceError(path, 1, '"ops" must be a list of operations')
    offsets = _op_offsets(text)
    trace = Trace(grain_size, policy, title=str(doc.get("title", "")))
    trace.description = str(doc.get("description", ""))
    trace.extra = {
        k: doc[k]
        for k in TOP_LEVEL_KEYS - {"format", "grain_size", "policy", "ops", "title", "description"}
        if k in doc
    }
    line, last = 1, 0
    for index, raw in enumerate(ops):
        if index < len(offsets):  # newlines counted once over the whole file: linear
            line += text.count("\n", last, offsets[index])
            last = offsets[index]
        problem = _check_op(raw, index + 1)
        if problem:
            raise TraceError(path, line, problem)
        request = {k: v for k, v in raw.items() if k not in OP_MARKS}
        trace.ops.append(TraceOp(request, raw.get("expect"), line, raw.get("catch_up", False)))
    return trace


def load_trace(path: str | Path) -> Trace:
    """Read and check a trace file."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise TraceError(str(path), None, f"cannot read: {err}") from None
    return parse_trace(text, str(path))
