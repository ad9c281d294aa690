"""``ado-inventory validate FILE``: check a snapshot against the JSON Schema shipped in the package.

Exit 0 valid, 1 invalid (the JSON paths of the first problems on stderr), 2 unreadable.
Accepts single- and multi-organization files, in any JSON layout, read one item at a time.
``open_valid`` (streaming) and ``load_valid`` (whole document) are shared by the other commands.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.protocol.errors import EXIT_FAILURE, EXIT_OK, UsageError

if TYPE_CHECKING:
    from crawler.snapshot.reader import SnapshotFile

HELP = "check a snapshot file (single- or multi-organization) against the snapshot schema"
DEFAULT_SHOWN = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("file", metavar="FILE", help="snapshot (inventory.json) or merged file")
    parser.add_argument(
        "--max-problems",
        type=int,
        default=DEFAULT_SHOWN,
        metavar="N",
        help=f"how many problems to print (default {DEFAULT_SHOWN})",
    )


def load_valid(path: str | Path) -> dict[str, Any]:
    """Load a snapshot and refuse it (UsageError, exit 2) unless it matches its schema."""
    from crawler.snapshot.schema import load_snapshot, schema_for
    from crawler.snapshot.validate import Validator

    doc = load_snapshot(path)
    problems = Validator(schema_for(doc)).problems(doc, limit=3)
    if problems:
        shown = "; ".join(str(p) for p in problems)
        raise UsageError(f"{path}: not a valid snapshot ({shown}); see 'ado-inventory validate'")
    return doc


def open_valid(path: str | Path) -> SnapshotFile:
    """Open a snapshot for streaming (``crawler.snapshot.reader``) and refuse it (UsageError, exit
    2)
    unless it matches its schema; reads it once, one item at a time."""
    from crawler.snapshot.reader import open_snapshot
    from crawler.snapshot.schema import schema_for
    from crawler.snapshot.validate import Validator, iter_file_problems

    snapshot = open_snapshot(path)
    found = iter_file_problems(Validator(schema_for(snapshot.header)), snapshot)
    problems = list(itertools.islice(found, 3))
    if problems:
        shown = "; ".join(str(p) for p in problems)
        raise UsageError(f"{path}: not a valid snapshot ({shown}); see 'ado-inventory validate'")
    return snapshot


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from crawler.snapshot.reader import open_snapshot
    from crawler.snapshot.schema import schema_for
    from crawler.snapshot.validate import Problem, Validator, iter_file_problems

    snapshot = open_snapshot(args.file)
    multi = snapshot.multi
    kind = "multi-organization file" if multi else "single-organization snapshot"
    limit = max(args.max_problems, 1)
    shown: list[Problem] = []
    total = 0
    for problem in iter_file_problems(Validator(schema_for(snapshot.header)), snapshot):
        total += 1
        if len(shown) < limit:
            shown.append(problem)
    if not total:
        print(f"{args.file}: valid {kind}")
        return EXIT_OK
    print(f"{args.file}: invalid {kind}: {total} problem(s)", file=sys.stderr)
    for problem in shown:
        print(f"  {problem}", file=sys.stderr)
    if total > limit:
        print(f"  ... and {total - limit} more", file=sys.stderr)
    return EXIT_FAILURE
