"""The repository-scope reads (each repository's activity, after the project's listing) and the
probes of the protected repositories pipelines name but no listing returned."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from crawler.crawl.plan import CrawlPlan, CrawlState, Sink, ref_of
from crawler.crawl.project_reads import list_project_resource
from crawler.http.client import AdoClient
from crawler.protocol.ado import build_url, parse_list
from crawler.protocol.errors import AdoError, NotVisible, ProtocolError
from crawler.protocol.resources import REGISTRY, REPOSITORIES, Resource


async def repositories_then_each(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
    collect: list[Mapping[str, Any]] | None = None,
) -> None:
    """List the project's repositories, then read each repository-scope resource per repository
    (only for the repositories the listing returned; one request each, paced like the rest)."""
    repos: list[Mapping[str, Any]] = collect if collect is not None else []
    await list_project_resource(client, plan, sink, state, project, REGISTRY["repositories"], repos)
    async with asyncio.TaskGroup() as group:
        for resource in REGISTRY.values():
            if resource.scope != "repository" or resource.key not in plan.resources:
                continue
            for repo in repos:
                if wants_activity(repo):
                    group.create_task(
                        _read_repository_resource(
                            client, plan, sink, state, project, repo, resource
                        )
                    )


def wants_activity(repo: Mapping[str, Any]) -> bool:
    """A repository worth one activity request: enabled and not empty (it has commits)."""
    return (
        repo.get("isDisabled") is not True
        and bool(repo.get("defaultBranch"))
        and repo.get("size") != 0
    )


def activity_item(
    repo: Mapping[str, Any], project: Mapping[str, Any], commits: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``repository_activity`` item: the repository ref and its last commit (or None).

    The commit keeps ADO's GitCommitRef fields minus ``_links`` and ``comment`` (a commit
    message is free text and may hold anything; the date is what an inventory needs).
    """
    last = None
    if commits:
        last = {k: v for k, v in commits[0].items() if k not in ("_links", "comment")}
    return {
        "id": str(repo.get("id", "")),
        "name": str(repo.get("name", "")),
        "project": ref_of(project),
        "defaultBranch": repo.get("defaultBranch"),
        "lastCommit": last,
    }


async def _read_repository_resource(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
    repo: Mapping[str, Any],
    resource: Resource,
) -> None:
    rid = str(repo.get("id", ""))
    segments = [str(project["id"]), *(rid if s == "{repository}" else s for s in resource.path)]
    query = resource.query_at(plan.version(resource.location))
    url = build_url(plan.base_for(resource.host), segments, query)
    try:
        outcome = await client.get(url)
        try:
            commits = parse_list(outcome.data)
        except ValueError as exc:
            raise ProtocolError(
                f"unexpected response shape: {exc}", status=outcome.status, code="bad_response"
            ) from None
    except AdoError as exc:
        state.record(resource.key, project, exc, item=repo)
        return
    sink.add(resource.key, activity_item(repo, project, commits))


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
            group.create_task(probe_repository(client, plan, sink, state, repo_id, name, project))


async def probe_repository(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    repo_id: str,
    name: str,
    project: Mapping[str, str],
) -> None:
    """Fetch one repository a pipeline names; a refusal is recorded against it."""
    url = build_url(
        plan.base_url,
        [project["id"], "_apis", "git", "repositories", repo_id],
        {"api-version": plan.version(REPOSITORIES.location)},
    )
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
