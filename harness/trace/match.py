"""Whether an answer meets an expectation: the one comparison the campaign and `replay` share.

Objects match by subset (every key given must be present and match), lists and scalars
exactly, with two exceptions that are part of the contract: a `copies` list (the grain
copies of one operation), the top-level `maps` of a `dependents` answer and the top-level
`cascades` list are sets, so their order is free (each expected element must meet a distinct
actual one); and a `null` token in a read's expected `data` matches any token (a block whose
content the specification leaves open).
"""

from __future__ import annotations

import json
import re
from typing import Any

UNORDERED = (".copies", ".maps", ".cascades")
OPEN_TOKEN = re.compile(r"^\.data\[\d+\]$")


def _unordered(expect: list[Any], actual: list[Any], where: str) -> str | None:
    """Each expected element meets a distinct actual element (objects by subset)."""
    if len(expect) != len(actual):
        return f"{where}: expected {_short(expect)} (any order), got {_short(actual)}"
    left = list(actual)
    for e in expect:
        match = next((i for i, a in enumerate(left) if mismatch(e, a, where + "[]") is None), None)
        if match is None:
            return f"{where}: expected {_short(expect)} (any order), got {_short(actual)}"
        left.pop(match)
    return None


def mismatch(expect: Any, actual: Any, where: str = "") -> str | None:
    """Where `actual` fails to meet `expect`, or None."""
    if expect is None and OPEN_TOKEN.match(where):
        return None
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
        if where in UNORDERED and isinstance(actual, list):
            return _unordered(expect, actual, where)
        if not isinstance(actual, list) or len(actual) != len(expect):
            return f"{where}: expected {_short(expect)}, got {_short(actual)}"
        for i, (e, a) in enumerate(zip(expect, actual, strict=True)):
            found = mismatch(e, a, f"{where}[{i}]")
            if found:
                return found
        return None
    if expect != actual or type(expect) is not type(actual):
        return f"{where or 'answer'}: expected {json.dumps(expect)}, got {json.dumps(actual)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 200 else text[:200] + "…"
