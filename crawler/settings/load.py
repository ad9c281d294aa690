"""Loading the settings: the TOML file (--config), the environment and the flags merged over
the defaults (defaults < file < environment < flags), then checked as a whole."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path

from crawler.protocol.errors import UsageError
from crawler.settings.table import (
    ENV_NOT_SETTINGS,
    ENV_PREFIX,
    KEYS,
    KEYS_BY_NAME,
    ORG_ENV,
    Settings,
    format_number,
)
from crawler.settings.values import coerce, fail, suggest

# -- sources ------------------------------------------------------------------------------


def read_config_file(path: Path) -> dict[str, object]:
    """The TOML table in ``path``, or UsageError for a missing, unreadable or malformed file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"config file {path} is a directory, not a TOML file") from None
    except OSError as exc:
        raise UsageError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _from_file(path: Path) -> dict[str, tuple[object, str, bool]]:
    table = read_config_file(path)
    found: dict[str, tuple[object, str, bool]] = {}
    for name, value in table.items():
        if name not in KEYS_BY_NAME:
            if isinstance(value, dict):
                raise UsageError(
                    f"{path}: [{name}] table: this file has no tables; "
                    "put the keys at the top level"
                )
            raise UsageError(f"{path}: unknown key {name!r}{suggest(name, list(KEYS_BY_NAME))}")
        found[name] = (value, str(path), False)
    return found


def _from_env(environ: Mapping[str, str]) -> dict[str, tuple[object, str, bool]]:
    found: dict[str, tuple[object, str, bool]] = {}
    known = {key.env: key.name for key in KEYS}
    for var, value in environ.items():
        if var in known:
            if value.strip():
                found[known[var]] = (value, f"environment variable {var}", True)
        elif var.startswith(ENV_PREFIX) and var not in ENV_NOT_SETTINGS:
            # Only near-misses are errors, so other tools may share the prefix.
            settings_vars = [v for v in known if v.startswith(ENV_PREFIX)]
            close = difflib.get_close_matches(var, settings_vars, n=1, cutoff=0.85)
            if close:
                raise UsageError(
                    f"environment variable {var} is not a setting; did you mean {close[0]}?"
                )
    return found


def _from_flags(flags: Mapping[str, object]) -> dict[str, tuple[object, str, bool]]:
    unknown = sorted(set(flags) - set(KEYS_BY_NAME))
    if unknown:
        raise ValueError(f"load_settings: unknown flag keys {unknown}; use Settings field names")
    return {
        name: (value, f"flag {KEYS_BY_NAME[name].flag}", True)
        for name, value in flags.items()
        if value is not None
    }


# -- checks on the merged result ----------------------------------------------------------


def _check_output(path: Path, source: str) -> None:
    if path.is_dir():
        fail("output", source, path, "is an existing directory; give a file path")
    parent = path.parent
    if not parent.is_dir():
        fail("output", source, path, f"the directory {str(parent)!r} does not exist")


def _check_ca_bundle(path: Path, source: str) -> None:
    if not path.is_file():
        fail("ca_bundle", source, path, "is not a file; give a PEM file of CA certificates")
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        fail("ca_bundle", source, path, f"cannot be read ({exc.strerror})")
    if b"-----BEGIN CERTIFICATE-----" not in head:
        fail("ca_bundle", source, path, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")


def load_settings(
    *, flags: Mapping[str, object], environ: Mapping[str, str], config_path: Path | None
) -> Settings:
    """Merge defaults < config file < environment < flags into validated Settings.

    ``flags`` uses Settings field names; a value of None means the flag was not given.
    """
    merged: dict[str, tuple[object, str, bool]] = {}
    if config_path is not None:
        merged.update(_from_file(config_path))
    merged.update(_from_env(environ))
    merged.update(_from_flags(flags))

    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name, (raw, source, textual) in merged.items():
        values[name] = coerce(KEYS_BY_NAME[name], raw, source, textual)
        sources[name] = source
    if "org" not in values:
        raise UsageError(
            f"no organization URL: pass --org https://dev.azure.com/{{org}}/ or set {ORG_ENV} "
            "(predefined in Azure Pipelines)"
        )
    settings = Settings(**values)  # type: ignore[arg-type]

    _check_output(settings.output, sources.get("output", "default"))
    if settings.ca_bundle is not None:
        _check_ca_bundle(settings.ca_bundle, sources["ca_bundle"])
    if settings.verbose and settings.quiet:
        raise UsageError(
            f"verbose ({sources['verbose']}) and quiet ({sources['quiet']}) cannot both be on"
        )
    if settings.backoff_base_s > settings.backoff_max_s:
        fail(
            "backoff_base_s",
            sources.get("backoff_base_s", "default"),
            settings.backoff_base_s,
            f"larger than backoff_max_s = {format_number(settings.backoff_max_s)}",
        )
    return settings
