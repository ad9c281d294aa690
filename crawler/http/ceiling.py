"""The ``--rate`` ceiling on request starts: a leaky bucket drawn a group at a time."""

from __future__ import annotations

import asyncio

from aiolimiter import AsyncLimiter

from crawler.protocol.pacing import ceiling_shape


class Ceiling:
    """The ``--rate`` ceiling: aiolimiter's leaky bucket, drawn a group of requests at a time.

    One task draws a group from the bucket (``AsyncLimiter.acquire(group)``) while the
    others queue on a lock; each request then takes one of the group. Waking the event
    loop once per group instead of once per request saves most of the limiter's CPU.
    """

    def __init__(self, rate: float) -> None:
        burst, self.group = ceiling_shape(rate)
        self.limiter = AsyncLimiter(burst, burst / rate)
        self.left = 0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        """Wait until one more request may start."""
        if self.left:
            self.left -= 1
            return
        async with self._lock:
            if not self.left:
                await self.limiter.acquire(self.group)
                self.left = self.group
            self.left -= 1
