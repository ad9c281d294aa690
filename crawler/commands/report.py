"""``ado-inventory report SNAPSHOT``: Markdown summary, CSV tables or a self-contained HTML page.

Markdown and HTML go to stdout unless ``-o PATH``; CSV needs ``-o DIRECTORY`` (one file a table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.protocol.errors import EXIT_OK, UsageError

HELP = "report on a snapshot: --format markdown (summary), csv (tables) or html (one page)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot or merged file")
    parser.add_argument(
        "--format",
        choices=("markdown", "csv", "html"),
        default="markdown",
        help="report format (default markdown)",
    )
    parser.add_argument(
        "--stale-days",
        type=int,
        default=365,
        metavar="N",
        help="pipelines not run and releases not released for N days are findings (365)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write (markdown, html; default stdout) or directory (csv; required)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from crawler.commands.merge import write_atomically
    from crawler.commands.validate import open_valid
    from crawler.downstream.report.model import open_inventory

    if args.format == "csv" and not args.output:
        raise UsageError("--format csv writes one file per table: give -o DIRECTORY")
    if args.format == "csv" and Path(args.output).is_file():
        raise UsageError(f"{args.output}: is a file; --format csv needs a directory")
    if not 1 <= args.stale_days <= 36500:
        raise UsageError(f"--stale-days {args.stale_days}: give a number of days from 1 to 36500")
    inv = open_inventory(open_valid(args.snapshot), stale_days=args.stale_days)
    if args.format == "csv":
        from crawler.downstream.report.csv import write_csv

        for path in write_csv(inv, Path(args.output)):
            print(path)
        return EXIT_OK
    if args.format == "html":
        from crawler.downstream.report.html import render_html

        text = render_html(inv)
    else:
        from crawler.downstream.report.markdown import render_markdown

        text = render_markdown(inv)
    if args.output:
        write_atomically(Path(args.output), text.encode("utf-8"))
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    return EXIT_OK
