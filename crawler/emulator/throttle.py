"""Emulated ADO rate limits: one identity budget in TSTUs over a sliding window.

Behaviour (docs: https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits):

- Every request costs ``ThrottleConfig.cost`` TSTUs; *usage* is the sum of the costs charged
  in the last ``window_s`` seconds (a sliding window, so usage drains request by request).
- Usage at or above ``limit``: **blocked**. 429 with ``Retry-After`` (whole seconds, at least 1:
  the time until enough usage leaves the window to get back under the limit) and ADO's JSON
  error ``TF400733``. A blocked request is *not* charged: on ADO a refused request does no work,
  and it keeps ``Retry-After`` honest (a client that waits that long gets through).
- Usage at or above ``delay_from * limit``: **delayed**. The request is charged, the server
  really sleeps, then answers normally with ``X-RateLimit-Delay: <seconds>``. The delay grows
  linearly from ~0 at ``delay_from * limit`` to ``max_delay_s`` at ``limit``.
- Every charged or blocked response carries ``X-RateLimit-Resource``, ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` (TSTUs left after this request, 0 when delayed or blocked) and
  ``X-RateLimit-Reset`` (Unix epoch seconds when usage is back to 0).
- Route discovery (any ``OPTIONS``, ``…/_apis``, ``…/_apis/ResourceAreas…``) is free and gets
  no headers. With throttling off the middleware passes everything through untouched.

The other models (``ThrottleConfig.model``) disagree with a client that trusts those headers
too much, as real servers do:

- ``shared``: the window above, but another consumer of the same identity (another pipeline
  run under the same build service) already spent ``shared_usage`` in the window before the
  first request, spread evenly over it: ``Remaining`` is low from the first answer, and that
  usage leaves the window during the first ``window_s`` seconds.
- ``bucket``: a token bucket, ``rate`` requests per second. While a token is left the request
  passes (``Remaining`` = tokens left); otherwise it is delayed until its token exists
  (``X-RateLimit-Delay``) when that is at most ``max_delay_s`` away, else answered 429 with a
  short ``Retry-After``. ``X-RateLimit-Reset`` is now + 300 s on every answer, as ADO sends it,
  though the bucket refills in a second or two: a client reading Reset as "when I may go
  again" slows down for nothing. [inferred: the model the issue's independent fake used]
- ``burst``: a full budget on every answer (``Remaining`` = ``Limit``), except that for
  ``burst_s`` seconds after the ``burst_after``-th request every request is blocked by
  another resource (``X-RateLimit-Resource: DBCPU``) with ``Retry-After: burst_retry_after``,
  ``Remaining: 0`` and a Reset 300 s away: the 429's headers describe the blocked state,
  ``Retry-After`` is what the server asks.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .config import ThrottleConfig

Clock = Callable[[], float]
Outcome = Literal["allowed", "delayed", "blocked"]

RESOURCE = "Build"  # what X-RateLimit-Resource names; "for humans" per the docs
BLOCKED_MESSAGE = (
    "TF400733: The request has been canceled: Request was blocked due to exceeding usage of "
    f"resource '{RESOURCE}' in namespace 'User'."
)


def is_route_discovery(method: str, path: str) -> bool:
    """True for the requests official clients make to discover routes (never charged/faulted)."""
    lowered = path.lower().rstrip("/")
    return (
        method.upper() == "OPTIONS"
        or lowered.endswith("/_apis")
        or "/_apis/resourceareas" in lowered
    )


def ado_error_body(message: str, type_key: str) -> bytes:
    """ADO's JSON error envelope (``message``, ``typeName``, ``typeKey``, ...) as bytes."""
    return orjson.dumps(
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"Microsoft.TeamFoundation.Framework.Server.{type_key}, "
            "Microsoft.TeamFoundation.Framework.Server",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        }
    )


