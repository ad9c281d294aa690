"""Compare two snapshots into a ``Diff`` of changes (rendered by
:mod:`crawler.downstream.diff_render`).

Items are matched by (resource, id), or (organization, resource, id) when either side is a
multi-organization file. ``started_at``, ``finished_at``, ``stats`` and ``generator`` are ignored.
Field changes use dotted paths (``repository.name``); lists compare as whole values.
``diff_snapshots`` compares loaded documents, ``diff_files`` two files read item by item; both
pair items with the merge-join of :mod:`crawler.downstream.diffjoin`. Unread is unknown: an item
whose
scope either snapshot lists in ``errors`` is not compared (never added or removed), and the
diff names those scopes (``not_compared``) with why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from crawler.downstream.diff_changes import (
    ABSENT,
    KINDS,
    Diff,
    ErrorChange,
    FieldChange,
    ItemChange,
    NotCompared,
    RunChange,
)
from crawler.downstream.diffjoin import ChangeKey, Source, join
from crawler.downstream.merge import as_multi, resource_keys
from crawler.snapshot.schema import is_multi
from crawler.snapshot.unread import scope_of
from crawler.snapshot.validate import json_equal

if TYPE_CHECKING:
    from crawler.snapshot.reader import SnapshotFile

__all__ = ["diff_fields", "diff_files", "diff_snapshots", "flatten", "not_compared"]

RUN_FIELDS = ("url", "name", "complete", "auth.kind", "resources")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as {dotted.path: leaf}; lists and empty objects are leaves."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The fields that differ between two versions of one item, sorted by path."""
    a = flatten({k: v for k, v in old.items() if k != "organization"})
    b = flatten({k: v for k, v in new.items() if k != "organization"})
    changes = []
    for path in sorted(a.keys() | b.keys()):
        before, after = a.get(path, ABSENT), b.get(path, ABSENT)
        if before is ABSENT or after is ABSENT or not json_equal(before, after):
            changes.append(FieldChange(path, before, after))
    return tuple(changes)


def _project_name(item: Mapping[str, Any]) -> str | None:
    project = item.get("project")
    return str(project.get("name")) if isinstance(project, Mapping) else None


def _name(item: Mapping[str, Any]) -> str | None:
    name = item.get("name")
    return None if name is None else str(name)


def _item_change(key: ChangeKey, old: Any, new: Any, keep_org: bool) -> ItemChange | None:
    org, resource = (key[0] if keep_org else None), key[1]
    ident = orjson.loads(key[3])
    if old is None or new is None:
        item = new if old is None else old
        kind = "added" if old is None else "removed"
        return ItemChange(kind, resource, ident, _name(item), org, _project_name(item))
    changes = diff_fields(old, new)
    if not changes:
        return None
    renamed = _name(old) != _name(new)
    return ItemChange(
        "renamed" if renamed else "changed",
        resource,
        ident,
        _name(new),
        org,
        _project_name(new),
        _name(old) if renamed else None,
        changes,
    )


def _run_facts(org: Mapping[str, Any]) -> dict[str, Any]:
    auth = org.get("auth")
    return {
        "url": org.get("url"),
        "name": org.get("name"),
        "complete": org.get("complete"),
        "auth.kind": auth.get("kind") if isinstance(auth, Mapping) else None,
        "resources": sorted(org.get("resources", [])),
    }


def _error_counter(org: Mapping[str, Any]) -> Counter[bytes]:
    return Counter(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) for e in org.get("errors", []))


def _org_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], keep_org: bool
) -> Iterator[RunChange | ErrorChange]:
    label = str(new.get("name")) if keep_org else None
    a, b = _run_facts(old), _run_facts(new)
    for name in RUN_FIELDS:
        if keep_org and name == "name":
            continue
        if not json_equal(a[name], b[name]):
            yield RunChange(label, name, a[name], b[name])
    before, after = _error_counter(old), _error_counter(new)
    for raw in sorted((before - after).elements()):
        yield ErrorChange("removed", label, orjson.loads(raw))
    for raw in sorted((after - before).elements()):
        yield ErrorChange("added", label, orjson.loads(raw))


def _doc_source(doc: Mapping[str, Any], keep_org: bool) -> tuple[Source, Mapping[str, Any]]:
    multi = as_multi(doc)
    orgs = {str(o["name"]) if keep_org else "": o for o in multi["organizations"]}
    source = Source(orgs, resource_keys(multi), lambda key: multi.get(key, ()), keep_org)
    return source, multi


