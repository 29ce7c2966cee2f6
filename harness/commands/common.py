"""What every subcommand shares: argument types, usage errors, output paths, progress."""

from __future__ import annotations

import argparse
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
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


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

    def __init__(self, console: Console, what: str, total: int) -> None:
        self.console, self.what, self.total = console, what, total
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
            self.console.print(f"checking {escape(self.what)}: {self.total} sequences")
        return self

    def update(self, sequences: int, steps: int, deepest: int, shrinking: bool = False) -> None:
        """What ran so far."""
        done = min(sequences, self.total)
        text = f"{done}/{self.total} sequences, {steps} steps, deepest cascade {deepest}"
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
