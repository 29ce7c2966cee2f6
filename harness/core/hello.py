"""What an implementation says of itself in `hello`, checked against the vocabulary.

Besides `ops` and `exposes`, an implementation declares what it does not support
(`unsupported`: operations, optional fields, choices and shapes of `model.vocabulary`, each
with its reason), narrower ranges it accepts (`ranges`), its `pace` and whether it `may_fault`.
The harness never generates what is declared unsupported and lists it in the verdict as not
verified; anything else it must accept wherever the specification does. A hello that names
something the vocabulary does not know is itself malformed: a misspelt declaration must not
silently switch a check off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.vocabulary import (
    EXPOSES,
    PACES,
    POLICIES,
    PROTOCOL,
    REQUESTS,
    SHAPES,
    declarable,
)

from ..protocol import answer_problem

# the least an implementation must support for its images to be checked at all
REQUIRED_OPS = frozenset({"hello", "reset", "create_volume", "write", "read"})


class HelloError(Exception):
    """A hello the harness cannot work from (a `malformed` nonconformance)."""


@dataclass(frozen=True)
class Hello:
    """An implementation's declaration of itself."""

    name: str
    version: str
    ops: frozenset[str]
    exposes: frozenset[str]
    policies: tuple[str, ...]
    unsupported: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    pace: str = "exact"
    may_fault: bool = False

    @classmethod
    def parse(cls, answer: Any) -> Hello:
        """Read and check a `hello` answer; raise HelloError naming what is wrong."""
        problem = answer_problem("hello", answer)
        if problem:
            raise HelloError(f"hello: {problem}")
        if not answer["ok"]:
            raise HelloError(f"hello was refused: {answer.get('error')}")
        if answer["protocol"] != PROTOCOL:
            raise HelloError(f"hello: protocol {answer['protocol']!r}, expected {PROTOCOL!r}")
        ops = frozenset(answer["ops"])
        _only(ops, set(REQUESTS), "ops")
        missing = REQUIRED_OPS - ops
        if missing:
            raise HelloError(f"hello: every implementation must support {sorted(missing)}")
        exposes = frozenset(answer["exposes"])
        _only(exposes, set(EXPOSES), "exposes")
        policies = tuple(answer["policies"])
        if not policies:
            raise HelloError("hello: policies must name at least one policy")
        _only(set(policies), set(POLICIES), "policies")
        unsupported = _reasons(answer.get("unsupported", {}))
        ranges = _ranges(answer.get("ranges", {}))
        pace = answer.get("pace", "exact")
        if pace not in PACES:
            raise HelloError(f"hello: pace must be one of {', '.join(PACES)}, not {pace!r}")
        if "internals" in exposes and not {"internals", "status"} <= ops:
            raise HelloError(
                "hello: exposing internals needs the internals and status operations (the "
                "step check asks both)"
            )
        if pace == "own" and "status" not in ops:
            raise HelloError("hello: pace own needs status (the harness follows its states)")
        may_fault = answer.get("may_fault", False)
        if not isinstance(may_fault, bool):
            raise HelloError("hello: may_fault must be true or false")
        return cls(
            str(answer["name"]),
            str(answer["version"]),
            ops,
            exposes,
            policies,
            unsupported,
            ranges,
            pace,
            may_fault,
        )

    def supports(self, name: str) -> bool:
        """Whether an operation, `op.field`, `op.field=value` or shape is supported."""
        op = name.partition(".")[0]
        if op in REQUESTS and op not in self.ops:
            return False
        if name in self.unsupported:
            return False
        return not ("=" in name and name.partition("=")[0] in self.unsupported)

    def range(self, op: str, key: str) -> tuple[int, int]:
        """The range of an integer field this implementation accepts."""
        spec = REQUESTS[op][key]
        return self.ranges.get(f"{op}.{key}", (spec.low, spec.high))

    def not_verified(self) -> dict[str, str]:
        """Everything the campaign will not verify, with the implementation's reason."""
        out = {op: "not in hello's ops" for op in sorted(set(REQUESTS) - self.ops)}
        out.update(self.unsupported)
        for name, (low, high) in self.ranges.items():
            op, _, key = name.partition(".")
            full = REQUESTS[op][key]
            out[name] = f"only {low}-{high} of {full.low}-{full.high}"
        if "internals" not in self.exposes:
            out["step check"] = "internals are not exposed"
        return out


def _only(given: set[str] | frozenset[str], known: set[str], what: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise HelloError(f"hello: {what} names {unknown[0]!r}, which the vocabulary does not know")


def _reasons(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise HelloError("hello: unsupported must be an object of name -> reason")
    _only(set(raw), declarable(), "unsupported")
    return dict(raw)


def _ranges(raw: Any) -> dict[str, tuple[int, int]]:
    if not isinstance(raw, dict):
        raise HelloError("hello: ranges must be an object of op.field -> [low, high]")
    out = {}
    for name, value in raw.items():
        op, _, key = str(name).partition(".")
        spec = REQUESTS.get(op, {}).get(key)
        if spec is None or spec.kind != "int":
            raise HelloError(f"hello: ranges names {name!r}, which is no integer field")
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and spec.low <= value[0] <= value[1] <= spec.high
        )
        if not ok:
            raise HelloError(f"hello: ranges {name!r} must be [low, high] within the vocabulary's")
        out[name] = (value[0], value[1])
    return out


__all__ = ["SHAPES", "Hello", "HelloError"]
