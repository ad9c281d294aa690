"""The settings on the command line: one argparse flag per ``Key`` (every default None, meaning
not given) and the flags read back by Settings field name."""

from __future__ import annotations

import argparse
from pathlib import Path

from crawler.settings.table import KEYS, Key


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --config and one flag per setting; every default is None (= not given)."""
    parser.add_argument(
        "--config", type=Path, default=None, metavar="PATH", help="TOML file (see config/)"
    )
    for key in KEYS:
        text = f"{key.help} (env {key.env}"
        text += f"; {key.allowed()})" if key.allowed() else ")"
        text = text.replace("%", "%%")
        if key.kind == "bool":
            parser.add_argument(
                *key.flags,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=text,
                dest=key.name,
            )
        elif key.kind == "globs":
            parser.add_argument(
                *key.flags, action="append", default=None, metavar="GLOB", help=text, dest=key.name
            )
        else:
            metavar = _metavar(key)
            parser.add_argument(*key.flags, default=None, metavar=metavar, help=text, dest=key.name)


def _metavar(key: Key) -> str:
    if key.choices:
        return "{" + ",".join(key.choices) + "}"
    if key.kind in ("org", "path", "resources"):
        return {"org": "URL", "path": "PATH", "resources": "LIST"}[key.kind]
    if key.name.endswith("_s"):
        return "SECONDS"
    return "MB" if key.name.endswith("_mb") else "N"


def flags_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The settings flags of a namespace built with :func:`add_settings_arguments`."""
    return {key.name: getattr(args, key.name, None) for key in KEYS}