def _file_source(snapshot: SnapshotFile, keep_org: bool) -> tuple[Source, Mapping[str, Any]]:
    multi = as_multi(snapshot.shell())
    orgs = {str(o["name"]) if keep_org else "": o for o in multi["organizations"]}
    name = None if snapshot.multi or not keep_org else str(multi["organizations"][0]["name"])

    def items(key: str) -> Iterator[dict[str, Any]]:
        for item in snapshot.items(key):
            if name is not None:
                item["organization"] = name
            yield item

    return Source(orgs, snapshot.resource_keys, items, keep_org), multi


def diff_snapshots(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> Diff:
    """Diff two loaded snapshots (single- or multi-organization, in any combination)."""
    keep_org = is_multi(old_doc) or is_multi(new_doc)
    (old, old_multi), (new, new_multi) = (
        _doc_source(old_doc, keep_org),
        _doc_source(new_doc, keep_org),
    )
    return _compare(old, new, old_multi, new_multi, keep_org)


def diff_files(old_file: SnapshotFile, new_file: SnapshotFile) -> Diff:
    """Diff two snapshot files read item by item (one resource at a time from each)."""
    keep_org = old_file.multi or new_file.multi
    (old, old_multi), (new, new_multi) = (
        _file_source(old_file, keep_org),
        _file_source(new_file, keep_org),
    )
    return _compare(old, new, old_multi, new_multi, keep_org)


def _compare(
    old: Source,
    new: Source,
    old_multi: Mapping[str, Any],
    new_multi: Mapping[str, Any],
    keep_org: bool,
) -> Diff:
    found: list[tuple[ChangeKey, ItemChange]] = []
    for resource in sorted(set(old.resource_keys) | set(new.resource_keys)):
        found.extend(join(old, new, resource, lambda key, a, b: _item_change(key, a, b, keep_org)))
    found.sort(key=lambda pair: pair[0])
    changes = [change for _, change in found]
    old_orgs = {str(o["name"]): o for o in old_multi["organizations"]}
    new_orgs = {str(o["name"]): o for o in new_multi["organizations"]}
    if not keep_org:
        old_orgs = {"": old_multi["organizations"][0]}
        new_orgs = {"": new_multi["organizations"][0]}
    run: list[RunChange] = []
    errors: list[ErrorChange] = []
    for name in sorted(old_orgs.keys() & new_orgs.keys()):
        for found_change in _org_changes(old_orgs[name], new_orgs[name], keep_org):
            if isinstance(found_change, RunChange):
                run.append(found_change)
            else:
                errors.append(found_change)
    counts = Counter(change.kind for change in changes)
    summary = {kind: counts.get(kind, 0) for kind in KINDS}
    summary["errors_added"] = sum(1 for e in errors if e.kind == "added")
    summary["errors_removed"] = sum(1 for e in errors if e.kind == "removed")
    unread = not_compared(old_orgs, new_orgs, keep_org)
    if unread:
        summary["not_compared"] = len(unread)
    return Diff(
        items=tuple(changes),
        run=tuple(run),
        errors=tuple(errors),
        organizations_added=tuple(sorted(new_orgs.keys() - old_orgs.keys())),
        organizations_removed=tuple(sorted(old_orgs.keys() - new_orgs.keys())),
        multi=keep_org,
        summary=summary,
        not_compared=unread,
    )


def _why(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("status", "code", "message")}


def not_compared(
    old_orgs: Mapping[str, Mapping[str, Any]],
    new_orgs: Mapping[str, Mapping[str, Any]],
    keep_org: bool,
) -> tuple[NotCompared, ...]:
    """Every scope either side lists in ``errors`` (once, with both sides' reasons)."""
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for side, orgs in (("old", old_orgs), ("new", new_orgs)):
        for label, org in orgs.items():
            for entry in org.get("errors", []):
                scope = scope_of(entry)
                key = (label, scope.resource, scope.project_id or "", scope.item_id or "")
                slot = found.setdefault(
                    key,
                    {
                        "organization": label if keep_org else None,
                        "resource": scope.resource,
                        "project": entry.get("project") or None,
                        "item": entry.get("item") or None,
                        "old": None,
                        "new": None,
                    },
                )
                if slot[side] is None:
                    slot[side] = _why(entry)
    return tuple(NotCompared(**found[key]) for key in sorted(found, key=_scope_order(found)))


def _scope_order(
    found: Mapping[tuple[str, str, str, str], Mapping[str, Any]],
) -> Any:
    def order(key: tuple[str, str, str, str]) -> tuple[str, ...]:
        project = found[key]["project"] or {}
        return (key[0], key[1], str(project.get("name", "")), key[2], key[3])

    return order
