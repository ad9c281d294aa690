"""``ado-inventory emulator``: not implemented yet."""

from __future__ import annotations

import argparse

from crawler.errors import UsageError

HELP = "emulator (not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    raise UsageError("'emulator' is not implemented yet")
