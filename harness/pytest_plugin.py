"""pytest plugin: `pytest --cascade-driver DRIVER` runs the conformance campaign as one test.

Installed with cascadecheck (entry point `pytest11`), so a vendor's own CI can gate on it:

    pytest --cascade-driver "exec:./my-array-driver" --cascade-examples 500

The test fails with the explanation and the saved counterexample trace when the implementation
does not do what the specification says, and it fails as *inconclusive* (never passes) when
the campaign did not reach what the implementation declares; its JUnit properties carry the
verdict. Without `--cascade-driver` the plugin adds nothing.
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from typing import Any

import pytest

from .campaign import Plan, run_campaign
from .campaign.parallel import run_workers
from .commands.common import duration as parse_duration
from .commands.common import workers as parse_workers
from .drivers import open_driver


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options."""
    group = parser.getgroup("cascadecheck", "cascaded point-in-time copy conformance")
    group.addoption(
        "--cascade-driver",
        help="implementation to check (reference, python:MODULE:CLASS, exec:COMMAND, or a real "
        "engine such as qemu-live)",
    )
    group.addoption("--cascade-examples", type=int, default=200, help="sequences to try")
    group.addoption("--cascade-steps", type=int, default=50, help="operations per sequence")
    group.addoption("--cascade-seed", type=int, default=None, help="random seed")
    group.addoption(
        "--cascade-workers",
        default="1",
        help="worker processes, each with its own instance (a number, or auto: one per core)",
    )
    group.addoption(
        "--cascade-database",
        default=None,
        help="Hypothesis example database: a folder or a redis:// URL shared by a fleet",
    )
    group.addoption(
        "--cascade-duration",
        default=None,
        help="a soak run: generate until this much time has passed (90s, 30m, 8h)",
    )
    group.addoption(
        "--cascade-out",
        default="cascadecheck-failure.json",
        help="where a counterexample trace is saved",
    )


class ConformanceItem(pytest.Item):
    """One campaign against the driver named on the command line."""

    def runtest(self) -> None:
        """Run the campaign; fail with the explanation."""
        opt = self.config.getoption
        driver = opt("--cascade-driver")
        try:
            workers = parse_workers(opt("--cascade-workers"))
            soak = opt("--cascade-duration")
            seconds = parse_duration(soak) if soak else None
        except ArgumentTypeError as err:
            raise pytest.UsageError(f"cascadecheck: {err}") from None
        plan = Plan(
            examples=opt("--cascade-examples"),
            steps=opt("--cascade-steps"),
            seed=opt("--cascade-seed"),
            save_to=opt("--cascade-out"),
            database=opt("--cascade-database"),
            duration=seconds,
        )
        if workers > 1:
            verdict = run_workers(driver, plan, workers)
        else:
            verdict = run_campaign(lambda: open_driver(driver), plan)
        for name in ("status", "exit_code", "steps", "sequences", "deepest"):
            self.user_properties.append((name, getattr(verdict, name)))
        if verdict.status != "conforms":
            what = verdict.status.replace("_", " ").upper()
            raise CascadeFailure(
                f"{what} ({verdict.kind or verdict.status}): {verdict.problem}\n"
                f"{verdict.explanation}\ntrace: {verdict.trace_path or '-'}"
            )

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        """Just the verdict, not a traceback."""
        if isinstance(excinfo.value, CascadeFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        """Where the test comes from."""
        return "cascadecheck", 0, f"conformance of {self.config.getoption('--cascade-driver')}"


class CascadeFailure(Exception):
    """The implementation did not conform (or could not be driven)."""


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the conformance test when a driver is named."""
    if config.getoption("--cascade-driver"):
        items.append(ConformanceItem.from_parent(session, name="cascade_conformance"))
