"""Real engines side by side: raw operation rates and harness throughput, one run.

For every driver (the reference engine first, as the yardstick), in one process and one run so
machine noise hits all alike:

- raw rates through the vocabulary: 1-block writes, whole-volume reads (12 blocks), and
  starts (create a volume, create a snapshot map onto it, start it);
- a conformance campaign with the same seed and budget for every driver: generated steps per
  second (each step includes the harness's read of every volume), the verdict, and for a
  nonconformance the time to the first failure and the shrunk trace length.

Ratios are against the reference engine in the same run.

    python benchmarks/engines.py [--ops 300] [--examples 30] [--steps 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import Plan, run_campaign  # noqa: E402
from harness.drivers import Driver, DriverError, open_driver  # noqa: E402

DRIVERS = [
    "reference",
    "qemu-live",
    "qemu-offline",
    "qemu-cbw",
    "nbdkit-cow",
    "reflink-btrfs",
    "reflink-xfs",
]
SIZE = 12


def _ok(d: Driver, **op: object) -> None:
    answer = d.request(op)
    assert answer["ok"], (op, answer)


def raw_rates(d: Driver, ops: int) -> tuple[float, float, float]:
    """Writes, reads and starts per second."""
    _ok(d, op="reset", grain_size=2)
    _ok(d, op="create_volume", volume="S", size=SIZE)
    began = time.perf_counter()
    for i in range(ops):
        _ok(d, op="write", volume="S", block=i % SIZE, data=[f"w{i}"])
    writes = ops / (time.perf_counter() - began)
    began = time.perf_counter()
    for _ in range(ops):
        _ok(d, op="read", volume="S", block=0, count=SIZE)
    reads = ops / (time.perf_counter() - began)
    starts = max(ops // 10, 5)
    began = time.perf_counter()
    for i in range(starts):
        _ok(d, op="create_volume", volume=f"T{i}", size=SIZE)
        _ok(d, op="create_map", map=f"m{i}", source="S", target=f"T{i}", type="snapshot")
        _ok(d, op="start", map=f"m{i}")
    return writes, reads, starts / (time.perf_counter() - began)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=300)
    p.add_argument("--examples", type=int, default=30)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    print(f"raw: {args.ops} writes, {args.ops} reads of {SIZE} blocks, {args.ops // 10} starts")
    print(f"campaign: {args.examples} sequences x {args.steps} steps, seed {args.seed}\n")
    head = f"{'driver':14} {'writes/s':>9} {'reads/s':>9} {'starts/s':>9}"
    print(f"{head} {'steps/s':>8} {'vs ref':>7}  verdict")
    base = None
    for name in DRIVERS:
        try:
            d = open_driver(name)
        except DriverError as err:
            print(f"{name:14} unavailable: {err.message}")
            continue
        try:
            writes, reads, starts = raw_rates(d, args.ops)
        finally:
            d.close()
        with tempfile.TemporaryDirectory() as tmp:
            plan = Plan(
                examples=args.examples,
                steps=args.steps,
                seed=args.seed,
                database=Path(tmp) / "db",
                save_to=Path(tmp) / "trace.json",
            )
            v = run_campaign(lambda n=name: open_driver(n), plan)
            shrunk = len(json.loads(Path(v.trace_path).read_text())["ops"]) if v.trace else 0
        rate = v.steps / v.seconds
        base = base or rate
        verdict = v.status if v.status != "nonconformance" else f"{v.kind} ({shrunk} ops)"
        if v.status == "nonconformance":
            verdict += f", found and shrunk in {v.seconds:.1f}s"
        print(
            f"{name:14} {writes:9.0f} {reads:9.0f} {starts:9.1f} {rate:8.0f} "
            f"{rate / base:7.3f}  {verdict}"
        )


if __name__ == "__main__":
    main()
