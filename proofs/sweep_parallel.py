"""The pass of `proofs/sweep.py` in worker processes: the situations dealt round-robin into
parts (so each part has near and far shapes alike), each part checked in a forked worker,
and the parts' tallies merged (a failure is reported from the first part that found one).
The suite deals its own parts (`proofs/suite.py`) and merges them here; `sweep_parallel` is
the pass alone, for `benchmarks/sweep.py`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Sequence
from typing import Any

from model.rules import Spec

from .asking import Tally
from .shapes import Situation
from .sweep import tally, verdict
from .verdicts import Outcome, StepObligation

_WORK: dict[str, Any] = {}  # what forked workers inherit: spec, obligations, situations


def _part(args: tuple[int, int]) -> list[Tally]:
    """Worker: every `parts`-th situation, starting at `index`."""
    index, parts = args
    situations = _WORK["situations"][index::parts]
    return tally(_WORK["spec"], _WORK["obligations"], situations, stop_at_first=True)


def sweep_parallel(
    spec: Spec,
    obligations: Sequence[StepObligation],
    situations: Sequence[Situation],
    jobs: int = 2,
    parts: int = 16,
) -> list[Outcome]:
    """Every obligation over every situation, the situations dealt round-robin into `parts`
    parts (so each part has near and far shapes alike) checked in `jobs` forked workers."""
    if jobs <= 1 or len(situations) < parts:
        tallies = tally(spec, obligations, situations)
        return [verdict(ob, t) for ob, t in zip(obligations, tallies, strict=True)]
    _WORK.update(spec=spec, obligations=list(obligations), situations=list(situations))
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_part, [(i, parts) for i in range(parts)])
    finally:
        _WORK.clear()
    return [verdict(ob, t) for ob, t in zip(obligations, merged(results), strict=True)]


def merged(parts: Iterable[Sequence[Tally]]) -> list[Tally]:
    """The tallies of a pass's parts (one list per part, obligation by obligation) folded into
    one per obligation, in part order."""
    out: list[Tally] = []
    for part in parts:
        out = out or [Tally() for _ in part]
        for whole, piece in zip(out, part, strict=True):
            whole.merge(piece)
    return out
