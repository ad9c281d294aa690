"""One setting's raw value (TOML, environment or flag) coerced to its ``Settings`` type, or a
:class:`~crawler.protocol.errors.UsageError` naming the key, the source, the value and what is
allowed."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, cast

from crawler.protocol.errors import UsageError
from crawler.protocol.resources import REGISTRY
from crawler.settings.orgurl import OrgUrl, parse_org_url
from crawler.settings.table import ALL_RESOURCES, KNOWN_RESOURCES, Key

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def fail(key: str, source: str, value: object, problem: str) -> NoReturn:
    """Refuse ``value`` of ``key`` from ``source``, saying what the ``problem`` is."""
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


def coerce(key: Key, value: object, source: str, textual: bool) -> object:
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
            fail(name, source, value, "expected a URL string")
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
        fail(name, source, value, "expected true or false (1/0, yes/no also work in env)")
    if key.kind == "choice":
        if isinstance(value, str):
            folded = value.strip().lower()
            if folded in key.choices:
                return folded
        fail(name, source, value, f"expected {key.allowed()}{suggest(str(value), key.choices)}")
    if key.kind == "path":
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            fail(name, source, value, "expected a non-empty path string")
        return Path(value).expanduser()
    items = _items(key, value, source, textual)
    if key.kind == "globs":
        for pattern in items:
            problem = glob_problem(pattern)
            if problem:
                fail(name, source, pattern, f"bad project glob: {problem}")
        return tuple(dict.fromkeys(items))
    result = parse_resources(items)
    if isinstance(result, str):
        choices = (*KNOWN_RESOURCES, ALL_RESOURCES)
        fail(
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
        fail(name, source, value, f"booleans are not numbers; expected {allowed}")
    if isinstance(value, str) and textual:
        try:
            number = int(value) if key.kind == "int" else float(value)
        except ValueError:
            what = "an integer" if key.kind == "int" else "a number"
            fail(name, source, value, f"not {what}; expected {allowed}")
    elif isinstance(value, int) or (isinstance(value, float) and key.kind == "float"):
        number = value
    elif isinstance(value, str):
        fail(name, source, value, f"a string where a number is expected (no quotes); {allowed}")
    else:
        what = "an integer" if key.kind == "int" else "a number"
        fail(name, source, value, f"expected {what} in {allowed}")
    if key.kind == "float":
        number = float(number)
        if not math.isfinite(number):
            fail(name, source, value, f"not a finite number; expected {allowed}")
    assert key.low is not None
    assert key.high is not None
    if not key.low <= number <= key.high:
        fail(name, source, value, f"out of range; allowed {allowed}")
    return number


def _items(key: Key, value: object, source: str, textual: bool) -> list[str]:
    if isinstance(value, str) and textual:
        return _split(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        items = cast(Sequence[str], value)
        return [part for item in items for part in (_split(item) if textual else [item.strip()])]
    example = "['Web*', 'Platform']" if key.kind == "globs" else "['repositories', 'pipelines']"
    fail(key.name, source, value, f"expected a list of strings, e.g. {example}")
