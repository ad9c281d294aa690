"""A small JSON Schema (draft 2020-12) validator for exactly the subset our snapshot schemas use.

Supported: boolean schemas, ``type``, ``properties``, ``required``, ``additionalProperties``,
``items``, ``enum``, ``const``, ``minimum``, ``pattern``, ``format: date-time``, ``$ref`` to
``#/$defs/...``, ``allOf``, ``anyOf``, ``oneOf``. Annotations (``title``, ``description``, ...) are
ignored; any other keyword is a programming error (``ValueError``), so a schema cannot silently
ask for more than this checks. Problems carry a JSON path such as ``$.repositories[3].id``.
``iter_file_problems`` checks a snapshot file one item at a time (see
:mod:`crawler.snapshot.reader`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.snapshot.reader import SnapshotFile

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "$comment"})
_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "minimum",
        "pattern",
        "format",
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
    }
)
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a document breaks its schema: where (a JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def json_type(value: object) -> str:
    """The JSON type name of a parsed JSON value (``integer`` for whole numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def json_equal(a: object, b: object) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` equals ``1.0``, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def is_date_time(text: str) -> bool:
    """True for an RFC 3339 date-time (``2026-11-28T01:02:03.456Z``)."""
    m = _DATE_TIME.match(text)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        dt.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    return second <= 60


def _type_matches(value: object, expected: str) -> bool:
    actual = json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    return actual == expected


def child_path(path: str, key: str | int) -> str:
    """Extend a JSON path by an object key or an array index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Validator:
    """Validates documents against one root schema (with its ``$defs``)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._root = schema

    def iter_problems(self, doc: object) -> Iterator[Problem]:
        """Every problem in ``doc``, in document order."""
        yield from self._check(self._root, doc, "$")

    def problems(self, doc: object, limit: int | None = None) -> list[Problem]:
        """The first ``limit`` problems (all when ``limit`` is None)."""
        out: list[Problem] = []
        for problem in self.iter_problems(doc):
            out.append(problem)
            if limit is not None and len(out) >= limit:
                break
        return out

    def is_valid(self, doc: object) -> bool:
        """True when ``doc`` has no problem."""
        return next(self.iter_problems(doc), None) is None

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref!r}: only '#/$defs/NAME'")
        name = ref.removeprefix("#/$defs/")
        try:
            return self._root["$defs"][name]
        except KeyError:
            raise ValueError(f"unknown $ref {ref!r}") from None

    def _check(self, schema: Any, value: object, path: str) -> Iterator[Problem]:
        if schema is True:
            return
        if schema is False:
            yield Problem(path, "not allowed")
            return
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise ValueError(f"unsupported schema keyword(s) {sorted(unknown)} at {path}")
        if "$ref" in schema:
            yield from self._check(self._resolve(schema["$ref"]), value, path)
        if "type" in schema:
            expected = schema["type"]
            names = [expected] if isinstance(expected, str) else list(expected)
            if not any(_type_matches(value, name) for name in names):
                got = json_type(value)
                yield Problem(path, f"expected {' or '.join(names)} (got {got})")
                return
        if "const" in schema and not json_equal(value, schema["const"]):
            yield Problem(path, f"expected {_show(schema['const'])} (got {_show(value)})")
        if "enum" in schema and not any(json_equal(value, opt) for opt in schema["enum"]):
            options = ", ".join(_show(opt) for opt in schema["enum"])
            yield Problem(path, f"expected one of {options} (got {_show(value)})")
        yield from self._check_scalar(schema, value, path)
        if isinstance(value, dict):
            yield from self._check_object(schema, value, path)
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                yield from self._check(schema["items"], item, child_path(path, index))
        yield from self._check_combinators(schema, value, path)

    def _check_scalar(
        self, schema: Mapping[str, Any], value: object, path: str
    ) -> Iterator[Problem]:
        if "minimum" in schema and json_type(value) in ("integer", "number"):
            assert isinstance(value, int | float)
            if value < schema["minimum"]:
                yield Problem(path, f"must be at least {schema['minimum']} (got {_show(value)})")
        if isinstance(value, str):
            if "pattern" in schema and not re.search(schema["pattern"], value):
                yield Problem(path, f"does not match {schema['pattern']!r} (got {_show(value)})")
            if schema.get("format") == "date-time" and not is_date_time(value):
                yield Problem(path, f"not an RFC 3339 date-time (got {_show(value)})")

    def _check_object(
        self, schema: Mapping[str, Any], value: dict[str, Any], path: str
    ) -> Iterator[Problem]:
        for name in schema.get("required", ()):
            if name not in value:
                yield Problem(path, f"missing required property {name!r}")
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                yield from self._check(properties[key], item, child_path(path, key))
            elif extra is False:
                yield Problem(child_path(path, key), "unexpected property")
            else:
                yield from self._check(extra, item, child_path(path, key))

    def _check_combinators(
        self, schema: Mapping[str, Any], value: object, path: str
    ) -> Iterator[Problem]:
        for sub in schema.get("allOf", ()):
            yield from self._check(sub, value, path)
        for keyword in ("anyOf", "oneOf"):
            if keyword not in schema:
                continue
            results = [self.problems_for(sub, value, path) for sub in schema[keyword]]
            matched = sum(1 for found in results if not found)
            if keyword == "oneOf" and matched > 1:
                yield Problem(
                    path, f"matches {matched} alternatives of oneOf, expected exactly one"
                )
            elif matched == 0:
                yield from _closest(results, path)

    def problems_for(self, schema: Any, value: object, path: str) -> list[Problem]:
        """All problems of ``value`` against a sub-schema of this validator's root."""
        return list(self._check(schema, value, path))


def _closest(results: list[list[Problem]], path: str) -> Iterator[Problem]:
    """Explain a failed anyOf/oneOf by the alternative whose type fitted, if exactly one did."""
    fitting = [
        found
        for found in results
        if not (found[0].path == path and found[0].message.startswith("expected "))
    ]
    if len(fitting) == 1:
        yield from fitting[0]
        return
    yield Problem(path, "does not match any allowed form")


# ---------------------------------------------------------------- a file, item by item

_STREAMABLE_ROOT = frozenset({"type", "required", "properties", "additionalProperties"})
_STREAMABLE_ARRAY = frozenset({"type", "items"})


def iter_file_problems(validator: Validator, snapshot: SnapshotFile) -> Iterator[Problem]:
    """Every problem of a snapshot file, in document order, reading one item at a time.

    Same problems, same order as ``validator.iter_problems(whole_document)``: the root's
    ``required`` first, then each top-level key in file order; an item array is checked
    item by item against its ``items`` schema. A schema this cannot split that way (a
    combinator at the root or on an array) gets the whole value, which is then loaded.
    """
    root = validator._root
    if set(root) - _ANNOTATIONS - _STREAMABLE_ROOT or root.get("type", "object") != "object":
        yield from validator.iter_problems(_load_all(snapshot))
        return
    keys = snapshot.top_keys()
    present = set(keys)
    for name in root.get("required", ()):
        if name not in present:
            yield Problem("$", f"missing required property {name!r}")
    properties: Mapping[str, Any] = root.get("properties", {})
    extra = root.get("additionalProperties", True)
    for key in keys:
        path = child_path("$", key)
        schema = properties.get(key, extra)
        if key not in properties and extra is False:
            yield Problem(path, "unexpected property")
        elif not snapshot.is_array(key):
            yield from validator.problems_for(schema, snapshot.header[key], path)
        elif isinstance(schema, Mapping) and not set(schema) - _ANNOTATIONS - _STREAMABLE_ARRAY:
            if "type" in schema:
                yield from validator.problems_for({"type": schema["type"]}, [], path)
            if "items" in schema:
                item_schema = schema["items"]
                for index, item in enumerate(snapshot.items(key)):
                    yield from validator.problems_for(item_schema, item, child_path(path, index))
        else:
            yield from validator.problems_for(schema, list(snapshot.items(key)), path)


def _load_all(snapshot: SnapshotFile) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key in snapshot.top_keys():
        doc[key] = list(snapshot.items(key)) if snapshot.is_array(key) else snapshot.header[key]
    return doc