def _fmt(value: float) -> str:
    """A TSTU amount for a header: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the budget decided for one request, and the numbers its headers report."""

    outcome: Outcome
    limit: float
    usage: float  # after charging this request (blocked requests are not charged)
    reset_in_s: float  # seconds until usage is back to 0
    delay_s: float = 0.0
    retry_after_s: int = 0
    resource: str = RESOURCE

    @property
    def remaining(self) -> float:
        """TSTUs left, floored to 0.01; 0 when delayed or blocked."""
        if self.outcome != "allowed":
            return 0.0
        left = max(0.0, self.limit - self.usage)
        return math.floor(round(left * 100, 6)) / 100

    def headers(self, wall_now: float) -> dict[str, str]:
        """The X-RateLimit-* (and Retry-After) headers, given the current Unix time."""
        headers = {
            "X-RateLimit-Resource": self.resource,
            "X-RateLimit-Limit": _fmt(self.limit),
            "X-RateLimit-Remaining": _fmt(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(wall_now + self.reset_in_s)),
        }
        if self.outcome == "delayed":
            headers["X-RateLimit-Delay"] = f"{self.delay_s:.3f}"
        if self.outcome == "blocked":
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class Budget:
    """The sliding-window TSTU budget of one identity; pure, the caller supplies the time."""

    def __init__(self, cfg: ThrottleConfig) -> None:
        self._cfg = cfg
        self._events: deque[tuple[float, float]] = deque()  # (time charged, cost), oldest first
        self._usage = 0.0
        self._shared_pending = cfg.model == "shared" and cfg.shared_usage > 0

    def _charge_shared(self, now: float) -> None:
        """Another consumer's usage, spread over the window before ``now`` (20 charges)."""
        self._shared_pending = False
        chunks = 20
        step = self._cfg.window_s / chunks
        for i in range(1, chunks + 1):
            self._events.append(
                (now - self._cfg.window_s + i * step, self._cfg.shared_usage / chunks)
            )
        self._usage = sum(cost for _, cost in self._events)

    def _expire(self, now: float) -> None:
        horizon = now - self._cfg.window_s
        while self._events and self._events[0][0] <= horizon:
            self._usage -= self._events.popleft()[1]
        if not self._events:
            self._usage = 0.0  # no float drift once the window is empty

    def usage(self, now: float) -> float:
        """TSTUs charged in the window ending at ``now``."""
        self._expire(now)
        return round(self._usage, 9)

    def decide(self, now: float) -> Decision:
        """Decide allowed / delayed / blocked for a request at ``now``; charge it unless blocked."""
        cfg = self._cfg
        if self._shared_pending:
            self._charge_shared(now)
        usage = self.usage(now)
        if usage >= cfg.limit:
            return Decision(
                "blocked",
                cfg.limit,
                usage,
                self._reset_in(now),
                retry_after_s=self._retry_after(now, usage),
            )
        self._events.append((now, cfg.cost))
        self._usage += cfg.cost
        after = round(self._usage, 9)
        threshold = cfg.delay_from * cfg.limit
        if usage < threshold:
            return Decision("allowed", cfg.limit, after, self._reset_in(now))
        share = (after - threshold) / (cfg.limit - threshold)
        delay = min(cfg.max_delay_s, cfg.max_delay_s * share)
        return Decision("delayed", cfg.limit, after, self._reset_in(now), delay_s=delay)

    def _reset_in(self, now: float) -> float:
        if not self._events:
            return 0.0
        return max(0.0, self._events[-1][0] + self._cfg.window_s - now)

    def _retry_after(self, now: float, usage: float) -> int:
        """Whole seconds until enough charges leave the window to be under the limit again."""
        left = usage
        wait = self._cfg.window_s
        for charged_at, cost in self._events:
            left -= cost
            if round(left, 9) < self._cfg.limit:
                wait = charged_at + self._cfg.window_s - now
                break
        return max(1, math.ceil(round(wait, 6)))


BUCKET_RESET_S = 300.0  # what X-RateLimit-Reset says on every bucket answer, as ADO sends it


