"""The emulator's aiohttp application: routes, auth, scopes, paging, discovery and the request log.

One catch-all route dispatches on a parsed path, so the organization and ``_apis``
segments are case-insensitive and project names arrive URL-decoded. Page bodies are
serialised once with orjson and cached per (base URL, listing, page).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.definitions import definition_reference
from crawler.emulator.faults import OUTAGE_KEY, FaultStats, Outage, fault_middleware
from crawler.emulator.model import Org
from crawler.emulator.posture import (
    POSTURE_KINDS,
    parse_posture_path,
)
from crawler.emulator.projects import Project, Repository
from crawler.emulator.protocol import (
    access_denied,
    ado_error,
    bad_request,
    check_api_version,
    check_credentials,
    decode_pipelines_token,
    encode_pipelines_token,
    envelope,
    json_response,
    not_authorized,
    project_not_found,
    repository_not_found,
    request_base,
    requested_api_version,
    requested_top,
    truthy,
)
from crawler.emulator.seeded import JsonDict, identity_with_links
from crawler.emulator.throttle import ThrottleStats, throttle_middleware
from crawler.emulator.versions import (
    ALL_KINDS,
    Profile,
    RouteSpec,
    areas_of,
    location_entries,
    profile,
    released_of,
    route_for_kind,
)
from crawler.emulator.wider import WIDER_PATHS
from crawler.emulator.wider_activity import latest_builds
from crawler.emulator.wider_release import RELEASE_AREA_ID, release_base

DEFAULT_PAGE_CACHE_BYTES = 128 * 1024 * 1024


# -- request log ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One answered request: monotonic time it arrived, method, path, query, status."""

    time: float
    method: str
    path: str
    query: str
    status: int


@dataclass(slots=True)
class RequestLog:
    """Every request the emulator answered, in arrival order."""

    entries: list[LogEntry] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many requests were answered."""
        return len(self.entries)

    def per_path(self) -> Counter[str]:
        """Request counts per path."""
        return Counter(e.path for e in self.entries)

    def statuses(self) -> Counter[int]:
        """Request counts per status code."""
        return Counter(e.status for e in self.entries)

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()


# -- page cache -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """A serialised list answer and its continuation token (None on the last page)."""

    body: bytes
    token: str | None


class PageCache:
    """Least-recently-used cache of serialised pages, bounded by total body bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[object, ...], Page] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[object, ...]) -> Page | None:
        """The cached page for ``key``, if any."""
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: tuple[object, ...], page: Page) -> None:
        """Remember ``page`` under ``key``, evicting the oldest pages beyond the byte budget."""
        if len(page.body) > self.max_bytes:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._pages[key] = page
        self._bytes += len(page.body)
        while self._bytes > self.max_bytes:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= len(evicted.body)


@dataclass(slots=True)
class EmulatorState:
    """Everything the handlers share: the settings, the org model, the log and caches."""

    config: EmulatorConfig
    org: Org
    log: RequestLog
    latency_rng: random.Random
    pages: PageCache
    throttle_stats: ThrottleStats | None = None
    fault_stats: FaultStats | None = None
    profile: Profile = field(default_factory=lambda: profile("services"))


STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator_state", EmulatorState)


# -- routes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """A parsed request path: what is asked for, in which project, and for which item."""

    kind: str  # options | resource_areas | projects | repositories | definitions | pipelines
    project: str | None = None
    item: str | None = None
    area: str | None = None

    @property
    def anonymous(self) -> bool:
        """Route discovery needs no credential."""
        return self.kind in ("options", "resource_areas")


