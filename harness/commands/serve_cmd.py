"""`cascadecheck serve`: put an implementation behind the JSON-lines wire of `exec:` drivers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..drivers import DriverError, open_driver
from ..drivers.serve import serve


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser("serve", help="serve an implementation as JSON lines on stdin/stdout")
    p.add_argument("--driver", default="reference", help="implementation (default: reference)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until end of input."""
    try:
        driver = open_driver(args.driver)
    except DriverError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with driver:
        return serve(driver, sys.stdin, sys.stdout)
