"""``ado-inventory validate FILE``: check a snapshot against the JSON Schema shipped in the package.

Exit 0 valid, 1 invalid (the JSON paths of the first problems on stderr), 2 unreadable.
Accepts single- and multi-organization files. ``load_valid`` is shared by the other commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler.errors import EXIT_FAILURE, EXIT_OK, UsageError

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
    from crawler.schema import load_snapshot, schema_for
    from crawler.validate import Validator

    doc = load_snapshot(path)
    problems = Validator(schema_for(doc)).problems(doc, limit=3)
    if problems:
        shown = "; ".join(str(p) for p in problems)
        raise UsageError(f"{path}: not a valid snapshot ({shown}); see 'ado-inventory validate'")
    return doc


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from crawler.schema import is_multi, load_snapshot, schema_for
    from crawler.validate import Validator

    doc = load_snapshot(args.file)
    kind = "multi-organization file" if is_multi(doc) else "single-organization snapshot"
    problems = Validator(schema_for(doc)).problems(doc)
    if not problems:
        print(f"{args.file}: valid {kind}")
        return EXIT_OK
    limit = max(args.max_problems, 1)
    print(f"{args.file}: invalid {kind}: {len(problems)} problem(s)", file=sys.stderr)
    for problem in problems[:limit]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > limit:
        print(f"  ... and {len(problems) - limit} more", file=sys.stderr)
    return EXIT_FAILURE
