"""The `cascadecheck` command."""

from __future__ import annotations

import argparse
import sys

from .commands import check_cmd, prove_cmd, replay_cmd, serve_cmd, show_cmd

SUBCOMMANDS = [check_cmd, replay_cmd, prove_cmd, serve_cmd, show_cmd]


def build_parser() -> argparse.ArgumentParser:
    """All subcommands."""
    parser = argparse.ArgumentParser(
        prog="cascadecheck",
        description="Checks cascaded point-in-time copy implementations against a proved model.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; usage errors exit 2."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
