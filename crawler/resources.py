"""The declarative registry of Azure DevOps resources the crawler can inventory.

Each resource is one ``Resource`` entry: where it lives (host, path, scope), how it pages,
which query it needs, and which fields the snapshot must never keep. The crawl walks the
registry; adding a resource is an entry here plus an emulator generator and tests.
Paths and paging per docs: learn.microsoft.com/rest/api/azure/devops (7.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = Literal["org", "project", "repository"]
Host = Literal["org", "vsrm"]
JsonObject = dict[str, Any]
QueryValue = str | int | bool


def strip_links(value: Any) -> Any:
    """A copy of ``value`` without any ``_links`` key, at any depth."""
    if isinstance(value, dict):
        return {k: strip_links(v) for k, v in value.items() if k != "_links"}
    if isinstance(value, list):
        return [strip_links(v) for v in value]
    return value


def drop_path(item: JsonObject, dotted: str) -> None:
    """Remove the field at ``a.b.c`` from ``item`` in place (through lists too)."""
    head, _, rest = dotted.partition(".")
    if not rest:
        item.pop(head, None)
        return
    child = item.get(head)
    children = child if isinstance(child, list) else [child]
    for entry in children:
        if isinstance(entry, dict):
            drop_path(entry, rest)


def keep_variable_flags(variables: Any) -> Any:
    """Variables reduced to their names and flags: no value is ever kept, secret or not."""
    if not isinstance(variables, dict):
        return variables
    return {
        name: {k: v for k, v in spec.items() if k in ("isSecret", "allowOverride", "isReadOnly")}
        if isinstance(spec, dict)
        else {}
        for name, spec in variables.items()
    }


@dataclass(frozen=True, slots=True)
class Resource:
    """One ADO resource the crawler lists, and how its items are stored."""

    key: str  # snapshot key and --resources name
    path: tuple[str, ...]  # path below the org (or below the project for project scope)
    scope: Scope = "project"
    host: Host = "org"
    paged: bool = True  # sends $top and follows x-ms-continuationtoken
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # dotted fields never stored (secrets, bulk)
    variables: tuple[str, ...] = ()  # dotted fields holding {name: {value, isSecret}} maps
    default: bool = True  # part of the cheap default set
    description: str = ""

    def normalize(self, item: Mapping[str, Any]) -> JsonObject:
        """The item as the snapshot stores it: ADO's fields minus ``_links`` and secrets."""
        clean: JsonObject = strip_links(dict(item))
        for dotted in self.drop:
            drop_path(clean, dotted)
        for dotted in self.variables:
            _apply(clean, dotted, keep_variable_flags)
        return clean


def _apply(item: JsonObject, dotted: str, fn: Callable[[Any], Any]) -> None:
    head, _, rest = dotted.partition(".")
    if head not in item:
        return
    if not rest:
        item[head] = fn(item[head])
        return
    child = item[head]
    for entry in child if isinstance(child, list) else [child]:
        if isinstance(entry, dict):
            _apply(entry, rest, fn)


PROJECTS = Resource(
    key="projects",
    path=("_apis", "projects"),
    scope="org",
    description="team projects (the root of every other scope)",
)
REPOSITORIES = Resource(
    key="repositories",
    path=("_apis", "git", "repositories"),
    paged=False,  # one call returns all; the paged variant is 7.2-preview only
    query={"includeHidden": True},
    description="git repositories, hidden ones included",
)
PIPELINES = Resource(
    key="pipelines",
    path=("_apis", "build", "definitions"),
    query={"includeAllProperties": True},
    variables=("variables",),
    description="build/pipeline definitions with all properties (linked to their repository)",
)

REGISTRY: dict[str, Resource] = {r.key: r for r in (PROJECTS, REPOSITORIES, PIPELINES)}


def default_resources() -> tuple[str, ...]:
    """The keys crawled when ``--resources`` is not given."""
    return tuple(key for key, res in REGISTRY.items() if res.default)


def normalize(resource: str, item: Mapping[str, Any]) -> JsonObject:
    """Normalise ``item`` by its registry entry (unknown keys: only ``_links`` go)."""
    entry = REGISTRY.get(resource)
    if entry is None:
        cleaned: JsonObject = strip_links(dict(item))
        return cleaned
    return entry.normalize(item)
