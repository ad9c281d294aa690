"""A normalized, read-only view of a snapshot for reports: organizations, projects and items.

Single-organization snapshots are lifted to the multi-organization shape first, so every
report handles both kinds of file with one code path. ``open_inventory`` builds the same view
over a file on disk: each ``of(resource)`` is then a stream that reads that resource's items
again from disk every time it is iterated (see :mod:`crawler.snapshot.reader`), so a report holds
the
header and what it computes, never the whole snapshot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.downstream.merge import as_multi, resource_keys
from crawler.snapshot.schema import is_multi

if TYPE_CHECKING:
    from crawler.snapshot.reader import SnapshotFile

Item = Mapping[str, Any]
STALE_DAYS = 365  # "not run / not released for N days", relative to the snapshot's finished_at


@dataclass(frozen=True, slots=True)
class Org:
    """One organization's run facts."""

    name: str
    url: str
    complete: bool
    auth_kind: str
    started_at: str
    finished_at: str
    resources: tuple[str, ...]
    errors: tuple[Mapping[str, Any], ...]
    identity: Mapping[str, Any] | None = None  # who crawled (crawler.crawl.identity), when recorded


@dataclass(frozen=True, slots=True)
class Inventory:
    """Organizations and their items (each item names its ``organization``)."""

    multi: bool
    orgs: tuple[Org, ...]
    items: Mapping[str, Collection[Item]]
    stale_days: int = STALE_DAYS  # pipelines/releases idle this long are findings

    def of(self, resource: str) -> Collection[Item]:
        """The items of one resource key (empty when the file has none); iterate it as often
        as needed (from a file, each pass reads the items again)."""
        return self.items.get(resource, ())

    @property
    def complete(self) -> bool:
        """True when every organization is complete."""
        return all(org.complete for org in self.orgs)

    def org(self, name: str) -> Org:
        """The organization called ``name``."""
        return next(org for org in self.orgs if org.name == name)


class ItemStream(Collection[Item]):
    """The items of one resource key of a snapshot file, read from disk at each iteration.

    Items of a single-organization file get their ``organization`` named, as ``as_multi``
    does for a loaded one.
    """

    __slots__ = ("_key", "_organization", "_snapshot")

    def __init__(self, snapshot: SnapshotFile, key: str, organization: str | None) -> None:
        self._snapshot = snapshot
        self._key = key
        self._organization = organization

    def __iter__(self) -> Iterator[Item]:
        organization = self._organization
        for item in self._snapshot.items(self._key):
            if organization is not None:
                item["organization"] = organization
            yield item

    def __len__(self) -> int:
        return self._snapshot.count(self._key)

    def __contains__(self, value: object) -> bool:
        return any(item == value for item in self)


def _orgs(multi: Mapping[str, Any]) -> tuple[Org, ...]:
    return tuple(
        Org(
            name=str(o["name"]),
            url=str(o.get("url", "")),
            complete=bool(o.get("complete", False)),
            auth_kind=str((o.get("auth") or {}).get("kind", "")),
            started_at=str(o.get("started_at", "")),
            finished_at=str(o.get("finished_at", "")),
            resources=tuple(sorted(o.get("resources", []))),
            errors=tuple(o.get("errors", [])),
            identity=o.get("identity") if isinstance(o.get("identity"), Mapping) else None,
        )
        for o in multi["organizations"]
    )


def build_inventory(doc: Mapping[str, Any], *, stale_days: int = STALE_DAYS) -> Inventory:
    """The report view of a loaded snapshot (single- or multi-organization)."""
    multi = as_multi(doc)
    items = {key: tuple(multi[key]) for key in resource_keys(multi)}
    return Inventory(multi=is_multi(doc), orgs=_orgs(multi), items=items, stale_days=stale_days)


def open_inventory(snapshot: SnapshotFile, *, stale_days: int = STALE_DAYS) -> Inventory:
    """The report view of a snapshot file, its items streamed from disk (see ItemStream)."""
    multi = as_multi(snapshot.shell())
    single = None if snapshot.multi else str(multi["organizations"][0]["name"])
    items = {key: ItemStream(snapshot, key, single) for key in snapshot.resource_keys}
    return Inventory(multi=snapshot.multi, orgs=_orgs(multi), items=items, stale_days=stale_days)


def text(value: Any) -> str:
    """A field value as display text ('' for missing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def project_of(item: Item) -> tuple[str, str]:
    """(project id, project name) of an item, or ('', '')."""
    project = item.get("project")
    if isinstance(project, Mapping):
        return text(project.get("id")), text(project.get("name"))
    return "", ""


def is_empty_repository(repo: Item) -> bool:
    """An empty git repository: no default branch, or size 0."""
    return "defaultBranch" not in repo or repo.get("size") == 0


def pipeline_kind(pipeline: Item) -> str:
    """'yaml', 'classic' or '' from ``process.type`` (2 yaml, 1 classic)."""
    process = pipeline.get("process")
    kind = process.get("type") if isinstance(process, Mapping) else None
    return {1: "classic", 2: "yaml"}.get(kind, "") if isinstance(kind, int) else ""


def pipeline_repository(pipeline: Item) -> Mapping[str, Any]:
    """The ``repository`` object of a pipeline (empty when ADO gave none)."""
    repo = pipeline.get("repository")
    return repo if isinstance(repo, Mapping) else {}


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """One project's line in the per-project table."""

    organization: str
    id: str
    name: str
    state: str
    visibility: str
    repositories: int
    pipelines: int
    errors: int


def project_rows(inv: Inventory) -> list[ProjectRow]:
    """Per-project counts; projects known only from items or errors are included too."""
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for project in inv.of("projects"):
        key = (text(project.get("organization")), text(project.get("id")))
        names[key] = (
            text(project.get("name")),
            text(project.get("state")),
            text(project.get("visibility")),
        )
    counts: dict[tuple[str, str], list[int]] = {key: [0, 0, 0] for key in names}
    for column, resource in enumerate(("repositories", "pipelines")):
        for item in inv.of(resource):
            project_id, project_name = project_of(item)
            key = (text(item.get("organization")), project_id)
            names.setdefault(key, (project_name, "", ""))
            counts.setdefault(key, [0, 0, 0])[column] += 1
    for org in inv.orgs:
        for error in org.errors:
            ref = error.get("project")
            if not isinstance(ref, Mapping):
                continue
            key = (org.name, text(ref.get("id")))
            names.setdefault(key, (text(ref.get("name")), "", ""))
            counts.setdefault(key, [0, 0, 0])[2] += 1
    rows = [ProjectRow(org, pid, *names[(org, pid)], *counts[(org, pid)]) for org, pid in names]
    return sorted(rows, key=lambda r: (r.organization, r.name.casefold(), r.name, r.id))
