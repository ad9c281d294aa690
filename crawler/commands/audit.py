"""``ado-inventory audit SNAPSHOT``: the pipeline security posture of a snapshot, as findings.

Text (default), Markdown, JSON or SARIF 2.1.0, to stdout unless ``-o PATH``. Exit 0 when no
finding is at or above ``--fail-on`` (default ``none``: never), 1 when some is, 2 when the file
cannot be read. Makes no request: it reads the snapshot only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.protocol.errors import EXIT_FAILURE, EXIT_OK

HELP = "audit a snapshot's pipeline security posture: text, markdown, json or sarif; --fail-on"
FORMATS = ("text", "markdown", "json", "sarif")
THRESHOLDS = ("none", "low", "medium", "high")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot or merged file")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--fail-on",
        choices=THRESHOLDS,
        default="none",
        help="exit 1 when a finding has this severity or higher (default none: exit 0)",
    )
    parser.add_argument("-o", "--output", metavar="PATH", help="file to write (default stdout)")


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from crawler.commands.merge import write_atomically
    from crawler.commands.validate import open_valid
    from crawler.downstream.audit.engine import any_at_least, run_audit
    from crawler.downstream.audit.render import render_json, render_markdown, render_text
    from crawler.downstream.audit.sarif import render_sarif
    from crawler.downstream.report.model import open_inventory

    # Read item by item from disk (crawler.snapshot.reader): memory does not grow with the file.
    result = run_audit(open_inventory(open_valid(args.snapshot)))
    render = {
        "text": render_text,
        "markdown": render_markdown,
        "json": render_json,
        "sarif": render_sarif,
    }[args.format]
    data = render(result).encode("utf-8")
    if args.output:
        write_atomically(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_FAILURE if any_at_least(result, args.fail_on) else EXIT_OK
