"""``ado-inventory merge -o OUT IN...``: several organizations' snapshots into one file.

Each input is checked against its schema first; the output is checked against the
multi-organization schema before it replaces OUT (written to a temporary file, then renamed).
Inputs are read and the output written one item at a time
(``crawler.downstream.merge.merge_files``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from crawler.protocol.errors import EXIT_OK, CrawlerError

HELP = "combine per-organization snapshots into one multi-organization inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    parser.add_argument(
        "inputs", nargs="+", metavar="IN", help="snapshots (single- or multi-organization)"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    from crawler.snapshot.atomic import replacing

    with replacing(path) as handle:
        handle.write(data)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from crawler.commands.validate import open_valid
    from crawler.downstream.merge import merge_files
    from crawler.snapshot.reader import open_snapshot
    from crawler.snapshot.schema import multi_schema
    from crawler.snapshot.validate import Validator, iter_file_problems

    inputs = [(name, open_valid(name)) for name in args.inputs]
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".merge", dir=output.parent)
    os.close(fd)
    try:
        header = merge_files(inputs, Path(scratch))
        found = iter_file_problems(Validator(multi_schema()), open_snapshot(scratch))
        problem = next(found, None)
        if problem is not None:
            raise CrawlerError(f"merge produced an invalid file (a bug): {problem}")
        os.replace(scratch, output)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    orgs = ", ".join(org["name"] for org in header["organizations"])
    print(f"{args.output}: {len(header['organizations'])} organization(s): {orgs}")
    return EXIT_OK