def parse_route(method: str, raw_path: str, org: str, virtual_dir: str = "") -> Route | None:
    """Map a raw (still URL-encoded) path to a Route, or None when nothing lives there.

    ``virtual_dir`` (e.g. ``tfs``) is the first path segment of a server's collection URL.
    """
    segments = [unquote(s) for s in raw_path.split("/") if s]
    for part in virtual_dir.split("/") if virtual_dir else ():
        if not segments or segments[0].casefold() != part.casefold():
            return None
        segments = segments[1:]
    if len(segments) < 2 or segments[0].casefold() != org.casefold():
        return None
    lowered = [s.casefold() for s in segments]
    if lowered[1] == "_apis":
        project, rest, raw_rest = None, lowered[2:], segments[2:]
    elif len(segments) >= 3 and lowered[2] == "_apis":
        project, rest, raw_rest = segments[1], lowered[3:], segments[3:]
    else:
        return None
    if method == "OPTIONS":
        if project is None and len(rest) <= 1:
            return Route("options", area=rest[0] if rest else None)
        return None
    posture = parse_posture_path(method, project, rest, raw_rest)
    if posture is not None:
        return Route(posture[0], project=project, item=posture[1], area=posture[2])
    if method not in ("GET", "HEAD"):
        return None
    item = raw_rest[-1]
    if project is None:
        if rest[:1] == ["resourceareas"] and len(rest) <= 2:
            return Route("resource_areas", item=item if len(rest) == 2 else None)
        if rest[:1] == ["projects"] and len(rest) <= 2:
            return Route("projects", item=item if len(rest) == 2 else None)
        if rest[:2] == ["git", "repositories"] and len(rest) <= 3:
            return Route("repositories", item=item if len(rest) == 3 else None)
        return None
    if rest[:2] == ["git", "repositories"] and len(rest) <= 3:
        return Route("repositories", project=project, item=item if len(rest) == 3 else None)
    if rest == ["build", "definitions"]:
        return Route("definitions", project=project)
    if rest == ["pipelines"]:
        return Route("pipelines", project=project)
    wider = WIDER_PATHS.get(tuple(rest))
    if wider is not None:
        return Route(wider, project=project)
    if len(rest) == 4 and rest[:2] == ["git", "repositories"] and rest[3] == "commits":
        return Route("commits", project=project, item=raw_rest[2])
    return None


# -- handlers -------------------------------------------------------------------------------


def _identity(config: EmulatorConfig) -> str:
    if config.scoped_project is not None:
        return f"{config.scoped_project} Build Service ({config.org})"
    return f"Project Collection Build Service ({config.org})"


def _no_such_route(request: web.Request) -> web.Response:
    return ado_error(
        404,
        f"The resource at {request.path} was not found.",
        "NotFoundException",
        "System.Web.Http.HttpResponseException, System.Web.Http",
    )


def _version_failure(
    asked: str | None, request: web.Request, prof: Profile, spec: RouteSpec | None
) -> web.Response | None:
    """The 400 this deployment answers for ``asked`` on this route, or None when it is fine."""
    released = prof.released if spec is None else released_of(prof, spec)
    return check_api_version(asked, request.method, highest=prof.highest, released=released)


def _options(route: Route, prof: Profile) -> web.Response:
    wanted = route.area.casefold() if route.area else None
    found = [
        loc for loc in location_entries(prof) if wanted is None or loc["area"].casefold() == wanted
    ]
    if wanted is not None and not found:
        return ado_error(
            404,
            f"The resource area '{route.area}' was not found.",
            "ResourceAreaNotFoundException",
            "Microsoft.VisualStudio.Services.Location.ResourceAreaNotFoundException",
        )
    return json_response(envelope(found))


def _resource_areas(route: Route, base: str, config: EmulatorConfig, prof: Profile) -> web.Response:
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
    return ado_error(
        404,
        f"The resource area '{route.item}' was not found.",
        "ResourceAreaNotFoundException",
        "Microsoft.VisualStudio.Services.Location.ResourceAreaNotFoundException",
    )


def _loop(state: EmulatorState, resource: str) -> bool:
    return resource in state.config.faults.loop_token


def _cached(state: EmulatorState, key: tuple[object, ...], build: Callable[[], Page]) -> Page:
    page = state.pages.get(key)
    if page is None:
        page = build()
        state.pages.put(key, page)
    return page


def _projects(state: EmulatorState, request: web.Request, route: Route, base: str) -> web.Response:
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
    loop = _loop(state, "projects")
    if loop:
        start = 0

    def build() -> Page:
        listed = org.listed_projects()
        chunk = listed[start : start + top]
        end = start + len(chunk)
        token = str(start) if loop and chunk else (str(end) if end < len(listed) else None)
        return Page(envelope([p.item(base) for p in chunk]), token)

    page = _cached(state, (base, "projects", start, top, loop), build)
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
    identity = _identity(state.config)
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


