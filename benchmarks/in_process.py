"""What timing the in-process driver's calls costs: the same campaign against the reference
engine through `python:reference.engine:Engine`, run three ways and interleaved round by round
so machine noise hits all alike —

- *timed*: on the main thread, each call under a timer signal (`cascadecheck check`'s way);
- *thread*: from another thread, each call handed to the implementation's own thread (the
  way off the main thread, where no signal can interrupt a call);
- *unguarded*: timed on the main thread, without the guard of the harness's process state
  (`harness/drivers/guard.py`, stop 30): timed/unguarded is what the guard costs;
- *direct*: the calls made untimed and unguarded (as before stop 28, when a call that never
  returned hung the run).

    python benchmarks/in_process.py [--examples 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import Plan, Verdict, run_campaign  # noqa: E402
from harness.drivers import Driver, open_driver  # noqa: E402
from harness.drivers.calls import Calls  # noqa: E402

MODES = ("timed", "thread", "unguarded", "direct")
RATIOS = (("timed", "direct"), ("thread", "direct"), ("timed", "unguarded"))


class _Untimed(Calls):
    """Calls made right there, untimed."""

    def run(self, what: str, timeout: float, fn, *args):  # type: ignore[no-untyped-def]
        return fn(*args)


def _direct() -> Driver:
    driver = _unguarded()
    driver._calls = _Untimed(driver.name)  # type: ignore[attr-defined]
    return driver


def _unguarded() -> Driver:
    driver = open_driver("python:reference.engine:Engine")
    driver._guard.close()  # type: ignore[attr-defined]
    driver._guard = None  # type: ignore[attr-defined]
    return driver


def rate(mode: str, examples: int, seed: int) -> tuple[float, int]:
    """Steps per second of one campaign, and its step count."""
    plan = Plan(examples=examples, seed=seed, corpus=[], fill_gaps=False)
    makers = {"direct": _direct, "unguarded": _unguarded}
    make = makers.get(mode, lambda: open_driver("python:reference.engine:Engine"))
    out: list[Verdict] = []
    began = time.perf_counter()
    if mode == "thread":
        worker = threading.Thread(target=lambda: out.append(run_campaign(make, plan)))
        worker.start()
        worker.join()
    else:
        out.append(run_campaign(make, plan))
    seconds = time.perf_counter() - began
    assert out[0].status in ("conforms", "inconclusive"), out[0].problem
    return out[0].steps / seconds, out[0].steps


def main() -> None:
    """Print each mode's rate and its ratio to the direct calls', per round and the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ratios: dict[tuple[str, str], list[float]] = {pair: [] for pair in RATIOS}
    for r in range(args.rounds):
        rates = {m: rate(m, args.examples, seed=r + 1) for m in MODES}
        assert len({steps for _, steps in rates.values()}) == 1, rates  # the same sequences
        for a, b in RATIOS:
            ratios[(a, b)].append(rates[a][0] / rates[b][0])
        print(
            f"round {r + 1}: {rates['direct'][1]} steps; "
            + ", ".join(f"{m} {v:.0f}/s" for m, (v, _) in rates.items())
            + "; "
            + ", ".join(f"{a}/{b} {ratios[(a, b)][-1]:.2f}" for a, b in RATIOS),
            flush=True,
        )
    for a, b in RATIOS:
        print(f"median ratio {a}/{b}: {statistics.median(ratios[(a, b)]):.2f}")


if __name__ == "__main__":
    main()
