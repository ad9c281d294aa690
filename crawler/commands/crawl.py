"""``ado-inventory crawl``: inventory an organization into one JSON snapshot."""

from __future__ import annotations

import argparse
import os

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --config and one flag per setting (defaults < config file < environment < flags)."""
    from crawler.settings.args import add_settings_arguments

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    add_settings_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Resolve settings and credential, crawl, print the summary, return the exit code."""
    from crawler.run import run_crawl
    from crawler.settings.args import flags_from_args
    from crawler.settings.credentials import resolve_credential
    from crawler.settings.load import load_settings

    flags = flags_from_args(args)
    environ = dict(os.environ)
    settings = load_settings(flags=flags, environ=environ, config_path=args.config)
    credential = resolve_credential(environ, settings.auth)
    result = run_crawl(settings, credential, environ)
    if not settings.quiet:
        print(result.summary, flush=True)
    return result.exit_code
