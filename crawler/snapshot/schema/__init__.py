"""The snapshot's JSON Schemas (single- and multi-organization), and reading snapshot files.

``load_snapshot`` is the one place that turns a path into a snapshot dict: it refuses files that
are not JSON, not an object, or of a ``schema_version`` this version cannot read (UsageError).
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from crawler.protocol.errors import UsageError

SCHEMA_VERSION = 1
SINGLE_SCHEMA = "snapshot.schema.json"
MULTI_SCHEMA = "multi.schema.json"


@functools.cache
def _load(name: str) -> dict[str, Any]:
    text = importlib.resources.files(__name__).joinpath(name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def snapshot_schema() -> dict[str, Any]:
    """The JSON Schema of a single-organization snapshot (shared, do not mutate)."""
    return _load(SINGLE_SCHEMA)


def multi_schema() -> dict[str, Any]:
    """The JSON Schema of a multi-organization file written by ``merge`` (do not mutate)."""
    return _load(MULTI_SCHEMA)


def is_multi(doc: Mapping[str, Any]) -> bool:
    """True when ``doc`` is a multi-organization file (it has ``organizations``)."""
    return "organizations" in doc and "organization" not in doc


def schema_for(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The schema that applies to ``doc``: multi-organization or single."""
    return multi_schema() if is_multi(doc) else snapshot_schema()


def parse_snapshot(data: bytes, source: str) -> dict[str, Any]:
    """Parse snapshot bytes; UsageError naming ``source`` unless it is a v1 JSON object."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{source}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: not a snapshot (a JSON {type(doc).__name__}, not an object)")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        shown = "missing" if version is None else repr(version)
        raise UsageError(
            f"{source}: schema_version {shown} is not supported "
            f"(this ado-inventory reads schema_version {SCHEMA_VERSION})"
        )
    return doc


def load_snapshot(path: str | Path) -> dict[str, Any]:
    """Read and parse a snapshot file (single- or multi-organization)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_snapshot(data, str(path))
