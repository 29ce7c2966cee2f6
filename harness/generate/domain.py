"""Drawing request fields over their whole legal range, from the vocabulary's own definition.

Every integer field is drawn from the range `model.vocabulary.REQUESTS` gives it (narrowed
only where the implementation's hello declares a narrower range), mostly from a small typical
band that keeps sequences fast and cascades dense, and otherwise at its edges: the lowest and
highest value, one inside each, and the rate bands' borders. Tokens and names are drawn the
same way: mostly short and unique, sometimes empty, at their maximum length, or with
characters outside ASCII. Every draw is recorded per dimension (`op.field` -> buckets), so a
campaign reports which parts of the domain it never reached.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from hypothesis import strategies as st

from model.vocabulary import MAX_NAME, MAX_RATE, MAX_TOKEN, REQUESTS

from ..core.hello import Hello

RATE_BORDERS = (1, 10, 11, 50, 51, 100, 101, 149)  # rate bands double every ten
# dimensions whose buckets are not the vocabulary's range but where in a volume they fall
EXTENTS = {
    "write.block": {"first", "last", "inside", "past the end"},
    "read.block": {"first", "last", "inside", "past the end"},
    "write.data": {"one block", "range", "whole volume", "past the end"},
    "read.count": {"one block", "range", "whole volume", "past the end"},
}
WIDE_CHARS = "é漢😀ß"  # two, three and four UTF-8 bytes


def _flag_name(value: bool | None) -> str:
    """How a flag's draw is recorded: true, false or absent."""
    return "absent" if value is None else str(value).lower()


def bucket(value: int, low: int, high: int) -> str:
    """Which part of a range a value falls in."""
    if value == low:
        return "low"
    if value == high:
        return "high"
    return "inside"


