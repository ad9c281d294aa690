"""Seeded, reproducible fault injection for the emulator: the failures a crawler must survive.

Which request fails is decided by a SHA-256 of (seed, method, path and query, attempt), where
*attempt* counts how often that exact URL was asked since its last good answer. So the same
seed replays the same faults, a retry is decided afresh, and with ``attempt >=
max_consecutive`` a URL is always served: no URL fails more than ``max_consecutive`` times in a
row. A share ``rate`` of (URL, attempt) pairs fault, the kind picked evenly from ``kinds``:

- ``500``: 500 with ADO's JSON error body, no ``Retry-After``;
- ``503-retry-after``: 503 with ``Retry-After: 1`` and a JSON error body;
- ``html-502``: 502 with an HTML gateway page;
- ``disconnect``: the real headers (real ``Content-Length``) and half the body, then the
  connection is closed, so the client sees a payload error;
- ``truncated-json``: 200 with the real headers but only half the body (``Content-Length``
  matches the cut body, so the client reads a complete but invalid JSON document);
- ``invalid-json``: 200, ``application/json; charset=utf-8``, an HTML body;
- ``slow``: the real answer after ``slow_s`` seconds (a good answer: it resets the attempts);
- ``stall``: the real headers and half the body, then nothing for ``stall_s`` seconds (the
  client's read timeout should fire), then the connection is closed.

URLs containing one of ``permanent`` (case-insensitive, also matched against the decoded URL)
always answer 500. Route discovery (``OPTIONS``, ``…/_apis``, ``…/_apis/ResourceAreas``) is never
faulted. ``loop_token`` is handled by the paging code, not here.

An *outage* (``outage_after``, ``outage_s``) is the server going away, not one bad answer:
the request after the first ``outage_after`` has its connection reset, the listener is
closed and every open connection dropped (so new connections are refused), and after
``outage_s`` seconds the server listens again on the same port. :class:`Outage` keeps the
state; :func:`crawler.emulator.server.run_emulator` stops and restarts the listener.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from .config import FAULT_KINDS, FaultConfig
from .throttle import ado_error_body, is_route_discovery

GOOD_KINDS = frozenset({"slow"})  # faults that still deliver the real answer
INTERNAL_ERROR = "TF400898: An Internal Error Occurred. (emulated fault)"
UNAVAILABLE = "The service is temporarily unavailable. Retry after 1 second. (emulated fault)"
GATEWAY_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The gateway got no valid answer (emulated fault).</p>"
    b"</body></html>"
)
NOT_JSON = b"<html><body>oops (emulated fault: not JSON)</body></html>"


def _unit(*parts: object) -> tuple[float, int]:
    """A stable uniform number in [0, 1) and a stable integer, from ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:16], "big")


def is_permanent(cfg: FaultConfig, path_qs: str) -> bool:
    """True when the URL contains one of ``cfg.permanent`` (case-insensitive, raw or decoded)."""
    haystacks = (path_qs.casefold(), unquote(path_qs).casefold())
    return any(p.casefold() in h for p in cfg.permanent if p for h in haystacks)


def pick_fault(cfg: FaultConfig, method: str, path_qs: str, attempt: int) -> str | None:
    """The fault kind for this request, or None; ``attempt`` = earlier asks since a good answer."""
    if is_permanent(cfg, path_qs):
        return "500"
    if cfg.rate <= 0 or not cfg.kinds or attempt >= cfg.max_consecutive:
        return None
    share, which = _unit(cfg.seed, method.upper(), path_qs, attempt)
    if share >= cfg.rate:
        return None
    return cfg.kinds[which % len(cfg.kinds)]


@dataclass(slots=True)
class Outage:
    """One outage of the whole server: when it starts, whether it is on, when it ended."""

    after: int
    seconds: float
    seen: int = 0  # requests that reached the middleware
    started_at: float | None = None  # monotonic
    ended_at: float | None = None
    begin: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def active(self) -> bool:
        """True while the server is away."""
        return self.started_at is not None and self.ended_at is None

    def arrive(self, now: float) -> bool:
        """Count one request; True when it must be dropped (the outage starts or is on)."""
        self.seen += 1
        if self.started_at is None and self.seen > self.after:
            self.started_at = now
            self.begin.set()
        return self.active


OUTAGE_KEY = web.AppKey("outage", Outage)


@dataclass(slots=True)
class FaultStats:
    """Counters a benchmark reads after a run (live: the middleware updates them in place)."""

    requests: int = 0  # every request that reached the middleware
    permanent: int = 0  # of the injected 500s, those on a permanent URL
    injected: Counter[str] = field(default_factory=Counter)  # by kind

    @property
    def total(self) -> int:
        """Faults injected, all kinds."""
        return sum(self.injected.values())

    def as_dict(self) -> dict[str, object]:
        """The counters as a JSON-ready dict."""
        return {
            "requests": self.requests,
            "permanent": self.permanent,
            "injected": dict(sorted(self.injected.items())),
            "total": self.total,
        }


