"""`cascadecheck schema`: the vocabulary's JSON Schemas, for vendors' own validation."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..protocol import json_schemas
from .common import folder


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser("schema", help="print (or write) the JSON Schemas of requests and answers")
    p.add_argument("--out", metavar="DIR", help="write requests.json and answers.json into DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Always exit 0 (an unwritable folder is a usage error)."""
    schemas = json_schemas()
    if not args.out:
        print(json.dumps(schemas, indent=1))
        return 0
    where = folder(args.out)
    for name, doc in schemas.items():
        (where / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {', '.join(f'{n}.json' for n in schemas)} to {where}")
    return 0
