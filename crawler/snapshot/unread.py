"""What a snapshot could not read, as a predicate: "unread is unknown", never "absent".

``diff``, ``report`` and ``audit`` all ask the same question of an item or a scope: was it
read in full, or does an ``errors`` entry of the snapshot say it was not? An unread scope is
neither added nor removed, neither a finding nor a pass: it is *not compared* or *not
assessed*. The rule lives here once; it is pure (no I/O) and works on ``errors`` entries as
the snapshot stores them (``{resource, project: {id, name} | null, item: {id, name} | null,
status, code, message}``).

How an entry widens into a scope:

- ``project`` and ``item`` set: that one item of that resource (a probed repository, one
  repository's activity).
- ``project`` set, ``item`` null: the resource in that project (a listing that failed).
- ``project`` null: the resource in the whole organization (release host not discovered,
  a route the server lacks). For ``projects`` itself this means the projects listing was cut
  short, so every project-scoped resource of a project absent from the listing is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Scope:
    """One unread scope: a resource in a project (or the organization), maybe one item."""

    resource: str
    project_id: str | None = None
    project_name: str | None = None
    item_id: str | None = None
    code: str | None = None
    message: str = ""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def scope_of(entry: Mapping[str, Any]) -> Scope:
    """The scope one ``errors`` entry covers."""
    project = entry.get("project")
    item = entry.get("item")
    return Scope(
        resource=str(entry.get("resource", "")),
        project_id=_text(project.get("id")) if isinstance(project, Mapping) else None,
        project_name=_text(project.get("name")) if isinstance(project, Mapping) else None,
        item_id=_text(item.get("id")) if isinstance(item, Mapping) else None,
        code=_text(entry.get("code")),
        message=str(entry.get("message") or ""),
    )


@dataclass(frozen=True, slots=True)
class Unread:
    """The unread scopes of one organization's snapshot, indexed for ``covers``."""

    scopes: tuple[Scope, ...] = ()
    _org_wide: frozenset[str] = field(default=frozenset(), repr=False)
    _projects: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False)
    _items: frozenset[tuple[str, str, str]] = field(default=frozenset(), repr=False)
    projects_cut_short: bool = False

    @classmethod
    def from_errors(cls, errors: Iterable[Mapping[str, Any]]) -> Unread:
        """Index the ``errors`` array of one organization."""
        scopes = tuple(scope_of(entry) for entry in errors)
        org_wide = set()
        projects = set()
        items = set()
        cut_short = False
        for scope in scopes:
            if scope.project_id is None:
                if scope.resource == "projects":
                    cut_short = True
                else:
                    org_wide.add(scope.resource)
            elif scope.item_id is None:
                projects.add((scope.resource, scope.project_id))
            else:
                items.add((scope.resource, scope.project_id, scope.item_id))
        return cls(scopes, frozenset(org_wide), frozenset(projects), frozenset(items), cut_short)

    def covers(
        self,
        resource: str,
        project_id: str | None = None,
        item_id: str | None = None,
        *,
        listed_projects: frozenset[str] | None = None,
    ) -> bool:
        """True when the snapshot says this resource (in this project, this item) was not read.

        ``listed_projects`` (the project ids the snapshot holds) matters only when the
        projects listing was cut short: a project absent from it is unknown, not gone.
        """
        if resource in self._org_wide:
            return True
        if project_id is None:
            return resource == "projects" and self.projects_cut_short
        if (resource, project_id) in self._projects:
            return True
        if item_id is not None and (resource, project_id, item_id) in self._items:
            return True
        return (
            self.projects_cut_short
            and listed_projects is not None
            and project_id not in listed_projects
        )

    def __bool__(self) -> bool:
        return bool(self.scopes)
