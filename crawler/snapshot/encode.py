"""How the snapshot stores an item: normalised (no ``_links``, no secrets), encoded to its
bytes, and its sort key (projects by id; everything else by project id, then id)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from crawler.protocol.resources import REGISTRY, keep_variable_flags, normalize

__all__ = ["Encoder", "SortKey", "encode_item", "encoder", "normalize_item", "sort_key"]

_DUMP = orjson.OPT_SORT_KEYS

SortKey = tuple[str | int, ...]


def normalize_item(resource: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as the snapshot stores it: ADO's fields minus ``_links`` and secrets.

    What each resource drops is declared in :mod:`crawler.protocol.resources`; for example build
    definition variables keep only their flags (``isSecret``, ``allowOverride``): even a
    non-secret value may hold something sensitive, and an inventory needs the names.
    """
    return normalize(resource, item)


Encoder = Callable[[Mapping[str, Any]], tuple[SortKey, bytes]]


def encode_item(resource: str, item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
    """The item's sort key and its snapshot bytes: ``orjson.dumps(normalize_item(...))``."""
    return encoder(resource)(item)


_ENCODERS: dict[str, Encoder] = {}


def encoder(resource: str) -> Encoder:
    """The function that encodes items of ``resource`` (built once per resource).

    Fast path, same bytes as ``orjson.dumps(normalize_item(...))``: ``_links`` at the top
    and in the fields the registry names (``links_in``: identity and queue references)
    are dropped from shallow copies, so no item is deep-copied. When the result still
    holds ``"_links"`` (deeper down, or just such a string), or the resource is not
    ``shallow`` (an allow-list of fields, a nested path), the full normalisation runs.
    """
    known = _ENCODERS.get(resource)
    if known is None:
        known = _ENCODERS[resource] = _build_encoder(resource)
    return known


def _build_encoder(resource: str) -> Encoder:
    entry = REGISTRY.get(resource)
    if entry is not None and not entry.shallow:  # an allow-list or a nested path

        def encode_slow(item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
            return _encode_slow(resource, item)

        return encode_slow
    drop = entry.drop if entry is not None else ()
    variables = entry.variables if entry is not None else ()
    links_in = entry.links_in if entry is not None else ()
    by_project = resource != "projects"
    dumps, option = orjson.dumps, _DUMP

    def encode(item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
        clean = dict(item)  # a C-level shallow copy; cheaper than filtering key by key
        clean.pop("_links", None)
        for name in drop:
            clean.pop(name, None)
        for name in links_in:
            ref = clean.get(name)
            if type(ref) is dict and "_links" in ref:
                ref = dict(ref)
                del ref["_links"]
                clean[name] = ref
        for name in variables:
            if name in clean:
                clean[name] = keep_variable_flags(clean[name])
        data: bytes = dumps(clean, option=option)
        if b'"_links"' in data:
            return _encode_slow(resource, item)
        item_id = clean.get("id")
        if type(item_id) is not int and type(item_id) is not str:
            item_id = str(item_id)
        if not by_project:
            return (item_id,), data
        project = clean.get("project")
        project_id = project.get("id") if type(project) is dict else None
        return (str(project_id or ""), item_id), data

    return encode


def _encode_slow(resource: str, item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
    clean = normalize_item(resource, item)
    return sort_key(resource, clean), orjson.dumps(clean, option=_DUMP)


def _id_part(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return str(value)
    return value


def sort_key(resource: str, item: Mapping[str, Any]) -> SortKey:
    """Stable position of an item: projects by id; everything else by (project id, id)."""
    item_id = _id_part(item.get("id"))
    if resource == "projects":
        return (item_id,)
    project = item.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    return (str(project_id or ""), item_id)
