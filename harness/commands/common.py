"""What every subcommand shares: argument types, usage errors, output paths, progress."""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

PIPED_EVERY = 5.0  # seconds between plain progress lines when output is not a terminal


class UsageError(Exception):
    """A bad argument or an unusable path: one line, exit 2."""


def positive(text: str) -> float | int:
    """An argument that must be above zero."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def nonnegative(text: str) -> float | int:
    """An argument that must not be negative."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return value


def _number(text: str) -> float | int:
    """A whole or a finite decimal number (`nan` and `inf` are floats to Python, not to us)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


MAX_TIMEOUT = 86_400.0  # seconds: a request allowed a day is one that never answers
WORKERS_PER_CORE = 8  # more processes than this only share the same cores


def timeout(text: str) -> float | int:
    """Seconds a request may take: above 0, at most a day (threads cannot wait much longer,
    and no answer is worth more)."""
    value = positive(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIMEOUT:g} seconds, not {text}")
    return value


def _cores() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def workers(text: str) -> int:
    """`auto` (one per core this process may use) or a number of workers above 0, at most
    WORKERS_PER_CORE per core (a typo of 100000 would otherwise start 100000 processes)."""
    if text == "auto":
        return _cores()
    value = _number(text)
    if not isinstance(value, int) or value < 1:
        raise argparse.ArgumentTypeError(f"must be auto or a whole number above 0, not {text}")
    most = WORKERS_PER_CORE * _cores()
    if value > most:
        raise argparse.ArgumentTypeError(
            f"must be at most {most} ({WORKERS_PER_CORE} per core of {_cores()}), not {text}"
        )
    return value


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """A length of time: seconds, or a number with s, m, h or d (90s, 30m, 8h)."""
    unit = UNITS.get(text[-1:].lower())
    number = text[:-1] if unit else text
    try:
        value = float(number) * (unit or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (try 90s, 30m, 8h)") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def trace_file(text: str) -> Path:
    """A trace argument: a file, or the name of a shipped scenario (`restore`)."""
    from ..campaign.corpus import SCENARIOS

    path = Path(text)
    if not path.exists() and (SCENARIOS / f"{text}.json").exists():
        return SCENARIOS / f"{text}.json"
    return path


def writable(path: str | Path) -> Path:
    """A file that can be written (its folder is created if it can be); else a UsageError."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{p} is a folder, not a file")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create the folder of {p}: {err.strerror or err}") from None
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"cannot write {p}: permission denied")
    existed = p.exists()
    try:  # the permission bits do not tell everything (root, /proc, a full or read-only disk)
        with p.open("a"):
            pass
    except OSError as err:
        raise UsageError(f"cannot write {p}: {err.strerror or err}") from None
    if not existed:
        p.unlink(missing_ok=True)
    return p


def folder(path: str | Path) -> Path:
    """A folder that can be written into (created if need be); else a UsageError."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create folder {p}: {err.strerror or err}") from None
    if not os.access(p, os.W_OK):
        raise UsageError(f"cannot write into {p}: permission denied")
    return p


class Progress:
    """A live bar on a terminal; a plain line every few seconds when the output is piped."""

    def __init__(self, console: Console, what: str, total: int | None, workers: int = 1) -> None:
        self.console, self.what, self.total, self.workers = console, what, total, workers
        self.bar: RichProgress | None = None
        self.started = self.last = time.monotonic()

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self.bar = RichProgress(
                TextColumn("[bold]checking[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.fields[text]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task(escape(self.what), total=self.total, text="starting")
        else:
            budget = f"{self.total} sequences" if self.total else "until the time is up"
            on = f" on {self.workers} workers" if self.workers > 1 else ""
            self.console.print(f"checking {escape(self.what)}: {budget}{on}")
        return self

    def update(
        self, sequences: int, steps: int, deepest: int, goals: int = 0, shrinking: bool = False
    ) -> None:
        """What ran so far (summed over the workers)."""
        done = sequences if self.total is None else min(sequences, self.total)
        rate = steps / max(time.monotonic() - self.started, 1e-9)
        of = "" if self.total is None else f"/{self.total}"
        text = (
            f"{done}{of} sequences, {steps} steps ({rate:.0f}/s), {goals} goals, "
            f"deepest cascade {deepest}"
        )
        if self.workers > 1:
            text += f", {self.workers} workers"
        if shrinking:
            text += ", shrinking a counterexample"
        if self.bar is not None:
            self.bar.update(self.task, completed=done, text=text)
            return
        now = time.monotonic()
        if now - self.last >= PIPED_EVERY:
            self.last = now
            self.console.print(f"  {text}, {now - self.started:.0f}s")

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, err, tb)
