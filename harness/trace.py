"""Trace files: a recorded sequence of operations with the answers they must get back.

    {"format": "cascadecheck/trace-1", "grain_size": 2, "policy": "per-type",
     "ops": [{"op": "create_volume", "volume": "S", "size": 8, "expect": {"ok": true}}, ...]}

Loading checks the file completely before anything runs and names the line of a
bad operation, so a hand-edited trace fails with a message, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "cascadecheck/trace-1"
POLICIES = ("per-type", "mixed")
TOP_LEVEL_KEYS = {
    "format",
    "grain_size",
    "policy",
    "ops",
    "title",
    "description",
    "seed",
    "verdict",
}


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
        doc: dict[str, Any] = {
            "format": FORMAT,
            "grain_size": self.grain_size,
            "policy": self.policy,
        }
        if self.title:
            doc["title"] = self.title
        if self.description:
            doc["description"] = self.description
        doc.update(self.extra)
        doc["ops"] = [
            {**o.request, **({"expect": o.expect} if o.expect is not None else {})}
            for o in self.ops
        ]
        return doc

    def dump(self, path: str | Path) -> None:
        """Write the trace, one operation per line so diffs and line numbers stay readable."""
        doc = self.to_json()
        ops = doc.pop("ops")
        head = json.dumps(doc)[:-1]
        body = ",\n".join("  " + json.dumps(op) for op in ops)
        Path(path).write_text(f'{head}, "ops": [\n{body}\n]}}\n')


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


def parse_trace(text: str, path: str = "<trace>") -> Trace:
    """Check and load a trace document."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise TraceError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    if not isinstance(doc, dict):
        raise TraceError(path, 1, "a trace is a JSON object")
    if doc.get("format") != FORMAT:
        raise TraceError(path, 1, f'"format" must be "{FORMAT}"')
    unknown = set(doc) - TOP_LEVEL_KEYS
    if unknown:
        raise TraceError(path, 1, f"unknown top-level field {sorted(unknown)[0]!r}")
    grain_size = doc.get("grain_size", 2)
    if isinstance(grain_size, bool) or not isinstance(grain_size, int) or not 1 <= grain_size <= 64:
        raise TraceError(path, 1, '"grain_size" must be an integer 1-64')
    policy = doc.get("policy", "per-type")
    if policy not in POLICIES:
        raise TraceError(path, 1, f'"policy" must be one of {", ".join(POLICIES)}')
    ops = doc.get("ops")
    if not isinstance(ops, list):
        raise TraceError(path, 1, '"ops" must be a list of operations')
    offsets = _op_offsets(text)
    trace = Trace(grain_size, policy, title=str(doc.get("title", "")))
    trace.description = str(doc.get("description", ""))
    trace.extra = {k: doc[k] for k in ("seed", "verdict") if k in doc}
    for index, raw in enumerate(ops):
        line = text.count("\n", 0, offsets[index]) + 1 if index < len(offsets) else 0
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str):
            raise TraceError(path, line, f'operation {index + 1} needs an "op" string')
        request = {k: v for k, v in raw.items() if k != "expect"}
        trace.ops.append(TraceOp(request, raw.get("expect"), line))
    return trace


def load_trace(path: str | Path) -> Trace:
    """Read and check a trace file."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise TraceError(str(path), None, f"cannot read: {err}") from None
    return parse_trace(text, str(path))


def mismatch(expect: Any, actual: Any, where: str = "") -> str | None:
    """Where `actual` fails to contain `expect` (objects match by subset), or None."""
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return f"{where or 'answer'}: expected an object, got {json.dumps(actual)}"
        for key, value in expect.items():
            if key not in actual:
                return f"{where}.{key}: missing (expected {json.dumps(value)})"
            found = mismatch(value, actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expect, list):
        if where.endswith(".copies") and isinstance(actual, list):  # a multiset: order is free

            def canon(xs: list[Any]) -> list[str]:
                return sorted(json.dumps(x, sort_keys=True) for x in xs)

            if canon(expect) != canon(actual):
                return (
                    f"{where}: expected {json.dumps(expect)} (any order), got {json.dumps(actual)}"
                )
            return None
        if not isinstance(actual, list) or len(actual) != len(expect):
            return f"{where}: expected {json.dumps(expect)}, got {json.dumps(actual)}"
        for i, (e, a) in enumerate(zip(expect, actual, strict=True)):
            found = mismatch(e, a, f"{where}[{i}]")
            if found:
                return found
        return None
    if expect != actual or type(expect) is not type(actual):
        return f"{where or 'answer'}: expected {json.dumps(expect)}, got {json.dumps(actual)}"
    return None
