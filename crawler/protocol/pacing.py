"""When the next request may start: one shared schedule built from what the server says, no I/O.

All tasks of a crawl ask the same :class:`Pacer`. Its schedule is two numbers: the end of
the shared pause (set by ``Retry-After`` on a 429 or a 503, for exactly that long: the
latest answer wins) and the spacing between request starts (the larger of what
``X-RateLimit-Delay`` and a low ``X-RateLimit-Remaining`` ask for). A request may start at
``max(pause end, last start + spacing)``; nothing is booked ahead, so a waiting request
re-reads the schedule whenever it changes and leaves as soon as the new one allows.

The ``Remaining``/``Reset`` signal is bounded and self-correcting: it is never read from a
429 (those headers describe the blocked state); below a fifth of the limit each answer whose
``Remaining`` is still falling widens the spacing a step and each answer where it holds or
rises narrows it, so the crawl settles at the pace the budget refills, whatever model the
server follows; the spacing never exceeds what the budget sustains until ``Reset`` for the
cost of one request learnt from how much ``Remaining`` drops per answer of ours (never the
identity's whole usage divided by our request count: a job token's identity is shared with
every other pipeline run), nor one second; an answer above a fifth of the limit turns it off.
Docs: https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

from crawler.protocol.ado import RateLimit

LOW_WATER = 0.2  # Remaining below this share of the limit: pace pre-emptively
TARGET = 0.9  # aim at this share of the pace the budget sustains
MAX_BUDGET_SPACING_S = 1.0  # the pre-emptive signal never spaces requests further apart
COST_SAMPLES = 15  # recent drops of Remaining the cost estimate is the median of
MIN_BUDGET_SPACING_S = 0.005  # the first step of pre-emptive pacing
STEP = (
    1.5  # each answer with Remaining still falling widens the spacing this much; others narrow it
)


HELD = 2  # requests the crawl lets the server hold (delay) at a time, in the long run


def delay_spacing(delay: float | None, in_flight: int) -> float:
    """Spacing asked for by ``X-RateLimit-Delay``: the server held a request ``delay`` seconds.

    A server that delays is letting requests through at its own pace, one every
    ``delay / held`` seconds when it holds ``held`` of them. Starting one every
    ``delay / k`` seconds settles with about ``k`` requests held, each delayed ``k`` times
    the server's own spacing. ``k = min(in_flight, HELD)``: enough that the server never
    idles between two requests, few enough that the delays stay short (a server that
    blocks beyond some delay then never has to).
    """
    if not delay:
        return 0.0
    return delay / max(1, min(in_flight, HELD))


def budget_spacing(
    rate: RateLimit,
    *,
    now: float,
    cost: float | None,
    low_water: float = LOW_WATER,
    target: float = TARGET,
    cap: float = MAX_BUDGET_SPACING_S,
) -> float:
    """Spacing that keeps a low budget from running out before ``X-RateLimit-Reset``.

    Nothing while ``Remaining`` is at or above ``low_water`` of the limit, or while the
    cost of one of our requests is unknown. Below it: by ``Reset`` all usage has left the
    window, so about ``limit`` TSTUs can be spent until then, ``limit / cost`` requests;
    the crawl aims at ``target`` of that pace, never slower than one request per ``cap``.
    """
    limit, remaining = rate.limit, rate.remaining
    if not limit or remaining is None or remaining >= limit * low_water or not cost:
        return 0.0
    until_reset = max(0.0, (rate.reset or now) - now)
    return min(cap, until_reset * cost / (target * limit))


@dataclass(slots=True)
class CostMeter:
    """What one of our requests costs in TSTUs, from drops of ``Remaining`` between answers.

    Each answer of ours is one request further; a drop between two consecutive answers is
    that request's cost plus whatever others spent meanwhile, minus what left the window,
    so rises are ignored and the median of recent drops is kept (others' usage inflates
    single drops only). Usage spent before our first answer is never charged to us.
    """

    previous: float | None = None
    drops: deque[float] = field(default_factory=lambda: deque(maxlen=COST_SAMPLES))

    def observe(self, remaining: float | None) -> None:
        """Note the ``Remaining`` of one answer (None: the answer had no budget headers)."""
        if remaining is None:
            return
        if self.previous is not None and remaining < self.previous:
            self.drops.append(self.previous - remaining)
        self.previous = remaining

    @property
    def cost(self) -> float | None:
        """The estimated cost of one request, or None before any drop was seen."""
        return statistics.median(self.drops) if self.drops else None


@dataclass(slots=True)
class Pacer:
    """The shared schedule of request starts (times are monotonic seconds)."""

    pause_end: float = 0.0
    delay_gap: float = 0.0
    budget_gap: float = 0.0
    last_start: float = -math.inf
    meter: CostMeter = field(default_factory=CostMeter)

    @property
    def spacing(self) -> float:
        """Seconds between two request starts, at least."""
        return max(self.delay_gap, self.budget_gap)

    def ready_at(self) -> float:
        """The earliest moment the next request may start."""
        return max(self.pause_end, self.last_start + self.spacing)

    def wait_for(self, now: float) -> float:
        """Seconds until the next request may start (0 when it may start now)."""
        return max(0.0, self.ready_at() - now)

    def try_start(self, now: float) -> bool:
        """Start a request now if the schedule allows it (and remember the start)."""
        if now < self.ready_at():
            return False
        self.last_start = now
        return True

    def pause(self, now: float, seconds: float) -> None:
        """Hold every request ``seconds`` from ``now``: the server's latest word replaces any
        earlier pause, longer or shorter."""
        self.pause_end = now + max(0.0, seconds)

    def observe(
        self, status: int, rate: RateLimit, *, now: float, wall: float, in_flight: int
    ) -> None:
        """Update the spacing from one answer's headers (``now`` monotonic, ``wall`` Unix time).

        A 429's budget headers describe the blocked request, so they are ignored (its
        ``Retry-After`` is the caller's :meth:`pause`); so are answers that are not 2xx.
        """
        if not 200 <= status < 300:
            return
        low = rate.limit and rate.remaining is not None and rate.remaining < rate.limit * LOW_WATER
        if rate.delay or not low:
            self.delay_gap = delay_spacing(rate.delay, in_flight)
        else:
            # Not delayed, but the budget is low: an answer the server sent before it began
            # delaying others may arrive late; narrow the spacing a step instead of dropping it.
            self.delay_gap /= STEP
        previous = self.meter.previous
        self.meter.observe(rate.remaining)
        ceiling = budget_spacing(rate, now=wall, cost=self.meter.cost)
        if ceiling <= 0 or rate.remaining is None:
            self.budget_gap = 0.0  # room again (or no budget to go by): no pre-emptive pacing
        elif previous is not None and rate.remaining < previous:
            # Still falling: slow down step by step, up to what the budget sustains.
            self.budget_gap = min(ceiling, max(self.budget_gap * STEP, MIN_BUDGET_SPACING_S))
        else:
            self.budget_gap = min(ceiling, self.budget_gap / STEP)  # holding or refilling


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
