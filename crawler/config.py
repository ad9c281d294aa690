"""The crawl's settings: built-in defaults < TOML file (--config) < environment < flags.

Every rejected value raises :class:`~crawler.errors.UsageError` naming the key, where it came
from, the bad value and what is allowed.
"""

from __future__ import annotations

import argparse
import difflib
import math
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, cast

from crawler.errors import UsageError
from crawler.orgurl import OrgUrl, parse_org_url
from crawler.resources import REGISTRY
from crawler.settings import (
    ALL_RESOURCES,
    ENV_NOT_SETTINGS,
    ENV_PREFIX,
    KEYS,
    KEYS_BY_NAME,
    KNOWN_RESOURCES,
    ORG_ENV,
    Key,
    Settings,
    format_number,
)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _fail(key: str, source: str, value: object, problem: str) -> NoReturn:
    raise UsageError(f"{source}: {key} = {_show(value)}: {problem}")


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, Path) else repr(str(value))
    return text if len(text) <= 80 else text[:77] + "..."


# -- pure helpers -------------------------------------------------------------------------


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable project glob, or None when it is."""
    if not pattern.strip():
        return "an empty pattern matches no project"
    if "/" in pattern or "\\" in pattern:
        return "project names never contain '/' or '\\'; give the project name only"
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            close = pattern.find("]", j)
            if close < 0:
                return "'[' is never closed (write [[] for a literal '[')"
            i = close
        i += 1
    return None


def parse_resources(names: Sequence[str]) -> tuple[str, ...] | str:
    """Canonical resource tuple ("projects" and what each name requires implied, known order),
    or the first unknown name."""
    wanted: set[str] = {"projects"}
    for name in names:
        if name == ALL_RESOURCES:
            wanted.update(KNOWN_RESOURCES)
        elif name in KNOWN_RESOURCES:
            wanted.add(name)
            wanted.update(REGISTRY[name].requires)
        else:
            return name
    return tuple(r for r in KNOWN_RESOURCES if r in wanted)


def parse_bool(text: str) -> bool | None:
    """1/0/true/false/yes/no/on/off (any case) as a bool, else None."""
    folded = text.strip().lower()
    return True if folded in _TRUE else False if folded in _FALSE else None


def suggest(word: str, candidates: Sequence[str]) -> str:
    """'; did you mean X?' for the closest candidate, or an empty string."""
    prefixed = [c for c in candidates if word and c.startswith(word.lower())]
    close = prefixed[:1] or difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# -- coercion -----------------------------------------------------------------------------


def _coerce(key: Key, value: object, source: str, textual: bool) -> object:
    """Turn one raw value into the Settings type, or raise UsageError.

    ``textual`` sources (environment, flags) give strings to parse; TOML gives typed values.
    """
    name = key.name
    if isinstance(value, str) and textual:
        value = value.strip()
    if key.kind == "org":
        if isinstance(value, OrgUrl):
            return value
        if not isinstance(value, str):
            _fail(name, source, value, "expected a URL string")
        try:
            return parse_org_url(value)
        except UsageError as exc:
            raise UsageError(f"{source}: org: {exc}") from None
    if key.kind in ("int", "float"):
        return _coerce_number(key, value, source, textual)
    if key.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and textual:
            parsed = parse_bool(value)
            if parsed is not None:
                return parsed
        _fail(name, source, value, "expected true or false (1/0, yes/no also work in env)")
    if key.kind == "choice":
        if isinstance(value, str):
            folded = value.strip().lower()
            if folded in key.choices:
                return folded
        _fail(name, source, value, f"expected {key.allowed()}{suggest(str(value), key.choices)}")
    if key.kind == "path":
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            _fail(name, source, value, "expected a non-empty path string")
        return Path(value).expanduser()
    items = _items(key, value, source, textual)
    if key.kind == "globs":
        for pattern in items:
            problem = glob_problem(pattern)
            if problem:
                _fail(name, source, pattern, f"bad project glob: {problem}")
        return tuple(dict.fromkeys(items))
    result = parse_resources(items)
    if isinstance(result, str):
        choices = (*KNOWN_RESOURCES, ALL_RESOURCES)
        _fail(
            name,
            source,
            result,
            f"unknown resource; allowed: {', '.join(choices)}{suggest(result, choices)}",
        )
    return result


def _coerce_number(key: Key, value: object, source: str, textual: bool) -> int | float:
    name, allowed = key.name, key.allowed()
    number: int | float
    if isinstance(value, bool):
        _fail(name, source, value, f"booleans are not numbers; expected {allowed}")
    if isinstance(value, str) and textual:
        try:
            number = int(value) if key.kind == "int" else float(value)
        except ValueError:
            what = "an integer" if key.kind == "int" else "a number"
            _fail(name, source, value, f"not {what}; expected {allowed}")
    elif isinstance(value, int) or (isinstance(value, float) and key.kind == "float"):
        number = value
    elif isinstance(value, str):
        _fail(name, source, value, f"a string where a number is expected (no quotes); {allowed}")
    else:
        what = "an integer" if key.kind == "int" else "a number"
        _fail(name, source, value, f"expected {what} in {allowed}")
    if key.kind == "float":
        number = float(number)
        if not math.isfinite(number):
            _fail(name, source, value, f"not a finite number; expected {allowed}")
    assert key.low is not None
    assert key.high is not None
    if not key.low <= number <= key.high:
        _fail(name, source, value, f"out of range; allowed {allowed}")
    return number


def _items(key: Key, value: object, source: str, textual: bool) -> list[str]:
    if isinstance(value, str) and textual:
        return _split(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        items = cast(Sequence[str], value)
        return [part for item in items for part in (_split(item) if textual else [item.strip()])]
    example = "['Web*', 'Platform']" if key.kind == "globs" else "['repositories', 'pipelines']"
    _fail(key.name, source, value, f"expected a list of strings, e.g. {example}")


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
        _fail("output", source, path, "is an existing directory; give a file path")
    parent = path.parent
    if not parent.is_dir():
        _fail("output", source, path, f"the directory {str(parent)!r} does not exist")


def _check_ca_bundle(path: Path, source: str) -> None:
    if not path.is_file():
        _fail("ca_bundle", source, path, "is not a file; give a PEM file of CA certificates")
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        _fail("ca_bundle", source, path, f"cannot be read ({exc.strerror})")
    if b"-----BEGIN CERTIFICATE-----" not in head:
        _fail("ca_bundle", source, path, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")


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
        values[name] = _coerce(KEYS_BY_NAME[name], raw, source, textual)
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
        _fail(
            "backoff_base_s",
            sources.get("backoff_base_s", "default"),
            settings.backoff_base_s,
            f"larger than backoff_max_s = {format_number(settings.backoff_max_s)}",
        )
    return settings


# -- argparse -----------------------------------------------------------------------------


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
