"""Negative controls: for each obligation, a deliberately wrong rule under which it must fail.

Each control is the specification with exactly one rule replaced (`proofs/wrong_copies.py`,
`proofs/wrong_structure.py`). A proof whose control also "proves" shows nothing; so the suite
fails when any control passes. Where the wrong rule breaks an image, the bounded search also
turns it into a vocabulary trace from the empty system.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.rules import Spec

from .wrong_copies import (
    BackgroundCopyIdle,
    BackgroundCopyLabelledCow,
    CleaningNeverDone,
    CleaningSkipsLinkedCascades,
    CopyToEveryTarget,
    CopyToWrongNeighbour,
    FillOnWholeWrites,
    FirstFrozenHeadOnly,
    FirstReaderOnly,
    IncrementalCopiesTooLittle,
    LooseWriteBound,
    NoPartialFill,
    OverCleaning,
    PreservationForgetsTheChain,
    ReadsThroughIdleMaps,
    RestoreForgetsOthers,
    SkipMiddleCopyOnWrite,
    StaleRead,
    TwoFrozenHeadsOnly,
    TypesIgnored,
)
from .wrong_structure import (
    AppendAtEnd,
    CompletionWithDependents,
    CompletionWithoutEveryGrain,
    GroupOrderReversed,
    GroupOrdersFirstFour,
    NeverJoins,
    NeverLeaves,
    NeverSplits,
    RecordKeptAtStart,
    RemovalWithoutCleaning,
    ReplacedImageNotRecorded,
    RestoreAlwaysNeeded,
    RestoreNeverNeeded,
    SplitIncomplete,
    StopNeedsEveryGrain,
    StopNotRecorded,
    StoppingNeverCleared,
)


@dataclass(frozen=True)
class Control:
    """A wrong specification and the obligations that must fail under it."""

    name: str
    spec: type[Spec]
    must_fail: tuple[str, ...]

    @property
    def rule(self) -> str:
        """The wrong rule, in words."""
        return (self.spec.__doc__ or "").strip()

    def make(self) -> Spec:
        """An instance of the wrong specification."""
        return self.spec()


CONTROLS: tuple[Control, ...] = (
    Control(
        "append-at-end",
        AppendAtEnd,
        ("insertion-keeps-images", "group-start-keeps-images", "unbounded-graph-refines-spec"),
    ),
    Control("skip-middle-cow", SkipMiddleCopyOnWrite, ("write-keeps-images", "write-isolation")),
    Control(
        "cow-wrong-neighbour",
        CopyToWrongNeighbour,
        ("write-keeps-images", "unbounded-refines-spec"),
    ),
    Control(
        "no-partial-fill",
        NoPartialFill,
        (
            "write-keeps-images",
            "bmc-from-empty",
            "unbounded-forest-refines-spec",
            "unbounded-restore-refines-spec",
            "unbounded-incremental-refines-spec",
            "unbounded-graph-refines-spec",
        ),
    ),
    Control("stale-read", StaleRead, ("write-keeps-images", "bmc-from-empty")),
    Control(
        "removal-without-cleaning",
        RemovalWithoutCleaning,
        (
            "cleaning-keeps-images",
            "unbounded-graph-refines-spec",
            "unbounded-graph-refines-spec-closed",
        ),
    ),
    Control(
        "cleaning-skips-linked",
        CleaningSkipsLinkedCascades,
        (
            "cleaning-keeps-images",
            "unbounded-forest-refines-spec",
            "unbounded-restore-copied-refines-spec",
        ),
    ),
    Control("over-cleaning", OverCleaning, ("cleaning-minimal",)),
    Control("completion-with-dependents", CompletionWithDependents, ("cleaning-keeps-images",)),
    Control("reads-through-idle-maps", ReadsThroughIdleMaps, ("init",)),
    Control("split-incomplete", SplitIncomplete, ("stop-keeps-images",)),
    Control(
        "types-ignored",
        TypesIgnored,
        (
            "type-separation",
            "unbounded-forest-refines-spec",
            "unbounded-graph-refines-spec",
            "unbounded-graph-refines-spec-closed",
        ),
    ),
    Control(
        "restore-forgets-others",
        RestoreForgetsOthers,
        ("copy-keeps-images", "unbounded-restore-refines-spec"),
    ),
    Control(
        "incremental-too-little",
        IncrementalCopiesTooLittle,
        ("insertion-keeps-images", "unbounded-incremental-refines-spec"),
    ),
    Control("copy-to-every-target", CopyToEveryTarget, ("bounded-work",)),
    Control(
        "first-reader-only",
        FirstReaderOnly,
        (
            "write-keeps-images",
            "unbounded-forest-refines-spec",
            "unbounded-restore-copied-refines-spec",
        ),
    ),
    Control(
        "first-frozen-head-only",
        FirstFrozenHeadOnly,
        ("write-keeps-images", "unbounded-restore-heads-refines-spec"),
    ),
    Control(
        "two-frozen-heads-only",
        TwoFrozenHeadsOnly,
        ("write-keeps-images", "unbounded-restore-heads-refines-spec"),
    ),
    Control("preservation-forgets-the-chain", PreservationForgetsTheChain, ("write-keeps-images",)),
    Control(
        "completion-without-every-grain", CompletionWithoutEveryGrain, ("completion-keeps-image",)
    ),
    Control("group-order-reversed", GroupOrderReversed, ("group-order",)),
    Control("group-orders-first-four", GroupOrdersFirstFour, ("group-order",)),
    Control("restore-never-needed", RestoreNeverNeeded, ("restore-detected",)),
    Control("restore-always-needed", RestoreAlwaysNeeded, ("restore-detected",)),
    Control("replaced-image-not-recorded", ReplacedImageNotRecorded, ("incremental-records",)),
    Control("record-kept-at-start", RecordKeptAtStart, ("incremental-records",)),
    Control("stop-not-recorded", StopNotRecorded, ("shape-well-formed", "cleaning-keeps-images")),
    Control("never-joins", NeverJoins, ("shape-well-formed",)),
    Control("stopping-never-cleared", StoppingNeverCleared, ("shape-well-formed",)),
    Control("cleaning-never-done", CleaningNeverDone, ("progress",)),
    Control("stop-needs-every-grain", StopNeedsEveryGrain, ("progress",)),
    Control("background-copy-idle", BackgroundCopyIdle, ("progress",)),
    Control("copy-mislabelled", BackgroundCopyLabelledCow, ("copy-kinds",)),
    Control("fill-on-whole-writes", FillOnWholeWrites, ("whole-write-no-fill",)),
    # vacuity: a rule never enabled would make its obligations hold of nothing
    Control("never-leaves", NeverLeaves, ("cleaning-keeps-images",)),
    Control("never-splits", NeverSplits, ("stop-keeps-images",)),
    # tightness: a bound that still holds when loosened proves less than it says
    Control("loose-write-bound", LooseWriteBound, ("bounded-work-tight",)),
)


__all__ = [
    "CONTROLS",
    "AppendAtEnd",
    "BackgroundCopyIdle",
    "BackgroundCopyLabelledCow",
    "CleaningNeverDone",
    "CleaningSkipsLinkedCascades",
    "CompletionWithDependents",
    "CompletionWithoutEveryGrain",
    "Control",
    "CopyToEveryTarget",
    "CopyToWrongNeighbour",
    "FillOnWholeWrites",
    "FirstFrozenHeadOnly",
    "FirstReaderOnly",
    "GroupOrderReversed",
    "GroupOrdersFirstFour",
    "IncrementalCopiesTooLittle",
    "LooseWriteBound",
    "NeverJoins",
    "NeverLeaves",
    "NeverSplits",
    "NoPartialFill",
    "OverCleaning",
    "PreservationForgetsTheChain",
    "ReadsThroughIdleMaps",
    "RecordKeptAtStart",
    "RemovalWithoutCleaning",
    "ReplacedImageNotRecorded",
    "RestoreAlwaysNeeded",
    "RestoreForgetsOthers",
    "RestoreNeverNeeded",
    "SkipMiddleCopyOnWrite",
    "SplitIncomplete",
    "StaleRead",
    "StopNeedsEveryGrain",
    "StopNotRecorded",
    "StoppingNeverCleared",
    "TypesIgnored",
]