def _repositories(
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
    page = _cached(state, (base, "repositories", where, hidden, links), build)
    return json_response(page.body)


def _definitions(
    state: EmulatorState, request: web.Request, route: Route, base: str
) -> web.Response:
    scope = _paged_scope(state, request, route)
    if isinstance(scope, web.Response):
        return scope
    project, top = scope
    org = state.org
    full = truthy(request.query.get("includeAllProperties"))
    latest = truthy(request.query.get("includeLatestBuilds"))
    token = request.query.get("continuationToken")
    loop = _loop(state, "definitions")
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
    page = _cached(state, key, build)
    return json_response(page.body, token=page.token)


def _pipelines(state: EmulatorState, request: web.Request, route: Route, base: str) -> web.Response:
    scope = _paged_scope(state, request, route)
    if isinstance(scope, web.Response):
        return scope
    project, top = scope
    org = state.org
    token = request.query.get("continuationToken")
    start = 0
    if token is not None:
        decoded = decode_pipelines_token(token)
        if decoded is None:
            return bad_request(f"The continuation token '{token}' is not valid.")
        start = decoded
    loop = _loop(state, "pipelines")
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

    page = _cached(state, (base, "pipelines", project.index, start, top, loop), build)
    return json_response(page.body, token=page.token)


def _route_of(request: web.Request) -> Route | None:
    config = request.app[STATE_KEY].config
    vdir = config.base_path[: -len(config.org)].strip("/")
    return parse_route(request.method, request.rel_url.raw_path, config.org, vdir)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    route = _route_of(request)
    base = request_base(request, state.config.base_path)
    if route is None:
        return ado_error(
            404,
            f"The resource at {request.path} was not found.",
            "NotFoundException",
            "System.Web.Http.HttpResponseException, System.Web.Http",
        )
    prof = state.profile
    if route.kind == "options":
        return _options(route, prof)
    spec = route_for_kind(prof).get(route.kind)
    if spec is None and route.kind in ALL_KINDS:
        return _no_such_route(request)  # a route this server version does not have
    asked = requested_api_version(request.query.get("api-version"), request.headers.get("Accept"))
    if route.kind == "resource_areas":
        # Lenient as before: no version needed, a released number accepted.
        if asked is not None and (failure := _version_failure(asked, request, prof, None)):
            return failure
        return _resource_areas(route, base, state.config, prof)
    failure = _version_failure(asked, request, prof, spec)
    if failure is not None:
        return failure
    if route.kind == "projects":
        return _projects(state, request, route, base)
    if route.kind == "repositories":
        return _repositories(state, request, route, base)
    if route.kind == "definitions":
        return _definitions(state, request, route, base)
    if route.kind == "pipelines":
        return _pipelines(state, request, route, base)
    if route.kind in POSTURE_KINDS:
        from crawler.emulator.posture_routes import serve_posture  # imports this module

        return await serve_posture(state, request, route, base)
    from crawler.emulator.wider_routes import serve_wider  # imports this module

    return serve_wider(state, request, route, base)


# -- middlewares ----------------------------------------------------------------------------

_SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>"
    "<body><h1>Sign in to your account</h1><p>The emulated organization needs a valid token."
    "</p></body></html>"
)


@web.middleware
async def _log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    arrived = time.monotonic()
    config = state.config
    delay_ms = config.latency_ms
    if config.jitter_ms > 0:
        delay_ms += state.latency_rng.uniform(0, config.jitter_ms)
    status = 500
    try:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        state.log.entries.append(
            LogEntry(arrived, request.method, request.path, request.rel_url.query_string, status)
        )


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    route = _route_of(request)
    if route is not None and route.anonymous:
        return await handler(request)
    if check_credentials(request.headers.get("Authorization"), state.config.token):
        return await handler(request)
    if request.headers.get("X-TFS-FedAuthRedirect", "").lower() == "suppress":
        response = not_authorized("Anonymous")
        response.headers["WWW-Authenticate"] = 'Bearer, Basic realm="emulator"'
        return response
    return web.Response(status=203, text=_SIGN_IN_PAGE, content_type="text/html", charset="utf-8")


def create_app(
    config: EmulatorConfig,
    *,
    middlewares: Sequence[Middleware] = (),
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES,
) -> web.Application:
    """The emulator as an aiohttp application.

    Order of middlewares: request log and latency, auth, throttling (when
    ``config.throttle.enabled``), faults (when ``config.faults`` injects any), then
    the extra ``middlewares``, in order.
    """
    state = EmulatorState(
        config=config,
        org=Org(config),
        log=RequestLog(),
        latency_rng=random.Random(config.seed),
        pages=PageCache(page_cache_bytes),
        profile=profile(config.server_version),
    )
    chain: list[Middleware] = [_log_middleware, _auth_middleware]
    if config.throttle.enabled:
        throttle_mw, state.throttle_stats = throttle_middleware(config.throttle)
        chain.append(throttle_mw)
    if config.faults.rate > 0 or config.faults.permanent or config.faults.plays_outage:
        fault_mw, state.fault_stats = fault_middleware(config.faults)
        chain.append(fault_mw)
    app = web.Application(middlewares=[*chain, *middlewares])
    if config.faults.plays_outage:
        app[OUTAGE_KEY] = Outage(config.faults.outage_after, config.faults.outage_s)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


def state_of(app: web.Application) -> EmulatorState:
    """The shared state of an emulator application."""
    return app[STATE_KEY]
