"""The emulator's handlers for the core resources: route discovery (OPTIONS, resource areas),
projects, repositories, build definitions and pipelines, with their scopes and paging.

Page bodies are serialised once with orjson and cached per (base URL, listing, page).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import orjson
from aiohttp import web

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.definitions import definition_reference
from crawler.emulator.posture import build_service
from crawler.emulator.projects import Project, Repository
from crawler.emulator.protocol import (
    access_denied,
    ado_error,
    bad_request,
    decode_pipelines_token,
    encode_pipelines_token,
    envelope,
    json_response,
    not_authorized,
    project_not_found,
    repository_not_found,
    requested_top,
    truthy,
)
from crawler.emulator.routing import Route
from crawler.emulator.seeded import JsonDict, identity_with_links
from crawler.emulator.state import EmulatorState, Page, cached_page, loops
from crawler.emulator.versions import Profile, areas_of, location_entries
from crawler.emulator.wider_activity import latest_builds
from crawler.emulator.wider_release import RELEASE_AREA_ID, release_base


def _area_not_found(area: str | None) -> web.Response:
    return ado_error(
        404,
        f"The resource area '{area}' was not found.",
        "ResourceAreaNotFoundException",
        "Microsoft.VisualStudio.Services.Location.ResourceAreaNotFoundException",
    )


def serve_options(route: Route, prof: Profile) -> web.Response:
    wanted = route.area.casefold() if route.area else None
    found = [
        loc for loc in location_entries(prof) if wanted is None or loc["area"].casefold() == wanted
    ]
    if wanted is not None and not found:
        return _area_not_found(route.area)
    return json_response(envelope(found))


def serve_resource_areas(
    route: Route, base: str, config: EmulatorConfig, prof: Profile
) -> web.Response:
    areas = [{"id": i, "name": n, "locationUrl": f"{base}/"} for i, n in areas_of(prof)]
    release = release_base(config, base)
    for area in areas:
        if area["id"] == RELEASE_AREA_ID:
            area["locationUrl"] = release if release.endswith("/") else f"{release}/"
    if route.item is None:
        return json_response(envelope(areas))
    for area in areas:
        if area["id"] == route.item.lower():
            return json_response(orjson.dumps(area))
    return _area_not_found(route.item)


def serve_projects(
    state: EmulatorState, request: web.Request, route: Route, base: str
) -> web.Response:
    org = state.org
    if route.item is not None:
        project = org.find_project(route.item)
        listed = org.listed_projects()
        if project is None or (project not in listed and not org.project_visible(project)):
            return project_not_found(route.item)
        item = project.item(base) | {
            "_links": {
                "self": {"href": f"{base}/_apis/projects/{project.id}"},
                "web": {"href": f"{base}/{quote(project.name, safe='')}"},
            }
        }
        return json_response(orjson.dumps(item))
    state_filter = request.query.get("stateFilter", "wellFormed").casefold()
    if state_filter not in ("wellformed", "all"):
        return json_response(envelope([]))
    raw_start = request.query.get("continuationToken") or request.query.get("$skip") or "0"
    try:
        start = int(raw_start)
    except ValueError:
        return bad_request(f"The continuation token '{raw_start}' is not valid.")
    top = requested_top(request, state.config.page_size)
    if isinstance(top, web.Response):
        return top
    loop = loops(state, "projects")
    if loop:
        start = 0

    def build() -> Page:
        listed = org.listed_projects()
        chunk = listed[start : start + top]
        end = start + len(chunk)
        token = str(start) if loop and chunk else (str(end) if end < len(listed) else None)
        return Page(envelope([p.item(base) for p in chunk]), token)

    page = cached_page(state, (base, "projects", start, top, loop), build)
    return json_response(page.body, token=page.token)


def _paged_scope(
    state: EmulatorState, request: web.Request, route: Route
) -> tuple[Project, int] | web.Response:
    """The project a paged listing is for and its page length, or the error to answer."""
    project, failure = _project_scope(state, route)
    if failure is not None:
        return failure
    assert project is not None
    top = requested_top(request, state.config.page_size)
    if isinstance(top, web.Response):
        return top
    return project, top


def _paged(
    handler: Callable[[EmulatorState, web.Request, Project, int, str], web.Response],
) -> Callable[[EmulatorState, web.Request, Route, str], web.Response]:
    """A paged project listing's handler, called with its project and page length once the
    scope and ``$top`` are good (else the error is the answer)."""

    def serve(state: EmulatorState, request: web.Request, route: Route, base: str) -> web.Response:
        scope = _paged_scope(state, request, route)
        if isinstance(scope, web.Response):
            return scope
        project, top = scope
        return handler(state, request, project, top, base)

    return serve


def _project_scope(
    state: EmulatorState, route: Route
) -> tuple[Project | None, web.Response | None]:
    """The route's project, or the error ADO answers when it is unknown or out of scope."""
    assert route.project is not None
    project = state.org.find_project(route.project)
    if project is None:
        return None, project_not_found(route.project)
    if state.org.project_visible(project):
        return project, None
    identity = build_service(state.config)
    if route.kind == "repositories":
        return None, project_not_found(route.project)
    if route.kind == "definitions":
        return None, not_authorized(identity)
    return None, access_denied(identity, project.name)