def _json_error(status: int, message: str, type_key: str) -> web.Response:
    return web.Response(
        status=status,
        body=ado_error_body(message, type_key),
        content_type="application/json",
        charset="utf-8",
    )


def _copied_headers(resp: web.StreamResponse) -> dict[str, str]:
    skip = {hdrs.CONTENT_LENGTH.lower(), hdrs.TRANSFER_ENCODING.lower()}
    return {k: v for k, v in resp.headers.items() if k.lower() not in skip}


async def _real(request: web.Request, handler: Handler) -> tuple[web.StreamResponse, bytes | None]:
    """The real response, and its body when it is a plain in-memory one we can cut."""
    resp = await handler(request)
    if isinstance(resp, web.Response) and not resp.prepared:
        body = resp.body
        if isinstance(body, bytes | bytearray):
            return resp, bytes(body)
    return resp, None


async def _half_sent(
    request: web.Request, resp: web.StreamResponse, body: bytes
) -> web.StreamResponse:
    """Send the real status, headers and Content-Length, then only half the body."""
    out = web.StreamResponse(status=resp.status, reason=resp.reason, headers=_copied_headers(resp))
    out.content_length = len(body)
    await out.prepare(request)
    await out.write(body[: len(body) // 2])
    return out


def _close(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()  # flushes what was written, then drops the connection


async def _disconnect(
    cfg: FaultConfig, request: web.Request, handler: Handler
) -> web.StreamResponse:
    resp, body = await _real(request, handler)
    if body is None:
        return resp
    out = await _half_sent(request, resp, body)
    _close(request)
    return out


async def _stall(cfg: FaultConfig, request: web.Request, handler: Handler) -> web.StreamResponse:
    resp, body = await _real(request, handler)
    if body is None:
        return resp
    out = await _half_sent(request, resp, body)
    await asyncio.sleep(cfg.stall_s)
    _close(request)
    return out


async def _truncated(
    cfg: FaultConfig, request: web.Request, handler: Handler
) -> web.StreamResponse:
    resp, body = await _real(request, handler)
    if body is None:
        return resp
    cut = body[: len(body) // 2]
    return web.Response(status=resp.status, body=cut, headers=_copied_headers(resp))


async def _slow(cfg: FaultConfig, request: web.Request, handler: Handler) -> web.StreamResponse:
    await asyncio.sleep(cfg.slow_s)
    return await handler(request)


async def _500(cfg: FaultConfig, request: web.Request, handler: Handler) -> web.StreamResponse:
    return _json_error(500, INTERNAL_ERROR, "UnexpectedException")


async def _503(cfg: FaultConfig, request: web.Request, handler: Handler) -> web.StreamResponse:
    resp = _json_error(503, UNAVAILABLE, "ServiceUnavailableException")
    resp.headers[hdrs.RETRY_AFTER] = "1"
    return resp


async def _html_502(cfg: FaultConfig, request: web.Request, handler: Handler) -> web.StreamResponse:
    return web.Response(status=502, body=GATEWAY_PAGE, content_type="text/html", charset="utf-8")


async def _invalid_json(
    cfg: FaultConfig, request: web.Request, handler: Handler
) -> web.StreamResponse:
    return web.Response(body=NOT_JSON, content_type="application/json", charset="utf-8")


Inject = Callable[[FaultConfig, web.Request, Handler], Awaitable[web.StreamResponse]]
INJECT: dict[str, Inject] = {
    "500": _500,
    "503-retry-after": _503,
    "html-502": _html_502,
    "disconnect": _disconnect,
    "truncated-json": _truncated,
    "invalid-json": _invalid_json,
    "slow": _slow,
    "stall": _stall,
}


def fault_middleware(cfg: FaultConfig) -> tuple[Middleware, FaultStats]:
    """An aiohttp middleware injecting ``cfg``'s faults, and its live stats."""
    unknown = sorted(set(cfg.kinds) - set(FAULT_KINDS))
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(unknown)}")
    stats = FaultStats()
    attempts: dict[tuple[str, str], int] = {}  # (method, URL) -> asks since its last good answer

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        stats.requests += 1
        outage = request.app.get(OUTAGE_KEY)
        if outage is not None and outage.arrive(time.monotonic()):
            stats.injected["outage"] += 1
            if request.transport is not None:
                request.transport.abort()  # a reset, not an answer
            return web.Response(status=503)  # never sent: the connection is gone
        if (cfg.rate <= 0 and not cfg.permanent) or is_route_discovery(
            request.method, request.path
        ):
            return await handler(request)
        key = (request.method.upper(), request.path_qs)
        kind = pick_fault(cfg, key[0], key[1], attempts.get(key, 0))
        if kind is None or kind in GOOD_KINDS:
            attempts.pop(key, None)
        else:
            attempts[key] = attempts.get(key, 0) + 1
        if kind is None:
            return await handler(request)
        stats.injected[kind] += 1
        if kind == "500" and is_permanent(cfg, key[1]):
            stats.permanent += 1
        return await INJECT[kind](cfg, request, handler)

    return faults, stats
