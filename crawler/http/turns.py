"""When each request may start: the shared pacing schedule (throttling spacing and pauses)
and the ``--rate`` ceiling, waited on together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from crawler.http.ceiling import Ceiling
from crawler.http.stats import Stats
from crawler.protocol.ado import RateLimit
from crawler.protocol.errors import AdoError
from crawler.protocol.pacing import Pacer


class Turns:
    """The start schedule every request of one client waits on (see
    :mod:`crawler.protocol.pacing`)."""

    def __init__(
        self,
        rate: float,
        stats: Stats,
        *,
        deadline: Callable[[], float | None],
        redact: Callable[[str], str],
    ) -> None:
        self._pacer = Pacer()
        # The requests-per-second ceiling (see pacing.ceiling_shape).
        self._ceiling = Ceiling(rate)
        # Replaced (after being set) whenever the schedule changes: waiters re-read it then.
        self._changed = asyncio.Event()
        self._stats = stats
        self._deadline = deadline
        self._redact = redact

    def pause(self, now: float, seconds: float) -> None:
        """One shared pause: every request waits for the same moment."""
        self._pacer.pause(now, seconds)
        self._reschedule()

    def observe(self, status: int, rate: RateLimit, *, now: float, wall: float) -> None:
        """Let an answer's throttling headers set the spacing of request starts."""
        pacer = self._pacer
        before = pacer.spacing
        pacer.observe(status, rate, now=now, wall=wall, in_flight=self._stats.in_flight + 1)
        if pacer.spacing < before:
            self._reschedule()  # a shrinking spacing frees waiting requests at once

    def _reschedule(self) -> None:
        """Wake every request waiting for its turn, so that it reads the new schedule."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, url: str) -> None:
        """Wait until the shared schedule and the rate ceiling both let this request start.

        Nothing is booked ahead: a waiting request sleeps until the schedule's next start
        or until the schedule changes, whichever comes first, then reads it again. The
        schedule is asked again after the ceiling, since a 429 may have paused everyone
        while this request queued there.
        """
        loop = asyncio.get_running_loop()
        pacer = self._pacer
        while True:
            now = loop.time()
            wait = pacer.wait_for(now)
            if wait <= 0:
                await self._ceiling.take()
                if pacer.try_start(loop.time()):
                    return
                continue
            deadline = self._deadline()
            if deadline is not None and now + wait > deadline:
                raise AdoError(
                    "the run's deadline passed while waiting for the throttling pause to end",
                    url=self._redact(url),
                    code="deadline",
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await changed.wait()
            self._stats.wait_s += loop.time() - now
