"""Delta debugging over the operations of a failing run (Zeller's ddmin, then single deletions).

Any list of operations is a valid test here, because the specification running in lockstep
says what each must answer: deleting a `create_volume` makes later operations on that volume
expect `unknown_volume`, and the implementation must agree. So candidates need no repair;
a candidate is kept when replaying it from an empty system (then observing everything) meets
a nonconformance of the same kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Ops = list[dict[str, Any]]


def _chunks(ops: Ops, n: int) -> list[tuple[int, int]]:
    size, extra = divmod(len(ops), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append((start, end))
        start = end
    return out


def minimize(ops: Ops, fails: Callable[[Ops], bool], seconds: float) -> Ops:
    """A 1-minimal sublist of `ops` that still fails (as far as `seconds` allow)."""
    deadline = time.perf_counter() + seconds
    n = 2
    while len(ops) >= 2 and time.perf_counter() < deadline:
        reduced = False
        for start, end in _chunks(ops, n):
            if end - start < len(ops) and fails(ops[start:end]):
                ops, n, reduced = ops[start:end], 2, True
                break
        if not reduced:
            for start, end in _chunks(ops, n):
                candidate = ops[:start] + ops[end:]
                if candidate and fails(candidate):
                    ops, n, reduced = candidate, max(n - 1, 2), True
                    break
                if time.perf_counter() >= deadline:
                    return ops
        if not reduced:
            if n >= len(ops):
                break
            n = min(len(ops), 2 * n)
    i = len(ops) - 1
    while i >= 0 and time.perf_counter() < deadline:  # single deletions, last first
        candidate = ops[:i] + ops[i + 1 :]
        if candidate and fails(candidate):
            ops = candidate
        i -= 1
    return ops
