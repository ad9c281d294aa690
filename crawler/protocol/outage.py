"""One outage state for the whole crawl (a circuit breaker): pure decisions, the client does I/O.

When the server stops answering (connections refused or reset, connect timeouts, 502/503/504
without ``Retry-After``) for several requests in a row, retrying each request on its own
backoff spends every retry budget against a server that is simply away. Instead the
breaker *opens*: no request is sent, one probe goes out on a capped exponential backoff,
and the first answer of any kind *closes* it and lets everyone go again. While it is open
no request's own retry budget is spent. It gives up once it has been open longer than the
outage tolerance; from then on every request fails at once with code ``outage``.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTAGE_STATUSES = frozenset({502, 503, 504})
OPEN_AFTER = 3  # connection-level failures in a row, with no answer between them
PROBE_BASE_S = 0.25
PROBE_CAP_S = 4.0


def is_outage_status(status: int, has_retry_after: bool) -> bool:
    """A gateway or availability error without ``Retry-After``: the server may be away.

    With ``Retry-After`` the server is there and says when to come back: that is a pause,
    not an outage.
    """
    return status in OUTAGE_STATUSES and not has_retry_after


def probe_delay(probes: int, *, base: float = PROBE_BASE_S, cap: float = PROBE_CAP_S) -> float:
    """Seconds before probe number ``probes`` (0 = the first): doubling from ``base`` to ``cap``."""
    return min(cap, base * float(2 ** min(probes, 30)))


@dataclass(slots=True)
class Breaker:
    """The crawl's outage state; times are monotonic seconds supplied by the caller."""

    tolerance_s: float
    open_after: int = OPEN_AFTER
    failures: int = 0  # connection-level failures since the last answer
    opened_at: float | None = None
    probes: int = 0  # probes sent in this outage
    given_up: bool = False
    outages: int = 0  # outages seen in the whole crawl
    outage_s: float = 0.0  # seconds spent open, over the whole crawl

    @property
    def is_open(self) -> bool:
        """True while requests must not be sent (open, or given up for good)."""
        return self.opened_at is not None or self.given_up

    def failure(self, now: float) -> bool:
        """Note a connection-level failure; True when the breaker is open after it."""
        if self.given_up:
            return True
        self.failures += 1
        if self.opened_at is None and self.failures >= self.open_after:
            self.opened_at = now
            self.probes = 0
            self.outages += 1
        return self.opened_at is not None

    def answered(self, now: float) -> float | None:
        """Note an answer from the server; the outage's length when this closes the breaker."""
        self.failures = 0
        if self.opened_at is None or self.given_up:
            return None
        length = max(0.0, now - self.opened_at)
        self.outage_s += length
        self.opened_at = None
        self.probes = 0
        return length

    def next_probe_at(self) -> float:
        """When the next probe may go (only meaningful while open)."""
        assert self.opened_at is not None
        return self.opened_at + sum(probe_delay(n) for n in range(self.probes + 1))

    def probe_failed(self) -> None:
        """Note that a probe got no answer."""
        self.probes += 1

    def expires_at(self) -> float:
        """When this outage has lasted longer than the tolerance (only while open)."""
        assert self.opened_at is not None
        return self.opened_at + self.tolerance_s

    def expired(self, now: float) -> bool:
        """True (and from now on given up) when the outage outlasted the tolerance."""
        if self.given_up:
            return True
        if self.opened_at is not None and now >= self.expires_at():
            self.given_up = True
            self.outage_s += max(0.0, now - self.opened_at)
        return self.given_up

    def reset(self) -> None:
        """Forget an outage given up on (the server answered a later check): closed again."""
        self.given_up = False
        self.opened_at = None
        self.failures = 0
        self.probes = 0

    def unreachable_for(self, now: float) -> float | None:
        """Seconds the server has been unreachable, or None when it answers."""
        return None if self.opened_at is None else max(0.0, now - self.opened_at)
