"""Pairing the items of two snapshots for ``diff``: a merge-join of two sorted streams.

Both sides give their items one resource key at a time, in the order the snapshot stores
them: (organization, project id, id). The join walks both streams together and hands each
pair (old, new), each item only in the old side, and each only in the new side to a
``compare`` function, so that only the results (the changes) are held, never the items. An
item with a string id (a GUID: repositories) that moved to another project shows up on both
sides unmatched; those are paired by id at the end of the resource (their full items read
again by position), as a change of ``project``. Integer ids are not paired across projects:
ADO numbers release definitions, policies and more per project, so the same number in two
projects names two objects (and a shared service endpoint is one item per project). A side
whose items are not in that order (a file another tool rewrote) is compared for that
resource in memory instead: the same result, more memory.

An item whose scope one side could not read (``crawler.snapshot.unread``: the resource in its
project, or the item itself, listed in ``errors``) is *not compared*: never added, removed
or changed. Which scopes those are is the caller's to say (from the ``errors`` themselves).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from crawler.downstream.merge import id_key
from crawler.snapshot.unread import Unread

Item = Mapping[str, Any]
T = TypeVar("T")
# (organization, resource, id order, id as JSON, project id): the order of a diff's changes
ChangeKey = tuple[str, str, tuple[int, int | float, str], bytes, str]
_Order = tuple[str, str, tuple[int, int | float, str], bytes]  # a stream's own order


@dataclass(slots=True)
class Source:
    """One side of a diff: its organizations (by label) and its items per resource key.

    ``items(key)`` may be called more than once (a file is read again). Each item names its
    ``organization`` when the diff keeps organizations apart (``label`` then reads it).
    """

    orgs: Mapping[str, Mapping[str, Any]]
    resource_keys: Sequence[str]
    items: Callable[[str], Iterable[Item]]
    keep_org: bool
    _unread: dict[str, tuple[Unread, frozenset[str] | None]] = field(default_factory=dict)

    def label(self, item: Item) -> str:
        """The organization an item belongs to, as the diff names it ('' for one each)."""
        return str(item.get("organization") or "") if self.keep_org else ""

    def unread(self, label: str) -> tuple[Unread, frozenset[str] | None]:
        """The organization's unread scopes and, when its projects listing was cut short,
        the project ids it did list."""
        known = self._unread.get(label)
        if known is None:
            org = self.orgs.get(label)
            unread = Unread.from_errors(org.get("errors", []) if org is not None else [])
            listed = None
            if unread.projects_cut_short:
                listed = frozenset(
                    str(p.get("id"))
                    for p in self.items("projects")
                    if self.label(p) == label and p.get("id") is not None
                )
            known = self._unread[label] = (unread, listed)
        return known

    def covers(self, resource: str, label: str, item: Item) -> bool:
        """True when this side says the item's scope was not read."""
        unread, listed = self.unread(label)
        if not unread:
            return False
        if resource == "projects":
            return unread.covers(resource, listed_projects=listed)
        project_id, _ = _project(item)
        item_id = item.get("id")
        return unread.covers(
            resource,
            project_id or None,
            None if item_id is None else str(item_id),
            listed_projects=listed,
        )


def _project(item: Item) -> tuple[str, str | None]:
    project = item.get("project")
    if isinstance(project, Mapping):
        name = project.get("name")
        return str(project.get("id", "")), None if name is None else str(name)
    return "", None


def identity(item: Item) -> Any:
    """What identifies an item within its resource: ``id``, else ``name``."""
    return item.get("id", item.get("name"))


def _not_compared(old: Source, new: Source, resource: str, label: str, item: Item) -> bool:
    return old.covers(resource, label, item) or new.covers(resource, label, item)


class _Unsorted(Exception):
    """A stream is not in (organization, project id, id) order."""


@dataclass(slots=True)
class _Entry:
    order: _Order
    position: int
    item: Item


def _stream(old: Source, new: Source, side: Source, resource: str) -> Iterator[_Entry]:
    """The side's items of ``resource`` in order, those either side did not read left out,
    one per key (the last of equal keys, as a loaded comparison keeps); _Unsorted otherwise."""
    previous: _Entry | None = None
    for position, item in enumerate(side.items(resource)):
        label = side.label(item)
        if _not_compared(old, new, resource, label, item):
            continue
        ident = identity(item)
        order = (label, _project(item)[0], id_key(ident), orjson.dumps(ident))
        entry = _Entry(order, position, item)
        if previous is not None:
            if order < previous.order:
                raise _Unsorted
            if order == previous.order:
                previous = entry
                continue
            yield previous
        previous = entry
    if previous is not None:
        yield previous


