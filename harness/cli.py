"""The `cascadecheck` command: one table of exit codes for every subcommand, and no traceback
ever reaches a user (a bad argument or path is one line and exit 2; Ctrl-C is exit 130)."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from rich.console import Console
from rich.markup import escape

from .campaign.verdict import EXIT_CODES
from .commands import check_cmd, prove_cmd, replay_cmd, schema_cmd, serve_cmd, show_cmd
from .commands.common import UsageError
from .core.errors import InternalError
from .drivers import DriverError

SUBCOMMANDS = [check_cmd, replay_cmd, prove_cmd, serve_cmd, show_cmd, schema_cmd]


def _version() -> str:
    try:
        return version("cascadecheck")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """All subcommands."""
    table = "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="cascadecheck",
        description="Checks cascaded point-in-time copy implementations against a proved model.",
        epilog=f"exit codes (every subcommand):\n{table}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cascadecheck {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand and return its exit code."""
    args = build_parser().parse_args(argv)
    err = Console(stderr=True, highlight=False)
    try:
        return int(args.func(args))
    except UsageError as problem:
        err.print(f"[red]error:[/red] {escape(str(problem))}")
        return 2
    except DriverError as problem:
        err.print(f"[red]driver error ({problem.verdict}):[/red] {escape(str(problem))}")
        return 2
    except InternalError as problem:
        err.print(f"[red]internal error — please report:[/red] {escape(str(problem))}")
        return 4
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except BrokenPipeError:  # output piped into a program that stopped reading
        return 0


if __name__ == "__main__":
    sys.exit(main())
