"""``ado-inventory diff OLD NEW``: what changed between two snapshots.

Exit 0 same, 1 different, 2 trouble (unreadable or invalid file, unsupported schema_version).
Both files are read item by item (a merge-join), so memory does not grow with their size.
"""

from __future__ import annotations

import argparse
import sys

from crawler.protocol.errors import EXIT_FAILURE, EXIT_OK

HELP = "compare two snapshots: added, removed, renamed and changed items (exit 0 same, 1 different)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("old", metavar="OLD", help="the earlier snapshot")
    parser.add_argument("new", metavar="NEW", help="the later snapshot")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format on stdout (default text)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    # Deferred for start-up time (crawler.cli: ``--help`` loads no command's engine).
    from crawler.commands.validate import open_valid
    from crawler.downstream.diff import diff_files
    from crawler.downstream.diff_render import RENDERERS

    old, new = open_valid(args.old), open_valid(args.new)
    diff = diff_files(old, new)
    sys.stdout.buffer.write(RENDERERS[args.format](diff).encode("utf-8"))
    sys.stdout.flush()
    return EXIT_OK if diff.same else EXIT_FAILURE