def _slim(item: Item) -> dict[str, Any]:
    """What a change needs of an item that is only on one side (name and project)."""
    out: dict[str, Any] = {"id": item.get("id"), "name": item.get("name")}
    if "id" not in item:
        del out["id"]
    if isinstance(item.get("project"), Mapping):
        project = item["project"]
        out["project"] = {"id": project.get("id"), "name": project.get("name")}
    return out


@dataclass(slots=True)
class _Leftover:
    key: ChangeKey
    position: int
    slim: dict[str, Any]


def join(
    old: Source,
    new: Source,
    resource: str,
    compare: Callable[[ChangeKey, Item | None, Item | None], T | None],
) -> list[tuple[ChangeKey, T]]:
    """The changes of one resource key, unsorted (items of an unread scope left out)."""
    try:
        return _merge_join(old, new, resource, compare)
    except _Unsorted:
        return _in_memory(old, new, resource, compare)


def _change_key(resource: str, order: _Order) -> ChangeKey:
    label, project_id, ident_order, ident = order
    return (label, resource, ident_order, ident, project_id)


def _merge_join(
    old: Source,
    new: Source,
    resource: str,
    compare: Callable[[ChangeKey, Item | None, Item | None], T | None],
) -> list[tuple[ChangeKey, T]]:
    found: list[tuple[ChangeKey, T]] = []
    removed: list[_Leftover] = []
    added: list[_Leftover] = []
    a_iter, b_iter = _stream(old, new, old, resource), _stream(old, new, new, resource)
    a, b = next(a_iter, None), next(b_iter, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.order < b.order):
            assert a is not None
            removed.append(_Leftover(_change_key(resource, a.order), a.position, _slim(a.item)))
            a = next(a_iter, None)
        elif a is None or b.order < a.order:
            added.append(_Leftover(_change_key(resource, b.order), b.position, _slim(b.item)))
            b = next(b_iter, None)
        else:
            key = _change_key(resource, a.order)
            change = compare(key, a.item, b.item)
            if change is not None:
                found.append((key, change))
            a, b = next(a_iter, None), next(b_iter, None)
    found.extend(_pair_moves(old, new, resource, removed, added, compare))
    return found


def _pair_moves(
    old: Source,
    new: Source,
    resource: str,
    removed: list[_Leftover],
    added: list[_Leftover],
    compare: Callable[[ChangeKey, Item | None, Item | None], T | None],
) -> Iterator[tuple[ChangeKey, T]]:
    """Removed and added items with one (organization, id): moved between projects."""
    by_id: dict[tuple[Any, ...], list[_Leftover]] = {}
    for leftover in added:
        if leftover.key[2][0] == 1:  # a string id
            by_id.setdefault(leftover.key[:4], []).append(leftover)
    moves: list[tuple[_Leftover, _Leftover]] = []
    for leftover in removed:
        candidates = by_id.get(leftover.key[:4])
        if candidates:
            moves.append((leftover, candidates.pop(0)))
        else:
            change = compare(leftover.key, leftover.slim, None)
            if change is not None:
                yield leftover.key, change
    moved_in = {id(pair[1]) for pair in moves}
    for leftover in added:
        if id(leftover) not in moved_in:
            change = compare(leftover.key, None, leftover.slim)
            if change is not None:
                yield leftover.key, change
    if not moves:
        return
    olds = _at(old, resource, {pair[0].position for pair in moves})
    news = _at(new, resource, {pair[1].position for pair in moves})
    for before, after in moves:
        key = after.key
        change = compare(key, olds[before.position], news[after.position])
        if change is not None:
            yield key, change


def _at(source: Source, resource: str, positions: set[int]) -> dict[int, Item]:
    return {n: item for n, item in enumerate(source.items(resource)) if n in positions}


def _in_memory(
    old: Source,
    new: Source,
    resource: str,
    compare: Callable[[ChangeKey, Item | None, Item | None], T | None],
) -> list[tuple[ChangeKey, T]]:
    """The comparison of one resource with both sides loaded (for unsorted streams)."""
    sides: list[dict[tuple[Any, ...], tuple[ChangeKey, Item]]] = []
    for source in (old, new):
        held: dict[tuple[Any, ...], tuple[ChangeKey, Item]] = {}
        for item in source.items(resource):
            label = source.label(item)
            if _not_compared(old, new, resource, label, item):
                continue
            ident = identity(item)
            order = (label, _project(item)[0], id_key(ident), orjson.dumps(ident))
            project = order[1] if order[2][0] == 0 else ""  # integer ids: per project
            held[order[0], order[2], order[3], project] = (_change_key(resource, order), item)
        sides.append(held)
    before, after = sides
    found: list[tuple[ChangeKey, T]] = []
    for match in before.keys() | after.keys():
        a, b = before.get(match), after.get(match)
        key = b[0] if b is not None else a[0] if a is not None else None
        assert key is not None
        change = compare(key, a[1] if a else None, b[1] if b else None)
        if change is not None:
            found.append((key, change))
    return found
