"""Combine per-organization snapshots into one multi-organization file.

``merge_snapshots`` merges loaded documents (pure); ``merge_files`` merges files item by item
into the line layout (``crawler.snapshot.layout``), never holding more than one item per input.

The multi-organization shape (``crawler/snapshot/schema/multi.schema.json``)::

    {"schema_version": 1, "generator": {...}, "complete": <all organizations complete>,
     "resources": [<union, sorted>],
     "organizations": [{"name", "url", "generator", "started_at", "finished_at", "complete",
                        "auth", "resources", "stats", "errors"}, ...],      # sorted by name
     "projects": [{..., "organization": "<org name>"}, ...],               # every resource key
     ...}

Items are sorted by (organization, project.id, id); projects by (organization, id).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import NAME, __version__
from crawler.protocol.errors import UsageError
from crawler.snapshot.layout import write_layout
from crawler.snapshot.schema import SCHEMA_VERSION, is_multi

if TYPE_CHECKING:
    from crawler.snapshot.reader import SnapshotFile

ORG_FIELDS = (
    "generator",
    "started_at",
    "finished_at",
    "complete",
    "auth",
    "resources",
    "stats",
    "identity",  # who crawled (crawler.crawl.identity)
)
NOT_RESOURCES = frozenset({"errors", "resources", "organizations"})


def resource_keys(doc: Mapping[str, Any]) -> list[str]:
    """The resource keys present in a snapshot: its top-level arrays of items, sorted."""
    return sorted(k for k, v in doc.items() if isinstance(v, list) and k not in NOT_RESOURCES)


def id_key(value: object) -> tuple[int, int | float, str]:
    """A sort key for item ids that may be integers or strings."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def item_sort_key(item: Mapping[str, Any]) -> tuple[str, str, tuple[int, int | float, str]]:
    """(organization, project.id, id): the order of items in a multi-organization file."""
    project = item.get("project")
    project_id = str(project.get("id", "")) if isinstance(project, Mapping) else ""
    return (str(item.get("organization", "")), project_id, id_key(item.get("id")))


def as_multi(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A single-organization snapshot lifted into the multi-organization shape."""
    if is_multi(doc):
        return dict(doc)
    org = doc["organization"]
    name = str(org["name"])
    entry: dict[str, Any] = {"name": name, "url": org["url"]}
    entry.update({field: doc[field] for field in ORG_FIELDS if field in doc})
    entry["errors"] = list(doc.get("errors", []))
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": doc.get("generator", {"name": NAME, "version": __version__}),
        "complete": bool(doc.get("complete", False)),
        "resources": sorted(doc.get("resources", [])),
        "organizations": [entry],
    }
    for key in resource_keys(doc):
        out[key] = [{**item, "organization": name} for item in doc[key]]
    return out


def merge_snapshots(inputs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge (source name, snapshot) pairs into one multi-organization document.

    Raises UsageError when two inputs describe the same organization name.
    """
    seen: dict[str, str] = {}
    organizations: list[dict[str, Any]] = []
    items: dict[str, list[dict[str, Any]]] = {}
    for source, doc in inputs:
        multi = as_multi(doc)
        for org in multi["organizations"]:
            if org["name"] in seen:
                raise UsageError(
                    f"{source}: organization {org['name']!r} is already in {seen[org['name']]}"
                )
            seen[org["name"]] = source
            organizations.append(org)
        for key in resource_keys(multi):
            items.setdefault(key, []).extend(multi[key])
    organizations.sort(key=lambda org: (str(org["name"]), str(org["url"])))
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": NAME, "version": __version__},
        "complete": all(bool(org.get("complete")) for org in organizations),
        "resources": sorted(_union(org.get("resources", []) for org in organizations)),
        "organizations": organizations,
    }
    for key in sorted(items):
        out[key] = sorted(items[key], key=item_sort_key)
    return out


def _union(lists: Iterable[Iterable[str]]) -> set[str]:
    found: set[str] = set()
    for names in lists:
        found.update(names)
    return found


# ---------------------------------------------------------------- files, item by item


class _Unsorted(Exception):
    """An input's items are not in (organization, project.id, id) order."""


def _tagged(snapshot: SnapshotFile, key: str, name: str | None) -> Iterator[dict[str, Any]]:
    for item in snapshot.items(key):
        if name is not None:
            item["organization"] = name
        yield item


def _checked(items: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    previous: tuple[str, str, tuple[int, int | float, str]] | None = None
    for item in items:
        order = item_sort_key(item)
        if previous is not None and order < previous:
            raise _Unsorted
        previous = order
        yield item


def merge_files(inputs: Sequence[tuple[str, SnapshotFile]], output: Path) -> dict[str, Any]:
    """Merge snapshot files into one multi-organization file at ``output``, item by item.

    Each resource key is a k-way merge of the inputs' sorted streams (the order of
    :func:`merge_snapshots`); an input whose items are out of order is sorted in memory
    instead. Returns the header written (everything but the items).
    """
    seen: dict[str, str] = {}
    organizations: list[dict[str, Any]] = []
    streams: list[tuple[SnapshotFile, str | None]] = []
    for source, snapshot in inputs:
        lifted = as_multi(snapshot.shell())
        for org in lifted["organizations"]:
            if org["name"] in seen:
                raise UsageError(
                    f"{source}: organization {org['name']!r} is already in {seen[org['name']]}"
                )
            seen[org["name"]] = source
            organizations.append(org)
        single = None if snapshot.multi else str(lifted["organizations"][0]["name"])
        streams.append((snapshot, single))
    organizations.sort(key=lambda org: (str(org["name"]), str(org["url"])))
    header: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": NAME, "version": __version__},
        "complete": all(bool(org.get("complete")) for org in organizations),
        "resources": sorted(_union(org.get("resources", []) for org in organizations)),
        "organizations": organizations,
    }
    keys = sorted({key for snapshot, _ in streams for key in snapshot.resource_keys})
    in_memory: set[str] = set()

    def items(key: str) -> Callable[[], Iterable[dict[str, Any]]]:
        def merged() -> Iterable[dict[str, Any]]:
            parts = [_tagged(s, key, name) for s, name in streams if s.count(key)]
            if key in in_memory:
                return sorted((i for part in parts for i in part), key=item_sort_key)
            return heapq.merge(*(_checked(part) for part in parts), key=item_sort_key)

        return merged

    while True:
        try:
            write_layout(output, header, {key: items(key) for key in keys})
            return header
        except _Unsorted:
            in_memory.update(keys)  # rare (a file rewritten by another tool): sort in memory
