"""What the emulator's handlers share: the state of one application, its request log and the
cache of serialised pages."""

from __future__ import annotations

import random
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.faults import FaultStats
from crawler.emulator.model import Org
from crawler.emulator.throttle import ThrottleStats
from crawler.emulator.versions import Profile, profile

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


def state_of(app: web.Application) -> EmulatorState:
    """The shared state of an emulator application."""
    return app[STATE_KEY]


def loops(state: EmulatorState, resource: str) -> bool:
    """Does the configured fault make this listing hand back its own token forever?"""
    return resource in state.config.faults.loop_token


def cached_page(state: EmulatorState, key: tuple[object, ...], build: Callable[[], Page]) -> Page:
    """The cached page under ``key``, built (and remembered) on a miss."""
    page = state.pages.get(key)
    if page is None:
        page = build()
        state.pages.put(key, page)
    return page