class Domain:
    """Field values for one campaign, honouring the implementation's declared ranges."""

    def __init__(self, hello: Hello) -> None:
        self.hello = hello
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.focus: tuple[str, str] | None = None
        self.fixed_focus: tuple[str, str] | None = None  # every sequence's, for a gap round
        self._tokens = itertools.count(1)

    def note(self, dimension: str, value: str) -> None:
        """Record that a dimension took a value (or fell in a bucket)."""
        self.seen[dimension].add(value)

    def targets(self) -> list[tuple[str, str]]:
        """Every (dimension, bucket) a sequence can focus on: both edges of each integer
        field, each value of each flag and choice the implementation supports."""
        out: list[tuple[str, str]] = []
        for op, fields in REQUESTS.items():
            if op not in self.hello.ops:
                continue
            for key, f in fields.items():
                dim = f"{op}.{key}"
                if dim in EXTENTS or not self.hello.supports(dim):
                    continue
                if f.kind == "int":
                    out += [(dim, "low"), (dim, "high")]
                elif f.kind == "bool":
                    out += [(dim, "true"), (dim, "false"), (dim, "absent")]
                elif f.kind == "choice":
                    out += [(dim, c) for c in f.choices if self.hello.supports(f"{dim}={c}")]
        return out

    def focus_on(self, data: st.DataObject) -> None:
        """Each sequence focuses on one corner of the domain (drawn, so a sequence replays
        to the same focus): three in four draws of that dimension go there."""
        if self.fixed_focus is not None:
            self.focus = self.fixed_focus
            return
        targets = self.targets()
        self.focus = data.draw(st.sampled_from(targets), label="focus") if targets else None

    def unreached(self) -> list[tuple[str, str]]:
        """The corners a sequence can focus on that no sequence has drawn yet."""
        return [(dim, b) for dim, b in self.targets() if b not in self.seen.get(dim, ())]

    def focused(self, dim: str) -> bool:
        """Whether this sequence focuses on a dimension."""
        return self.focus is not None and self.focus[0] == dim

    def _steer(self, data: st.DataObject, dim: str, candidates: list[tuple[str, Any]]) -> tuple:
        """`(value,)` for the focused bucket three draws in four, else `()`. The draws are the
        same either way, so a choice sequence always maps to the same requests."""
        go = data.draw(st.integers(0, 3), label=f"{dim} focus?") > 0  # three in four
        if not (go and self.focused(dim)):
            return ()
        return tuple(v for b, v in candidates if self.focus and b == self.focus[1])[:1]

    # -- integers ------------------------------------------------------------------------------
    def integer(
        self,
        data: st.DataObject,
        op: str,
        key: str,
        typical: tuple[int, int],
        label: str = "",
        edge_every: int = 5,
    ) -> int:
        """Mostly from the typical band (clipped to the range), one draw in `edge_every` at
        an edge."""
        low, high = self.hello.range(op, key)
        lo, hi = max(low, typical[0]), min(high, typical[1])
        edges = sorted({low, min(low + 1, high), max(high - 1, low), high})
        if key.endswith("rate"):
            edges = sorted(set(edges) | {r for r in RATE_BORDERS if low <= r <= high})
        if lo > hi:
            lo, hi = low, min(high, low + 3)
        if data.draw(st.integers(1, edge_every), label=f"{label or key} edge?") < edge_every:
            value = data.draw(st.integers(lo, hi), label=label or key)
        else:
            value = data.draw(st.sampled_from(edges), label=f"{label or key} edge")
        steered = self._steer(data, f"{op}.{key}", [("low", low), ("high", high)])
        value = steered[0] if steered else value
        self.note(f"{op}.{key}", bucket(value, low, high))
        return value

    def rate(self, data: st.DataObject, op: str, key: str, positive: bool) -> int:
        """A copy or clean rate: any band, borders included."""
        low, high = self.hello.range(op, key)
        low = max(low, 1) if positive else low
        value = data.draw(
            st.one_of(st.sampled_from((50, 10, 100)), st.integers(low, min(high, MAX_RATE))),
            label=key,
        )
        value = min(max(value, low), high)
        steered = self._steer(data, f"{op}.{key}", [("low", low), ("high", high)])
        value = steered[0] if steered else value
        band = "0" if value == 0 else f"band {(value - 1) // 10 + 1}"
        self.note(f"{op}.{key}", band)
        self.note(f"{op}.{key}", bucket(value, *self.hello.range(op, key)))
        return value

    def flag(self, data: st.DataObject, op: str, key: str) -> bool | None:
        """Absent, false or true; absent when the implementation does not support it."""
        if not self.hello.supports(f"{op}.{key}"):
            return None
        value = data.draw(st.sampled_from([None, True, False]), label=key)
        steered = self._steer(
            data, f"{op}.{key}", [(_flag_name(v), v) for v in (None, True, False)]
        )
        value = steered[0] if steered else value
        self.note(f"{op}.{key}", _flag_name(value))
        return value

    def choice(self, data: st.DataObject, op: str, key: str, absent: bool = True) -> str | None:
        """One of a choice field's values that the implementation supports, or absent."""
        if not self.hello.supports(f"{op}.{key}"):
            return None
        options = [c for c in REQUESTS[op][key].choices if self.hello.supports(f"{op}.{key}={c}")]
        if absent:
            options = [*options, ""]
        value = data.draw(st.sampled_from(options), label=key) if options else ""
        steered = self._steer(data, f"{op}.{key}", [(c, c) for c in options if c])
        value = steered[0] if steered else value
        self.note(f"{op}.{key}", value or "absent")
        return value or None

    # -- tokens and names ----------------------------------------------------------------------
    def tokens(self, data: st.DataObject, count: int) -> list[str]:
        """`count` tokens, each unique in the campaign; sometimes empty, at the maximum length,
        or with characters of two to four UTF-8 bytes."""
        n = next(self._tokens)
        kind = data.draw(st.integers(0, 19), label="token kind")
        out = []
        for i in range(count):
            base = f"w{n}" if i == 0 else f"w{n}.{i}"
            if kind == 17:
                token, shape = base + WIDE_CHARS, "wide characters"
            elif kind == 18:
                token, shape = (base + "x" * MAX_TOKEN)[:MAX_TOKEN], "longest"
                token = token[: MAX_TOKEN - len(WIDE_CHARS)] + WIDE_CHARS
            elif kind == 19 and i == 0:
                token, shape = "", "empty"
            else:
                token, shape = base, "short"
            self.note("write.data tokens", shape)
            out.append(token)
        return out

    def name(self, data: st.DataObject, prefix: str, n: int) -> str:
        """A fresh name: mostly `prefix` and a number, sometimes the longest legal name or one
        with characters outside ASCII."""
        plain = f"{prefix}{n}"
        kind = data.draw(st.integers(0, 29), label="name kind")
        if kind == 28:
            self.note("names", "longest")
            return (plain + "-" * MAX_NAME)[: MAX_NAME - 1] + "Ω"
        if kind == 29:
            self.note("names", "wide characters")
            return plain + "·名"
        self.note("names", "short")
        return plain

    def gaps(self) -> dict[str, list[str]]:
        """Dimensions of the domain with buckets never drawn."""
        out = {}
        for op, fields in REQUESTS.items():
            if op not in self.hello.ops:
                continue
            for key, f in fields.items():
                dim = f"{op}.{key}"
                if not self.hello.supports(dim):
                    continue
                want: set[str] = set()
                if dim in EXTENTS:
                    want = EXTENTS[dim]
                elif f.kind == "int":
                    low, high = self.hello.range(op, key)
                    want = {"low", "high"} if low < high else {"low"}
                elif f.kind == "bool":
                    want = {"true", "false", "absent"}
                elif f.kind == "choice":
                    want = {c for c in f.choices if self.hello.supports(f"{dim}={c}")}
                missing = sorted(want - self.seen.get(dim, set()))
                if missing and dim in self.seen:
                    out[dim] = missing
                elif want and dim not in self.seen:
                    out[dim] = ["never drawn"]
        return out


def values(domain: Domain) -> dict[str, Any]:
    """The coverage per dimension, for reports."""
    return {k: sorted(v) for k, v in sorted(domain.seen.items())}
