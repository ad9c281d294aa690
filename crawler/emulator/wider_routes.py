"""The emulator's handlers for the wider resources: scopes, ADO's errors, paging per resource.

Release definitions page by next id (header token), variable groups by the next id in
IdDescending order (an integer token), environments and policies by next id; agent queues
and service endpoints are not paged. Route kinds come from ``wider.WIDER_PATHS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from aiohttp import web

from crawler.emulator.posture import build_service
from crawler.emulator.projects import Project
from crawler.emulator.protocol import (
    ado_error,
    bad_request,
    envelope,
    json_response,
    not_authorized,
    project_not_found,
    repository_not_found,
    requested_top,
    resource_not_found,
)
from crawler.emulator.routing import Route
from crawler.emulator.seeded import JsonDict
from crawler.emulator.state import EmulatorState
from crawler.emulator.wider import project_items
from crawler.emulator.wider_activity import last_commits
from crawler.emulator.wider_release import release_base


def endpoints_denied(identity: str) -> web.Response:
    """403, as for an identity without View permission on the project's service connections."""
    return ado_error(
        403,
        f"Access denied. {identity} needs View permissions on service connections in this "
        "project to perform the action.",
        "AccessCheckException",
        "Microsoft.TeamFoundation.Framework.Server.AccessCheckException, "
        "Microsoft.TeamFoundation.Framework.Server",
    )


def page_after(
    items: Sequence[JsonDict], token: str | None, top: int, before: Callable[[int, int], bool]
) -> tuple[list[JsonDict], str | None] | None:
    """Items from the one whose id the token names, and the next token; None if bad token.

    ``before(item_id, token_id)`` is true for items that come before the token's position.
    """
    start = 0
    if token is not None:
        try:
            wanted = int(token)
        except ValueError:
            return None
        start = sum(1 for item in items if before(int(item["id"]), wanted))
    chunk = list(items[start : start + top])
    end = start + len(chunk)
    return chunk, (str(items[end]["id"]) if end < len(items) else None)


def _ascending(item_id: int, token: int) -> bool:
    return item_id < token


def _descending(item_id: int, token: int) -> bool:
    return item_id > token


def _scope(state: EmulatorState, route: Route) -> tuple[Project | None, web.Response | None]:
    assert route.project is not None
    project = state.org.find_project(route.project)
    if project is None:
        return None, project_not_found(route.project)
    if state.org.project_visible(project):
        return project, None
    if route.kind == "release_definitions":
        return None, not_authorized(build_service(state.config))
    return None, project_not_found(route.project)


def serve_wider(
    state: EmulatorState, request: web.Request, route: Route, base: str
) -> web.Response:
    """Answer a wider route: release, distributedtask, serviceendpoint, policy, commits."""
    config = state.config
    if route.kind == "release_definitions":
        wanted = urlsplit(release_base(config, base)).hostname
        if urlsplit(base).hostname != wanted:
            return resource_not_found(request.path)  # the release area lives on its own host
    project, failure = _scope(state, route)
    if failure is not None:
        return failure
    assert project is not None
    if route.kind == "commits":
        return _commits(state, request, route, project, base)
    if route.kind == "service_endpoints" and not config.endpoints_readable:
        return endpoints_denied(build_service(config))
    expands = {e.strip().lower() for e in request.query.get("$expand", "").split(",")}
    expand = bool(expands & {"environments", "artifacts"})
    items = project_items(state.org, route.kind, project, base, expand=expand)
    if expand:
        for item in items:
            for part in ("environments", "artifacts"):
                if part not in expands:
                    item.pop(part, None)
    if route.kind in ("queues", "service_endpoints"):
        return json_response(envelope(items))
    top = requested_top(request, config.page_size)
    if isinstance(top, web.Response):
        return top
    before = _descending if route.kind == "variable_groups" else _ascending
    paged = page_after(items, request.query.get("continuationToken"), top, before)
    if paged is None:
        return bad_request(
            f"The continuation token '{request.query.get('continuationToken')}' is not valid."
        )
    chunk, token = paged
    for item in chunk:
        if route.kind == "release_definitions":
            rid = item["id"]
            item["_links"] = {
                "self": {"href": item["url"]},
                "web": {"href": f"{base}/{project.id}/_release?definitionId={rid}"},
            }
        elif route.kind == "policies":
            item["_links"] = {
                "self": {"href": item["url"]},
                "policyType": {"href": item["type"]["url"]},
            }
    return json_response(envelope(chunk), token=token)


def _commits(
    state: EmulatorState, request: web.Request, route: Route, project: Project, base: str
) -> web.Response:
    assert route.item is not None
    repo = state.org.find_repository(route.item, project)
    if repo is None or not state.org.repo_reachable(repo):
        return repository_not_found(route.item)
    top = requested_top(request, 100, "searchCriteria.$top")
    if isinstance(top, web.Response):
        return top
    commits = last_commits(state.org, repo, base)[:top]
    return json_response(envelope(commits))