def _repo_item(state: EmulatorState, repo: Repository, base: str, links: bool) -> JsonDict:
    item = state.org.repository_item(repo, base)
    if links:
        project = state.org.project(repo.project)
        item["_links"] = {
            "self": {"href": item["url"]},
            "project": {"href": f"{base}/_apis/projects/{project.id}"},
            "web": {"href": item["webUrl"]},
        }
    return item


def serve_repositories(
    state: EmulatorState, request: web.Request, route: Route, base: str
) -> web.Response:
    org = state.org
    project: Project | None = None
    if route.project is not None:
        project, failure = _project_scope(state, route)
        if failure is not None:
            return failure
    links = truthy(request.query.get("includeLinks"))
    if route.item is not None:
        repo = org.find_repository(route.item, project)
        if repo is None or not org.repo_reachable(repo):
            return repository_not_found(route.item)
        return json_response(orjson.dumps(_repo_item(state, repo, base, True)))
    hidden = truthy(request.query.get("includeHidden"))
    scope = [project] if project is not None else list(org.projects())

    def build() -> Page:
        items = [
            _repo_item(state, repo, base, links)
            for proj in scope
            for repo in org.repositories(proj.index)
            if (hidden or not repo.hidden) and org.repo_reachable(repo)
        ]
        return Page(envelope(items), None)

    where = project.index if project is not None else None
    page = cached_page(state, (base, "repositories", where, hidden, links), build)
    return json_response(page.body)


@_paged
def serve_definitions(
    state: EmulatorState, request: web.Request, project: Project, top: int, base: str
) -> web.Response:
    org = state.org
    full = truthy(request.query.get("includeAllProperties"))
    latest = truthy(request.query.get("includeLatestBuilds"))
    token = request.query.get("continuationToken")
    loop = loops(state, "definitions")
    start = 0 if token is None or loop else org.definition_start(project.index, token)

    def build() -> Page:
        _, order = org.definition_order(project.index)
        chunk = order[start : start + top]
        items = []
        for i in chunk:
            item = org.definition(project.index, i, base)
            if not full:
                item = definition_reference(item)
            if latest:
                item.update(latest_builds(org, project.index, i, base))
            did = item["id"]
            # As ADO serves them, the identity and queue references carry their own links.
            item["authoredBy"] = identity_with_links(item["authoredBy"], base)
            queue = item["queue"]
            item["queue"] = {"_links": {"self": {"href": queue["url"]}}, **queue}
            item["_links"] = {
                "self": {"href": item["url"]},
                "web": {"href": f"{base}/{project.id}/_build/definition?definitionId={did}"},
                "editor": {
                    "href": f"{base}/{project.id}/_build/designer?id={did}&_a=edit-build-definition"
                },
                "badge": {"href": f"{base}/{project.id}/_apis/build/status/{did}"},
            }
            items.append(item)
        end = start + len(chunk)
        if loop and chunk:
            next_token: str | None = org.definition_name(project.index, chunk[0])
        elif end < len(order):
            next_token = org.definition_name(project.index, order[end])
        else:
            next_token = None
        return Page(envelope(items), next_token)

    key = (base, "definitions", project.index, full, start, top, loop, latest)
    page = cached_page(state, key, build)
    return json_response(page.body, token=page.token)


@_paged
def serve_pipelines(
    state: EmulatorState, request: web.Request, project: Project, top: int, base: str
) -> web.Response:
    org = state.org
    token = request.query.get("continuationToken")
    start = 0
    if token is not None:
        decoded = decode_pipelines_token(token)
        if decoded is None:
            return bad_request(f"The continuation token '{token}' is not valid.")
        start = decoded
    loop = loops(state, "pipelines")
    if loop:
        start = 0

    def build() -> Page:
        _, order = org.definition_order(project.index)
        chunk = order[start : start + top]
        items = []
        for i in chunk:
            item = org.pipeline(project.index, i, base)
            web_href = f"{base}/{project.id}/_build/definition?definitionId={item['id']}"
            item["_links"] = {"self": {"href": item["url"]}, "web": {"href": web_href}}
            items.append(item)
        end = start + len(chunk)
        if loop and chunk:
            next_token: str | None = encode_pipelines_token(start)
        else:
            next_token = encode_pipelines_token(end) if end < len(order) else None
        return Page(envelope(items), next_token)

    page = cached_page(state, (base, "pipelines", project.index, start, top, loop), build)
    return json_response(page.body, token=page.token)
