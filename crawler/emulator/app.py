"""The emulator's aiohttp application: one catch-all route that dispatches a parsed path to its
handlers after the version check, and the middlewares (request log and latency, auth)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.core_routes import (
    serve_definitions,
    serve_options,
    serve_pipelines,
    serve_projects,
    serve_repositories,
    serve_resource_areas,
)
from crawler.emulator.faults import OUTAGE_KEY, Outage, fault_middleware
from crawler.emulator.model import Org
from crawler.emulator.posture import POSTURE_KINDS
from crawler.emulator.posture_routes import serve_posture
from crawler.emulator.protocol import (
    check_api_version,
    check_credentials,
    not_authorized,
    request_base,
    requested_api_version,
    resource_not_found,
)
from crawler.emulator.routing import Route, parse_route
from crawler.emulator.state import (
    DEFAULT_PAGE_CACHE_BYTES,
    STATE_KEY,
    EmulatorState,
    LogEntry,
    PageCache,
    RequestLog,
)
from crawler.emulator.throttle import throttle_middleware
from crawler.emulator.versions import (
    ALL_KINDS,
    Profile,
    RouteSpec,
    profile,
    released_of,
    route_for_kind,
)
from crawler.emulator.wider_routes import serve_wider


def _version_failure(
    asked: str | None, request: web.Request, prof: Profile, spec: RouteSpec | None
) -> web.Response | None:
    """The 400 this deployment answers for ``asked`` on this route, or None when it is fine."""
    released = prof.released if spec is None else released_of(prof, spec)
    return check_api_version(asked, request.method, highest=prof.highest, released=released)


def _route_of(request: web.Request) -> Route | None:
    config = request.app[STATE_KEY].config
    vdir = config.base_path[: -len(config.org)].strip("/")
    return parse_route(request.method, request.rel_url.raw_path, config.org, vdir)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    route = _route_of(request)
    base = request_base(request, state.config.base_path)
    if route is None:
        return resource_not_found(request.path)
    prof = state.profile
    if route.kind == "options":
        return serve_options(route, prof)
    spec = route_for_kind(prof).get(route.kind)
    if spec is None and route.kind in ALL_KINDS:
        return resource_not_found(request.path)  # a route this server version does not have
    asked = requested_api_version(request.query.get("api-version"), request.headers.get("Accept"))
    if route.kind == "resource_areas":
        # Lenient as before: no version needed, a released number accepted.
        if asked is not None and (failure := _version_failure(asked, request, prof, None)):
            return failure
        return serve_resource_areas(route, base, state.config, prof)
    failure = _version_failure(asked, request, prof, spec)
    if failure is not None:
        return failure
    if route.kind == "projects":
        return serve_projects(state, request, route, base)
    if route.kind == "repositories":
        return serve_repositories(state, request, route, base)
    if route.kind == "definitions":
        return serve_definitions(state, request, route, base)
    if route.kind == "pipelines":
        return serve_pipelines(state, request, route, base)
    if route.kind in POSTURE_KINDS:
        return await serve_posture(state, request, route, base)
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
