"""Trace loading time against trace size: loading is linear (0.5 MB used to take 10.5 s, 2 MB
140 s, 50 MB never, when each operation's line number was found by counting from the start).

A synthetic trace of host writes and reads with expectations, one operation per line, the way
`cascadecheck` writes them, at each size; the figure is seconds to `load_trace` (parse, find
every operation's line, validate every operation and expectation against the schemas) and MB/s.

    python benchmarks/traces.py [--sizes 0.5,2,10,50]
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

from harness.trace import load_trace  # noqa: E402
from harness.trace.format import FORMAT  # noqa: E402


def write_trace(path: Path, megabytes: float) -> int:
    """A valid trace of about `megabytes` MB; the number of operations."""
    ops = [
        '{"op": "create_volume", "volume": "V", "size": 64, "expect": {"ok": true}}',
    ]
    size, n = 0, 0
    while size < megabytes * 1_000_000:
        n += 1
        block = n % 64
        if n % 2:
            op = {
                "op": "write",
                "volume": "V",
                "block": block,
                "data": [f"w{n}"],
                "expect": {"ok": True},
            }
        else:
            op = {
                "op": "read",
                "volume": "V",
                "block": block,
                "count": 1,
                "expect": {"ok": True, "data": [f"w{n - 1}"]},
            }
        line = json.dumps(op)
        ops.append(line)
        size += len(line) + 2
    head = f'{{"format": "{FORMAT}", "grain_size": 2, "policy": "per-type", "ops": [\n'
    path.write_text(head + ",\n".join(ops) + "\n]}\n")
    return len(ops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.5,2,10,50")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for mb in (float(x) for x in args.sizes.split(",")):
            path = Path(folder) / f"t{mb}.json"
            n = write_trace(path, mb)
            real = path.stat().st_size / 1e6
            began = time.perf_counter()
            trace = load_trace(path)
            seconds = time.perf_counter() - began
            assert len(trace.ops) == n
            print(
                f"{real:6.1f} MB, {n:8d} operations: loaded in {seconds:6.2f} s "
                f"({real / seconds:5.1f} MB/s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