class Bucket:
    """A token bucket of requests; pure, the caller supplies the time."""

    def __init__(self, cfg: ThrottleConfig) -> None:
        self._cfg = cfg
        self.size = cfg.bucket_size or cfg.rate
        self._tokens = self.size
        self._last: float | None = None

    def decide(self, now: float) -> Decision:
        """Pass, delay until this request's token exists, or block when that is too far."""
        cfg = self._cfg
        if self._last is not None:
            self._tokens = min(self.size, self._tokens + (now - self._last) * cfg.rate)
        self._last = now
        after = self._tokens - 1.0
        if after >= 0:
            self._tokens = after
            return Decision("allowed", self.size, self.size - after, BUCKET_RESET_S)
        wait = -after / cfg.rate
        if wait <= cfg.max_delay_s:
            self._tokens = after  # the token is promised to this request
            return Decision("delayed", self.size, self.size, BUCKET_RESET_S, delay_s=wait)
        retry = max(1, math.ceil(round(wait - cfg.max_delay_s, 6)))
        return Decision("blocked", self.size, self.size, BUCKET_RESET_S, retry_after_s=retry)


BURST_RESOURCE = "DBCPU"


class Burst:
    """A full budget, but a burst of 429s from another resource after some requests; pure."""

    def __init__(self, cfg: ThrottleConfig) -> None:
        self._cfg = cfg
        self.limit = cfg.limit or 200.0
        self._seen = 0
        self._burst_from: float | None = None

    def decide(self, now: float) -> Decision:
        """Blocked (DBCPU) during the burst, allowed with a full budget otherwise."""
        cfg = self._cfg
        self._seen += 1
        if self._burst_from is None and self._seen > cfg.burst_after:
            self._burst_from = now
        if self._burst_from is not None and now < self._burst_from + cfg.burst_s:
            return Decision(
                "blocked",
                self.limit,
                self.limit,
                BUCKET_RESET_S,
                retry_after_s=cfg.burst_retry_after,
                resource=BURST_RESOURCE,
            )
        return Decision("allowed", self.limit, 0.0, 0.0)


def make_model(cfg: ThrottleConfig) -> Budget | Bucket | Burst:
    """The throttle model ``cfg.model`` names."""
    if cfg.model == "bucket":
        return Bucket(cfg)
    if cfg.model == "burst":
        return Burst(cfg)
    return Budget(cfg)


@dataclass(slots=True)
class ThrottleStats:
    """Counters a benchmark reads after a run (live: the middleware updates them in place)."""

    requests: int = 0  # every request that reached the middleware
    exempt: int = 0  # route discovery, never charged
    delayed: int = 0
    blocked: int = 0
    total_delay_s: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The counters as a JSON-ready dict."""
        return asdict(self)


def throttle_middleware(
    cfg: ThrottleConfig,
    *,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
) -> tuple[Middleware, ThrottleStats]:
    """An aiohttp middleware enforcing ``cfg`` (one budget for all callers), and its live stats."""
    stats = ThrottleStats()
    budget = make_model(cfg)

    @web.middleware
    async def throttle(request: web.Request, handler: Handler) -> web.StreamResponse:
        stats.requests += 1
        if not cfg.enabled:
            return await handler(request)
        if is_route_discovery(request.method, request.path):
            stats.exempt += 1
            return await handler(request)
        decision = budget.decide(clock())
        if decision.outcome == "blocked":
            stats.blocked += 1
            message = BLOCKED_MESSAGE.replace(f"'{RESOURCE}'", f"'{decision.resource}'")
            return web.Response(
                status=429,
                body=ado_error_body(message, "RequestBlockedException"),
                content_type="application/json",
                charset="utf-8",
                headers=decision.headers(wall_clock()),
            )
        if decision.outcome == "delayed":
            stats.delayed += 1
            stats.total_delay_s += decision.delay_s
            await asyncio.sleep(decision.delay_s)
        response = await handler(request)
        if not response.prepared:  # a streamed (e.g. fault-injected) response already left
            response.headers.update(decision.headers(wall_clock()))
        return response

    return throttle, stats
