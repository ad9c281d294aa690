"""``ado-inventory export SNAPSHOT --format ndjson -o DIR``: the snapshot as files other tools read.

One ``RESOURCE.ndjson`` per resource key of the snapshot (whatever keys it has): one item a
line, each naming its ``organization`` (and its ``project {id, name}``, as the snapshot
stores it), keys sorted. Plus ``snapshot.json``: the snapshot's header without any items
(itself a valid snapshot), so run facts and ``errors`` travel with the data. Read one item
at a time (``crawler.snapshot.reader``): memory does not grow with the snapshot. Each file is
written
to a temporary name in DIR and renamed when complete. DuckDB's ``read_json``, pandas'
``read_json(lines=True)`` and ``jq -c`` read the files with their default settings.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from crawler.protocol.errors import EXIT_OK, CrawlerError, UsageError

HELP = "write a snapshot as NDJSON, one RESOURCE.ndjson per resource key plus snapshot.json"
HEADER_FILE = "snapshot.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot or merged file")
    parser.add_argument(
        "--format", choices=("ndjson",), default="ndjson", help="export format (ndjson)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="directory to write (created)"
    )


def _write(path: Path, lines: Iterable[bytes]) -> Path:
    from crawler.snapshot.atomic import replacing

    with replacing(path) as out:
        for line in lines:
            out.write(line)
    return path


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    import orjson

    from crawler.commands.validate import open_valid
    from crawler.downstream.merge import as_multi

    directory = Path(args.output)
    if directory.is_file():
        raise UsageError(f"{directory}: is a file; export writes a directory of files (-o DIR)")
    snapshot = open_valid(args.snapshot)
    keys = snapshot.resource_keys
    names = {f"{key}.ndjson" for key in keys}
    if HEADER_FILE in names:
        raise UsageError(f"{args.snapshot}: a resource key would overwrite {HEADER_FILE}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create ({exc.strerror or exc})") from None
    single = None if snapshot.multi else str(as_multi(snapshot.shell())["organizations"][0]["name"])
    option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

    def lines(key: str) -> Iterable[bytes]:
        for item in snapshot.items(key):
            if single is not None:
                item["organization"] = single
            yield orjson.dumps(item, option=option)

    header = orjson.dumps(snapshot.header, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    try:
        written = [_write(directory / HEADER_FILE, [header + b"\n"])]
        written += [_write(directory / f"{key}.ndjson", lines(key)) for key in keys]
    except OSError as exc:
        raise CrawlerError(
            f"could not write the export in {directory}: {exc.strerror or exc}; "
            "free some space or choose another -o DIR"
        ) from None
    for path in written:
        print(path)
    return EXIT_OK
