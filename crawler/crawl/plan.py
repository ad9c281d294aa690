"""The plan of one crawl (what it reads), its state (what it learns beyond the items) and the
sink it writes to: the types every crawl step shares."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crawler.protocol.errors import AdoError

log = logging.getLogger(__name__)

CORE_RESOURCES = ("projects", "repositories", "pipelines")


class Batch(Protocol):
    """The items of one listing, stored together when the batch closes."""

    def add(self, item: Mapping[str, Any]) -> None: ...
    def extend(self, items: Iterable[Mapping[str, Any]]) -> None: ...
    def __enter__(self) -> Batch: ...
    def __exit__(self, *exc: object) -> None: ...


class Sink(Protocol):
    """Where crawled items go (the snapshot writer)."""

    def add(self, resource: str, item: Mapping[str, Any]) -> None: ...
    def batch(self, resource: str) -> Batch: ...


@dataclass(frozen=True, slots=True)
class CrawlPlan:
    """What one crawl reads."""

    base_url: str
    resources: frozenset[str] = frozenset(CORE_RESOURCES)
    vsrm_url: str | None = None  # release management host, when a resource needs it
    options: frozenset[str] = frozenset()  # crawl options: latest_builds, release_expand
    page_size: int = 500
    auth_kind: str = "job"
    selected: Callable[[str], bool] = lambda name: True
    max_active_projects: int = 64  # projects crawled at the same time (bounds memory)
    # Route discovery (crawler.crawl.discovery): the URL's kind (crawler.settings.orgurl: cloud,
    # legacy,
    # server, loopback), whether to read the route table first, and the api-version per
    # location id it gave (empty: every request sends the default version).
    org_kind: str = "loopback"
    discover: bool = True
    versions: Mapping[str, str] = field(default_factory=dict)
    # Resources asked for only because they are in the default set: where the server lacks
    # one, it is left out of the run (and the header), not recorded as not_supported.
    adaptive: frozenset[str] = frozenset()

    def version(self, location: str) -> str | None:
        """The negotiated api-version of a route (None: the default one)."""
        return self.versions.get(location) if location else None

    def base_for(self, host: str) -> str:
        """The base URL of ``host`` ("org" or "vsrm")."""
        if host == "vsrm":
            return self.vsrm_url or self.base_url
        return self.base_url


@dataclass(slots=True)
class CrawlState:
    """What the crawl learnt beyond the items: errors and progress counters."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    projects_seen: int = 0
    projects_done: int = 0
    listed: set[tuple[str, str]] = field(default_factory=set)  # (resource, project id) read in full
    listed_repo_ids: set[str] = field(default_factory=set)
    deployment: str | None = None  # "services" or "server", once discovery has run
    api_version: str | None = None  # the server's highest released api-version
    # repository id -> (name, project ref) of TfsGit repositories pipelines point at
    referenced_repos: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    connection: Any = None  # the connectionData answer (crawler.crawl.identity)
    plan: CrawlPlan | None = None  # the plan after route discovery (for the second pass)
    # default-set resources this server lacks (key -> why): not requested, so not errors
    skipped: dict[str, str] = field(default_factory=dict)
    project_refs: dict[str, dict[str, str]] = field(default_factory=dict)  # casefolded name

    def note(
        self, resource: str, items: Iterable[Mapping[str, Any]], project: Mapping[str, Any]
    ) -> None:
        """Remember what later steps need from a page of items (repositories pipelines use).

        Only references to repositories no listing has returned yet are kept, so this
        stays small however many pipelines there are.
        """
        if resource == "repositories":
            for item in items:
                repo_id = str(item.get("id"))
                self.listed_repo_ids.add(repo_id)
                self.referenced_repos.pop(repo_id, None)
        elif resource == "pipelines":
            listed, referenced = self.listed_repo_ids, self.referenced_repos
            for item in items:
                repo = item.get("repository")
                if type(repo) is dict and repo.get("type") == "TfsGit" and repo.get("id"):
                    repo_id = str(repo["id"])
                    if repo_id not in listed and repo_id not in referenced:
                        referenced[repo_id] = (str(repo.get("name", "")), ref_of(project))

    def record(
        self,
        resource: str,
        project: Mapping[str, Any] | None,
        exc: AdoError,
        *,
        item: Mapping[str, Any] | None = None,
    ) -> None:
        """Note one scope that could not be read, and why."""
        entry = {
            "resource": resource,
            "project": ref_of(project) if project is not None else None,
            "item": ref_of(item) if item is not None else None,
            "status": exc.status,
            "code": exc.code,
            "message": exc.message,
        }
        self.errors.append(entry)
        where = f" in project {project.get('name')!r}" if project is not None else ""
        log.info("%s%s not read: %s", resource, where, exc.message)


def ref_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """The ``{"id", "name"}`` reference of a project or item."""
    return {"id": str(obj.get("id", "")), "name": str(obj.get("name", ""))}
