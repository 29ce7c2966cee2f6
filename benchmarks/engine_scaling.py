"""Host writes per second and grain copies per write against the number of targets of one source.

Three engines side by side in one run: the reference engine with per-type cascades, the same
with one mixed cascade, and the naive multi-target engine of examples/naive_driver.py (every
target keeps its own bitmap, so a source write copies into every target that lacks the grain).

For N targets of one source (half clones that never run their background copy, half snapshots),
every grain of the source is written once after all starts: the worst case, each write finds
every target unsplit. Reported per engine and N: grain copies per write, writes per second, and
writes per second relative to that engine at N=1 (measured in the same run, so machine noise
hits all columns alike).

    python benchmarks/engine_scaling.py [--grains 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference import Engine  # noqa: E402


def _naive_class() -> Any:
    spec = importlib.util.spec_from_file_location(
        "naive_driver", ROOT / "examples" / "naive_driver.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NaiveEngine


def _setup(engine: Any, targets: int, grains: int) -> None:
    def ok(**op: Any) -> None:
        answer = engine.handle(op)
        assert answer["ok"], (op, answer)

    ok(op="create_volume", volume="S", size=grains)
    for i in range(targets):
        ok(op="create_volume", volume=f"T{i}", size=grains)
        rate = 50 if i % 2 else 0
        ok(op="create_map", map=f"m{i}", source="S", target=f"T{i}", copy_rate=rate)
        ok(op="start", map=f"m{i}")


def _copies(answer: dict[str, Any]) -> int:
    if "copies" in answer:
        return len(answer["copies"])
    return int(answer.get("grain_copies", 0))


def measure(make: Any, targets: int, grains: int) -> tuple[float, float]:
    """(grain copies per write, writes per second) for one engine and target count."""
    engine = make()
    _setup(engine, targets, grains)
    copies = 0
    t0 = time.perf_counter()
    for g in range(grains):
        answer = engine.handle({"op": "write", "volume": "S", "block": g, "data": [f"x{g}"]})
        copies += _copies(answer)
    elapsed = time.perf_counter() - t0
    return copies / grains, grains / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grains", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument("--targets", default="1,4,16,64,256")
    args = parser.parse_args()
    naive = _naive_class()
    engines = {
        "per-type": lambda: Engine(grain_size=1, policy="per-type"),
        "mixed": lambda: Engine(grain_size=1, policy="mixed"),
        "naive": lambda: naive(grain_size=1),
    }
    counts = [int(n) for n in args.targets.split(",")]
    rows: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in engines}
    for n in counts:
        for name, make in engines.items():
            best = max(
                (measure(make, n, args.grains) for _ in range(args.repeat)), key=lambda r: r[1]
            )
            rows[name][n] = best
    print(
        f"source of {args.grains} grains, each written once after N starts "
        f"(best of {args.repeat}); python {sys.version.split()[0]}"
    )
    print(f"{'engine':<9} {'N':>4} {'copies/write':>13} {'writes/s':>10} {'vs N=1':>8}")
    for name, by_n in rows.items():
        base = by_n[counts[0]][1]
        for n in counts:
            cpw, wps = by_n[n]
            print(f"{name:<9} {n:>4} {cpw:>13.2f} {wps:>10.0f} {wps / base:>8.2f}")
    flat = all(rows["per-type"][n][0] <= 2 for n in counts) and all(
        rows["mixed"][n][0] <= 1 for n in counts
    )
    print("cascade copies per source write stay flat:", "yes" if flat else "NO")


if __name__ == "__main__":
    main()
