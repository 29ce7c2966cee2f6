"""Regenerate the pictures and the side-by-side counts of docs/tutorial.md from the scenarios.

    python examples/tutorial_figures.py        # writes docs/pictures/*.svg, prints the tables

Each picture is the cascades after one step of an example trace, drawn by `cascadecheck show`'s
code (graphviz's `dot` must be installed). The counts walk the same trace under both policies
on the reference engine: grain copies made, and grains physically held by snapshot targets.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.drivers import open_driver  # noqa: E402
from harness.trace import load_trace  # noqa: E402
from harness.views.pictures import render  # noqa: E402
from harness.views.walk import Snapshot, walk  # noqa: E402

FIGURES = [  # (trace, policy, step, file)
    ("per-type-cascades.json", "per-type", 10, "per-type-after-source-write"),
    ("per-type-cascades.json", "mixed", 10, "mixed-after-source-write"),
    ("per-type-cascades.json", "per-type", 15, "per-type-clone-completed"),
    ("stop-middle-target.json", "per-type", 14, "four-snapshots"),
    ("stop-middle-target.json", "per-type", 21, "middle-target-stopping"),
    ("restore.json", "per-type", 17, "restore-started"),
    ("cascade-of-cascades.json", "per-type", 8, "cascade-of-cascades"),
]


def snapshots(name: str, policy: str) -> list[Snapshot]:
    """The walk of one example under one policy."""
    with open_driver("reference") as driver:
        return walk(load_trace(ROOT / "harness" / "scenarios" / name), driver, policy)


def counts(snaps: list[Snapshot]) -> tuple[int, int]:
    """Grain copies over the whole trace, and grains snapshot targets hold at the end."""
    copies = sum(len(s.answer.get("copies", [])) for s in snaps)
    last = snaps[-1]
    snapshot_targets = {m.target for m in last.maps.values() if m.type == "snapshot"}
    held = sum(sum(last.held[v]) for v in snapshot_targets if v in last.held)
    return copies, held


def main() -> None:
    """Write the pictures and print the counts."""
    out = ROOT / "docs" / "pictures"
    out.mkdir(parents=True, exist_ok=True)
    for name, policy, step, stem in FIGURES:
        snap = snapshots(name, policy)[step - 1]
        (out / f"{stem}.svg").write_bytes(render(snap, "svg"))
        print(f"docs/pictures/{stem}.svg  ({name} step {step}, {policy}): {snap.lines[0]}")
    print("\ntrace                        policy     grain copies  grains held by snapshots")
    for name in ("per-type-cascades.json", "stop-middle-target.json", "restore.json"):
        for policy in ("per-type", "mixed"):
            copies, held = counts(snapshots(name, policy))
            print(f"{name:<28} {policy:<10} {copies:>12}  {held:>24}")


if __name__ == "__main__":
    main()
