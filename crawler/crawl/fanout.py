"""The fan-out over an organization: the projects listing, then each project's resources side
by side, then the probes of the repositories pipelines name.

The organization is a tree of known shape, so the crawl is nested task groups: each page
of projects starts its projects' tasks at once (not after the last page), and each
project task lists its resources (the project-scope entries of the registry) side by side;
repository-scope resources follow each project's repository listing
(crawler.crawl.repository_reads).
A scope the token cannot read is recorded in ``errors`` and the rest goes on; only a refused
credential stops the run. This module never touches HTTP details: it asks the client for pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any

from crawler.crawl import posture
from crawler.crawl.negotiation import negotiated, read_identity
from crawler.crawl.plan import CrawlPlan, CrawlState, Sink, ref_of
from crawler.crawl.project_reads import list_project_resource, read_object, recorder
from crawler.crawl.repository_reads import probe_referenced_repositories, repositories_then_each
from crawler.http.client import AdoClient
from crawler.protocol.errors import AdoError, AuthError, CrawlerError, NotVisible, ProtocolError
from crawler.protocol.resources import PROJECTS, REGISTRY


async def crawl_org(client: AdoClient, plan: CrawlPlan, sink: Sink, state: CrawlState) -> None:
    """Crawl the whole organization into ``sink``; partial failures land in ``state.errors``.

    Raises :class:`AuthError` when the credential is refused or cannot list projects.
    """
    ready = asyncio.ensure_future(negotiated(client, plan, state))
    # Who the token is: beside the projects listing, once the api-versions are known.
    who = asyncio.ensure_future(read_identity(client, ready, state))
    try:
        if plan.org_kind in ("cloud", "legacy"):
            # The cloud takes 7.1 on the projects route: its first page overlaps discovery.
            await _crawl_projects(client, plan, sink, state, ready)
        else:
            await _crawl_projects(client, await ready, sink, state)
        await who
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    finally:
        for task in (who, ready):
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # retrieved: raised above, or the run failed before it
    plan = state.plan = ready.result()
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
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    ready: asyncio.Future[CrawlPlan] | None = None,
) -> None:
    """List the projects and start each one's crawl; with ``ready``, the first page is asked
    before discovery has answered and the projects wait for the plan it gives."""
    # At most this many projects are in progress: the rest wait as plain items of the
    # listing, not as thousands of parked tasks (memory stays flat on large orgs).
    slots = asyncio.Semaphore(plan.max_active_projects)

    async def one_project(project: Mapping[str, Any]) -> None:
        try:
            await crawl_project(client, plan, sink, state, project)
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        first_page = True
        try:
            async for page in client.paginate(
                plan.base_url,
                list(PROJECTS.path),
                {"$top": plan.page_size, "api-version": plan.version(PROJECTS.location)},
            ):
                first_page = False
                if ready is not None:
                    plan, ready = await ready, None
                for project in page:
                    if not isinstance(project.get("id"), str) or not project["id"]:
                        state.record(
                            "projects",
                            None,
                            ProtocolError(
                                f"a project without an id in the listing: {str(project)[:120]}",
                                code="bad_response",
                            ),
                        )
                        continue
                    if not plan.selected(str(project.get("name", ""))):
                        continue
                    sink.add("projects", project)
                    state.project_refs[str(project.get("name", "")).casefold()] = ref_of(project)
                    state.projects_seen += 1
                    await slots.acquire()
                    group.create_task(one_project(project))
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
    per_repo = any(r.scope == "repository" and r.key in plan.resources for r in REGISTRY.values())
    collected = posture.collectors(plan.resources)  # listings the protected steps follow
    jobs: list[Coroutine[Any, Any, Any]] = []
    for resource in REGISTRY.values():
        if resource.scope != "project" or resource.key not in plan.resources:
            continue
        keep = collected.get(resource.key)
        if resource.shape == "object":
            jobs.append(read_object(client, plan, sink, state, project, resource))
        elif per_repo and resource.key == "repositories":
            jobs.append(repositories_then_each(client, plan, sink, state, project, keep))
        else:
            jobs.append(list_project_resource(client, plan, sink, state, project, resource, keep))
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs[1:]:
                group.create_task(job)
            if jobs:
                await jobs[0]  # in this task: one task fewer per project
        if collected:
            await posture.crawl_protected(
                client,
                plan.base_url,
                plan.resources,
                project,
                collected,
                sink.add,
                recorder(state),
                plan.versions,
            )
    finally:
        state.projects_done += 1
