"""The fan-out over an organization: projects, then per project its repositories and pipelines.

The organization is a tree of known shape, so the crawl is nested task groups: each page
of projects starts its projects' tasks at once (not after the last page), and each
project task lists its resources side by side. A scope the token cannot read is
recorded in ``errors`` and the rest goes on; only a refused credential stops the run.
This module never touches HTTP details: it asks the client for pages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crawler.ado import build_url
from crawler.client import AdoClient
from crawler.errors import AdoError, AuthError, CrawlerError, NotVisible
from crawler.resources import PROJECTS, REGISTRY, Resource

log = logging.getLogger(__name__)

CORE_RESOURCES = ("projects", "repositories", "pipelines")


class Sink(Protocol):
    """Where crawled items go (the snapshot writer)."""

    def add(self, resource: str, item: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True, slots=True)
class CrawlPlan:
    """What one crawl reads."""

    base_url: str
    resources: frozenset[str] = frozenset(CORE_RESOURCES)
    vsrm_url: str | None = None  # release management host, when a resource needs it
    page_size: int = 500
    auth_kind: str = "job"
    selected: Callable[[str], bool] = lambda name: True

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
    # repository id -> (name, project ref) of TfsGit repositories pipelines point at
    referenced_repos: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def note(self, resource: str, item: Mapping[str, Any], project: Mapping[str, Any]) -> None:
        """Remember what later steps need from an item (repository links of pipelines)."""
        if resource == "repositories":
            self.listed_repo_ids.add(str(item.get("id")))
        elif resource == "pipelines":
            repo = item.get("repository")
            if isinstance(repo, dict) and repo.get("type") == "TfsGit" and repo.get("id"):
                self.referenced_repos.setdefault(
                    str(repo["id"]), (str(repo.get("name", "")), _ref(project))
                )

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
            "project": _ref(project) if project is not None else None,
            "item": _ref(item) if item is not None else None,
            "status": exc.status,
            "code": exc.code,
            "message": exc.message,
        }
        self.errors.append(entry)
        where = f" in project {project.get('name')!r}" if project is not None else ""
        log.info("%s%s not read: %s", resource, where, exc.message)


def _ref(obj: Mapping[str, Any]) -> dict[str, str]:
    return {"id": str(obj.get("id", "")), "name": str(obj.get("name", ""))}


async def crawl_org(client: AdoClient, plan: CrawlPlan, sink: Sink, state: CrawlState) -> None:
    """Crawl the whole organization into ``sink``; partial failures land in ``state.errors``.

    Raises :class:`AuthError` when the credential is refused or cannot list projects.
    """
    try:
        await _crawl_projects(client, plan, sink, state)
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    if "repositories" in plan.resources and "pipelines" in plan.resources:
        try:
            await probe_referenced_repositories(client, plan, sink, state)
        except BaseExceptionGroup as group:
            raise first_error(group) from None


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The exception to report from a failed task group: a user-facing one if any."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for wanted in (KeyboardInterrupt, AuthError, CrawlerError):
        for exc in leaves:
            if isinstance(exc, wanted):
                return exc
    return leaves[0] if leaves else group


async def _crawl_projects(
    client: AdoClient, plan: CrawlPlan, sink: Sink, state: CrawlState
) -> None:
    async with asyncio.TaskGroup() as group:
        first_page = True
        try:
            async for page in client.paginate(
                plan.base_url, list(PROJECTS.path), {"$top": plan.page_size}
            ):
                first_page = False
                for project in page:
                    if not plan.selected(str(project.get("name", ""))):
                        continue
                    sink.add("projects", project)
                    state.projects_seen += 1
                    group.create_task(crawl_project(client, plan, sink, state, project))
        except NotVisible as exc:
            raise AuthError(
                f"Azure DevOps refused {client.credential_label} when listing projects "
                f"(HTTP {exc.status}: {exc.message}). Check that the token is current, belongs "
                "to this organization and, for a PAT, has the Project and Team (Read) scope."
            ) from None
        except AdoError as exc:
            if first_page:
                raise CrawlerError(
                    f"could not list projects: {exc.message}. Nothing was written; try again "
                    "later or raise --deadline / max_retries."
                ) from None
            state.record("projects", None, exc)


async def crawl_project(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
) -> None:
    """List one project's resources side by side; record what cannot be read."""
    try:
        async with asyncio.TaskGroup() as group:
            for resource in REGISTRY.values():
                if resource.scope == "project" and resource.key in plan.resources:
                    group.create_task(
                        _list_project_resource(client, plan, sink, state, project, resource)
                    )
    finally:
        state.projects_done += 1


async def _list_project_resource(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
    resource: Resource,
) -> None:
    pid = str(project["id"])
    query: dict[str, str | int | bool | None] = dict(resource.query)
    if resource.paged:
        query["$top"] = plan.page_size
    try:
        async for page in client.paginate(
            plan.base_for(resource.host), [pid, *resource.path], query
        ):
            for item in page:
                if sink.add(resource.key, item):
                    state.note(resource.key, item, project)
    except AdoError as exc:
        state.record(resource.key, project, exc)
    else:
        state.listed.add((resource.key, pid))


async def probe_referenced_repositories(
    client: AdoClient, plan: CrawlPlan, sink: Sink, state: CrawlState
) -> None:
    """Ask for each repository a pipeline points at that no listing returned.

    With "Protect access to repositories in YAML pipelines" the job token's listing
    leaves out repositories it cannot reach; the pipelines still name them. Each such
    repository is fetched once: a 404 (TF401019) is recorded as not visible (or
    deleted), never silently dropped. Only a job token's crawl probes: for a PAT or an
    Entra ID token a missing repository is a finding of the report, not a blind spot.
    """
    if plan.auth_kind != "job":
        return
    missing = {
        repo_id: ref
        for repo_id, ref in state.referenced_repos.items()
        if repo_id not in state.listed_repo_ids and ("repositories", ref[1]["id"]) in state.listed
    }
    async with asyncio.TaskGroup() as group:
        for repo_id, (name, project) in sorted(missing.items()):
            group.create_task(_probe_repository(client, plan, sink, state, repo_id, name, project))


async def _probe_repository(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    repo_id: str,
    name: str,
    project: Mapping[str, str],
) -> None:
    url = build_url(plan.base_url, [project["id"], "_apis", "git", "repositories", repo_id])
    try:
        outcome = await client.get(url)
    except AdoError as exc:
        if isinstance(exc, NotVisible):
            exc.message = (
                f"repository {name!r} is used by a pipeline but not visible to this token "
                f"(or was deleted): {exc.message}"
            )
        state.record("repositories", project, exc, item={"id": repo_id, "name": name})
        return
    repo = outcome.data
    if isinstance(repo, dict) and repo.get("id"):
        repo_project = repo.get("project")
        if isinstance(repo_project, dict) and plan.selected(str(repo_project.get("name", ""))):
            sink.add("repositories", repo)
            state.listed_repo_ids.add(str(repo["id"]))
