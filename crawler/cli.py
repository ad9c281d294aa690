"""The ``ado-inventory`` command line: one sub-command per module in ``crawler.commands``.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules keep heavy imports inside ``run`` so that ``--help``
stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from crawler import NAME, __version__
from crawler.protocol.errors import EXIT_INTERRUPTED, EXIT_USAGE, CrawlerError

COMMANDS = (
    "crawl",
    "demo",
    "validate",
    "diff",
    "report",
    "audit",
    "merge",
    "export",
    "emulator",
)


class _Command(Protocol):
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command:
    return cast(_Command, importlib.import_module(f"crawler.commands.{name}"))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, every sub-command included."""
    parser = argparse.ArgumentParser(
        prog=NAME,
        description="Inventory an Azure DevOps organization into one JSON snapshot.",
    )
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _load(name)
        child = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(child)
        child.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the chosen command, and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return int(args._run(args))
    except CrawlerError as exc:
        print(f"{NAME}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{NAME}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_USAGE
