"""Entry point for ``python -m crawler`` and the ``ado-inventory`` console script."""

from __future__ import annotations

import sys

from crawler.cli import main as _cli_main


def main() -> None:
    """Run the command line and exit with its status."""
    sys.exit(_cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
