"""Serving any driver as a JSON-lines process: what `exec:` drivers speak, for any implementation.

`cascadecheck serve --driver python:MODULE:CLASS` reads one request per line on stdin and
writes one answer per line on stdout, echoing each request's `id`. It puts an in-process
implementation (the reference engine, a seeded mutant) behind the same wire a vendor's program
uses, so the exec driver can be tested against it.
"""

from __future__ import annotations

import json
import sys
from typing import IO

from .base import Driver, DriverError


def serve(driver: Driver, stdin: IO[str], stdout: IO[str]) -> int:
    """Answer every request line until end of input; exit 0, or 2 if the implementation broke."""
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as err:
            answer: dict = {"ok": False, "error": "bad_request", "message": f"not JSON: {err}"}
            ident = None
        else:
            ident = request.pop("id", None) if isinstance(request, dict) else None
            try:
                answer = driver.request(request)
            except DriverError as err:
                print(f"implementation failed ({err.verdict}): {err}", file=sys.stderr)
                return 2
        if ident is not None:
            answer["id"] = ident
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0
