"""``ado-inventory merge -o OUT IN...``: several organizations' snapshots into one file.

Each input is checked against its schema first; the output is checked against the
multi-organization schema before it replaces OUT (written to a temporary file, then renamed).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from crawler.errors import EXIT_OK, CrawlerError

HELP = "combine per-organization snapshots into one multi-organization inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    parser.add_argument(
        "inputs", nargs="+", metavar="IN", help="snapshots (single- or multi-organization)"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    import orjson

    from crawler.commands.validate import load_valid
    from crawler.merge import merge_snapshots
    from crawler.schema import multi_schema
    from crawler.validate import Validator

    docs = [(name, load_valid(name)) for name in args.inputs]
    merged = merge_snapshots(docs)
    problems = Validator(multi_schema()).problems(merged, limit=3)
    if problems:
        raise CrawlerError(f"merge produced an invalid file (a bug): {problems[0]}")
    data = orjson.dumps(merged, option=orjson.OPT_SORT_KEYS) + b"\n"
    write_atomically(Path(args.output), data)
    orgs = ", ".join(org["name"] for org in merged["organizations"])
    print(f"{args.output}: {len(merged['organizations'])} organization(s): {orgs}")
    return EXIT_OK
