"""The campaign's state machine as a plain Hypothesis test, for HypoFuzz's long runs.

    CASCADECHECK_DRIVER=python:MODULE:CLASS hypothesis fuzz -n 2 --no-dashboard -- \\
        --pyargs harness.fuzz_target -p no:cacheprovider

HypoFuzz collects Hypothesis tests through pytest and fuzzes them with its own coverage-guided
engine and its own database. What it gets is the lockstep checks and the generator; what it
does not get is everything `cascadecheck check` adds around them: the scenario corpus, the gap
rounds, delta debugging, saved traces, goals and verdicts (`docs/harness.md`, HypoFuzz). The
driver is named by `CASCADECHECK_DRIVER` (default: the reference engine).
"""

from __future__ import annotations

import os

from .core.hello import Hello
from .drivers import open_driver, open_spec
from .generate import Options, Record, machine_for

DRIVER = os.environ.get("CASCADECHECK_DRIVER", "reference")


def _record() -> Record:
    sut = open_driver(DRIVER)
    hello = Hello.parse(sut.request({"op": "hello"}))
    record = Record(
        lambda: open_driver(DRIVER), open_spec, hello, Options(True, False, hello.policies), sut=sut
    )
    record.stop_at_failure = False  # HypoFuzz replays and shrinks failures itself
    return record


TestCascade = machine_for(_record()).TestCase
