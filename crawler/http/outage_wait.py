"""The waiting side of the outage state: who probes, who waits, when the crawl gives up.

:class:`crawler.protocol.outage.Breaker` decides; this module does the asyncio part for the client.
While the breaker is open one task sends the probes (through the client's ``send_probe``,
on the breaker's capped backoff) and every other request waits on one event, replaced
whenever the verdict changes: the server answers (everyone resumes), the outage outlasts
the tolerance (everyone fails with code ``outage``), or the run's deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from crawler.protocol.errors import AdoError, TransportError
from crawler.protocol.outage import Breaker

log = logging.getLogger("crawler.http.client")


class OutageStats(Protocol):
    """The counters the outage state keeps up to date (``crawler.http.stats.Stats``)."""

    outages: int
    outage_s: float
    unreachable_since: float | None
    outage_tolerance_s: float


class OutageWait:
    """Holds requests while the server is away; one probe at a time decides when it is back."""

    def __init__(
        self,
        breaker: Breaker,
        stats: OutageStats,
        send_probe: Callable[[str], Awaitable[bool]],
        *,
        deadline: Callable[[], float | None],
        redact: Callable[[str], str],
    ) -> None:
        self.breaker = breaker
        self.stats = stats
        self.probe_url: str | None = None  # an URL that answered once: what probes ask for
        self._send_probe = send_probe
        self._deadline = deadline
        self._redact = redact
        self._changed = asyncio.Event()  # replaced when the verdict changes
        self._probing = False

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def opened(self) -> None:
        """Note that the breaker is open (progress shows it from now on)."""
        if self.stats.unreachable_since is None and not self.breaker.given_up:
            self.stats.unreachable_since = asyncio.get_running_loop().time()
            self.stats.outages = self.breaker.outages
            log.warning(
                "the server is unreachable; waiting for it (up to %gs, outage_tolerance_s)",
                self.breaker.tolerance_s,
            )

    def answered(self) -> None:
        """Note an answer from the server: closes the breaker if it was open."""
        length = self.breaker.answered(asyncio.get_running_loop().time())
        if length is not None:
            self.stats.unreachable_since = None
            self.stats.outage_s = self.breaker.outage_s
            log.warning("the server answers again after %.1fs unreachable; resuming", length)
            self._notify()

    async def wait(self, url: str) -> None:
        """Wait while the breaker is open: one task probes, the others wait for the verdict.

        Raises :class:`TransportError` with code ``outage`` once the outage outlasts the
        tolerance (at once for every later request), and ``deadline`` at the run's deadline.
        """
        loop = asyncio.get_running_loop()
        breaker = self.breaker
        while breaker.is_open:
            now = loop.time()
            deadline = self._deadline()
            if breaker.expired(now):
                self.stats.outage_s = breaker.outage_s
                self._notify()
                raise self._error(url)
            if deadline is not None and now >= deadline:
                raise AdoError(
                    "the run's deadline passed while the server was unreachable",
                    url=self._redact(url),
                    code="deadline",
                )
            if not self._probing:
                self._probing = True
                try:
                    await self._probe(url)
                finally:
                    self._probing = False
                    self._notify()
                continue
            changed = self._changed
            limit = breaker.expires_at() - now
            if deadline is not None:
                limit = min(limit, deadline - now)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, limit)):
                    await changed.wait()

    async def server_back(self) -> bool:
        """True when the server answers: at once unless the crawl gave up on an outage, and
        then after one more probe (which closes the breaker again when it is answered)."""
        if not self.breaker.given_up:
            return True
        if self.probe_url is None:
            return False
        if await self._send_probe(self.probe_url):
            self.breaker.reset()
            self.stats.unreachable_since = None
            self._notify()
            log.warning("the server answers again; asking again for what the outage cut off")
            return True
        return False

    async def _probe(self, url: str) -> None:
        """Send one probe when its backoff has passed; close the breaker if it is answered."""
        loop = asyncio.get_running_loop()
        breaker = self.breaker
        deadline = self._deadline()
        wake = min(breaker.next_probe_at(), breaker.expires_at())
        if deadline is not None:
            wake = min(wake, deadline)
        await asyncio.sleep(max(0.0, wake - loop.time()))
        if not breaker.is_open or breaker.expired(loop.time()):
            return
        if deadline is not None and loop.time() >= deadline:
            return
        if await self._send_probe(self.probe_url or url):
            self.answered()
        else:
            breaker.probe_failed()

    def _error(self, url: str) -> TransportError:
        tolerance = self.breaker.tolerance_s
        return TransportError(
            f"the server was unreachable for longer than the outage tolerance ({tolerance:g}s); "
            "not read. Run again when it is back, or raise --outage-tolerance",
            url=self._redact(url),
            code="outage",
        )
