"""The counters of a crawl (requests, retries, outages, items), kept by the client and read by
the progress line and the snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    """Counters a crawl reports in its snapshot and progress line."""

    requests: int = 0
    responses: int = 0
    pages: int = 0
    retries: int = 0
    throttled: int = 0
    wait_s: float = 0.0
    bytes: int = 0
    in_flight: int = 0
    outages: int = 0  # times the server was unreachable for several requests in a row
    outage_s: float = 0.0  # seconds it was unreachable, in all
    outage_probes: int = 0  # requests sent to see whether it is back
    unreachable_since: float | None = None  # loop time the current outage began, if any
    outage_tolerance_s: float = 0.0
    second_pass_retried: int = 0  # scopes that failed for transient reasons, asked again
    second_pass_recovered: int = 0  # of those, read in full the second time
    first_sent: float | None = None  # loop time the first request went out
    last_received: float | None = None  # loop time the last response was complete
    items: dict[str, int] = field(default_factory=dict)

    @property
    def window_s(self) -> float:
        """Seconds from the first request sent to the last response received."""
        if self.first_sent is None or self.last_received is None:
            return 0.0
        return max(0.0, self.last_received - self.first_sent)
