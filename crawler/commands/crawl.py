"""``ado-inventory crawl``: inventory an organization into one JSON snapshot."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HELP = "crawl an Azure DevOps organization and write the JSON snapshot"

EPILOG = """\
credentials (from the environment, never from the command line):
  SYSTEM_ACCESSTOKEN          job access token (Bearer); in YAML map it with
                              env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }
  AZURE_DEVOPS_EXT_PAT        personal access token (Basic)
  ADO_INVENTORY_BEARER_TOKEN  Entra ID access token (Bearer)

exit codes: 0 complete, 2 usage/config error, 3 authentication failed,
            4 snapshot written but partial (see 'errors'), 130 interrupted, 1 other
"""


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the crawl flags; precedence is defaults < --config file < environment < flags."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    add = parser.add_argument
    add("--org", metavar="URL", help="organization URL (default: $SYSTEM_COLLECTIONURI)")
    add("-o", "--output", metavar="PATH", type=Path, help="snapshot path (default inventory.json)")
    add("--config", metavar="PATH", type=Path, help="TOML settings file (examples in config/)")
    add("--concurrency", metavar="N", type=int, help="requests in flight at most (default 16)")
    add("--rate", metavar="R", type=float, help="requests per second at most (default 50)")
    add("--page-size", metavar="N", type=int, help="$top asked for paged lists (default 500)")
    add("--project", metavar="GLOB", action="append", dest="projects",
        help="crawl only projects matching GLOB (repeatable)")  # fmt: skip
    add("--exclude-project", metavar="GLOB", action="append", dest="exclude_projects",
        help="skip projects matching GLOB (repeatable; wins over --project)")  # fmt: skip
    add("--resources", metavar="LIST", type=_csv,
        help="comma-separated resource keys, or 'all' (default: the core set)")  # fmt: skip
    add(
        "--auth",
        choices=("job", "pat", "bearer"),
        help="which credential to use when several are set",
    )
    add("--timeout", metavar="S", type=float, dest="timeout_s", help="per-request timeout (60)")
    add("--deadline", metavar="S", type=float, dest="deadline_s", help="whole-run deadline (3600)")
    add("--max-retries", metavar="N", type=int, help="retries per request (6)")
    add("--ca-bundle", metavar="PEM", type=Path, help="CA bundle for a server behind a private CA")
    add("--progress", choices=("auto", "tty", "plain", "none"), help="progress display (auto)")
    add("-q", "--quiet", action="store_const", const=True, help="only errors on stderr")
    add("-v", "--verbose", action="store_const", const=True, help="log every request and retry")


FLAG_KEYS = (
    "org", "output", "concurrency", "rate", "page_size", "projects", "exclude_projects",
    "resources", "auth", "timeout_s", "deadline_s", "max_retries", "ca_bundle", "progress",
    "quiet", "verbose",
)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Resolve settings and credential, crawl, print the summary, return the exit code."""
    from crawler.config import load_settings
    from crawler.credentials import resolve_credential
    from crawler.run import run_crawl

    flags = {key: getattr(args, key, None) for key in FLAG_KEYS}
    if flags["projects"] is not None:
        flags["projects"] = tuple(flags["projects"])
    if flags["exclude_projects"] is not None:
        flags["exclude_projects"] = tuple(flags["exclude_projects"])
    environ = dict(os.environ)
    settings = load_settings(flags=flags, environ=environ, config_path=args.config)
    credential = resolve_credential(environ, settings.auth)
    result = run_crawl(settings, credential, environ)
    if not settings.quiet:
        print(result.summary, flush=True)
    return result.exit_code
