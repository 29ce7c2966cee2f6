"""The killing tests of the specification's mutation run (`mutmut`, `docs/proofs.md`).

Not collected by the default suite (the name does not start with `test_`): `mutmut run`
names this file. Each test is one proof obligation at a small bound; a mutant of `model/` is
killed when an obligation it touches is no longer proved (failed, unknown or an exception).
The bound is the smallest at which every obligation still covers each family of shapes, so a
mutant costs seconds; what survives here is then tried at the CI bound before it is argued.
"""

from __future__ import annotations

import pytest

from model.rules import Spec
from proofs import suite
from proofs.controls import CONTROLS
from proofs.traces import random_run

SMALL = suite.Settings(bound=3, volumes=2, depth=1, data_steps=1)
# the unbounded obligations are about hand-written models that import no rule of `model/`;
# the refinement checks tie those models to `Spec`, so they are among the killing tests
OBLIGATIONS = [
    n
    for n in suite.OBLIGATION_NAMES
    if not n.startswith("unbounded-") or n.endswith("refines-spec")
]


@pytest.mark.parametrize("name", OBLIGATIONS)
def test_obligation_holds(name: str) -> None:
    out = suite.run_obligation(name, SMALL)
    assert out.verdict == "proved", (name, out.failure and out.failure.detail)


@pytest.mark.parametrize("volumes", [2, 3])
def test_concrete_runs_read_their_images(volumes: int) -> None:
    """The same rules on plain values (the harness's step check runs them so): random runs
    from the empty system keep every image — this kills mutants of the concrete helpers."""
    problems = [random_run(Spec(), volumes, 40, seed) for seed in range(60)]
    assert problems == [None] * len(problems), next(p for p in problems if p)


CONTROL_CASES = [(c.name, target) for c in CONTROLS for target in c.must_fail]
CONTROLLED = suite.Settings(bound=3, volumes=2, depth=2, data_steps=1)  # bmc needs depth 2


@pytest.mark.parametrize(("control", "target"), CONTROL_CASES)
def test_control_is_caught(control: str, target: str) -> None:
    """A mutant that weakens what an obligation can see (a copy's reported type, a shared
    array, a vacuous premise) lets a deliberately wrong rule pass: the controls kill it."""
    wrong = next(c for c in CONTROLS if c.name == control).make()
    assert suite.run_obligation(target, CONTROLLED, wrong).verdict == "failed", (control, target)
