"""One shared schedule for request starts: a throttle pause and a spacing, no I/O.

All tasks of a crawl ask the same ``Pacer`` when they may send. A 429 sets one shared
``resume_at`` (so N parallel tasks wait once together, not N times independently),
and a low ``X-RateLimit-Remaining`` sets a minimum spacing between request starts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Pacer:
    """Decides how long a request must wait before it starts (times are monotonic seconds)."""

    resume_at: float = 0.0
    interval: float = 0.0
    next_slot: float = 0.0

    def reserve(self, now: float) -> float:
        """Book the next start slot and return how long to wait for it."""
        slot = max(now, self.resume_at)
        if self.interval > 0:
            slot = max(slot, self.next_slot)
            self.next_slot = slot + self.interval
        return slot - now

    def pause_until(self, when: float) -> None:
        """Hold every request until ``when`` (a shared pause after a 429)."""
        self.resume_at = max(self.resume_at, when)

    def set_interval(self, seconds: float) -> None:
        """Space request starts at least ``seconds`` apart (0 turns spacing off)."""
        self.interval = max(0.0, seconds)


def ceiling_shape(rate: float) -> tuple[float, int]:
    """The leaky bucket behind ``--rate``: (bucket size, requests let out per wake-up).

    The bucket holds 50 ms of requests: a bucket of one loses every late wake-up of the
    event loop for good (``--rate 1000`` gave ~600/s). Requests leave it in groups of
    10 ms worth, so a fast crawl wakes the loop about 100 times a second, not once per
    request. Any one-second window still sees at most ``rate`` plus 6%.
    """
    burst = max(1.0, rate * 0.05)
    group = max(1, min(int(burst), round(rate * 0.01)))
    return burst, group
