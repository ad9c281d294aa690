"""The benchmark scenarios and the pure arithmetic around them: sizes, lower bounds, windows.

Nothing here does I/O: a ``Scenario`` says which emulated organization to serve and how
to crawl it; the functions compute what a perfect crawler could not beat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from crawler.emulator.config import EmulatorConfig, ThrottleConfig

KINDS = ("latency", "rate", "throttle", "scale", "baseline")
# The scale scenarios measure the crawler's own CPU and memory, so their ceiling must not
# bind: at --rate 1000 the 4,020 requests would need 4 s, longer than the crawl's CPU
# work, and the rate-capped wake-ups (measured by rate-capped) would be counted as well.
SCALE_RATE = 10_000


@dataclass(frozen=True, slots=True)
class Scenario:
    """One benchmark scenario: the emulated org, the crawler's flags, what bounds it."""

    name: str
    kind: str  # one of KINDS
    description: str
    emulator: EmulatorConfig
    concurrency: int
    rate: float
    page_size: int
    warm_up: bool = True  # one unmeasured crawl first, so every measured run hits warm pages
    fresh_emulator_per_run: bool = False  # a throttle budget must start empty every run

    def crawl_flags(self) -> list[str]:
        """The crawler's command-line flags for this scenario (besides --org and -o)."""
        return [
            "--concurrency",
            str(self.concurrency),
            "--rate",
            f"{self.rate:g}",
            "--page-size",
            str(self.page_size),
            "--progress",
            "none",
            "--quiet",
        ]

    def warm_up_flags(self) -> list[str]:
        """Flags of the unmeasured warm-up crawl: as fast as the emulator allows."""
        return [*self.crawl_flags(), "--concurrency", "32", "--rate", "1000"]


@dataclass(frozen=True, slots=True)
class Shape:
    """How many requests and items one full crawl of an emulated org takes."""

    project_pages: int
    repo_requests: int
    definition_pages: int  # over all projects
    definition_pages_per_project: int
    projects: int
    repositories: int
    pipelines: int
    # connectionData once, then one pipeline general settings request per project
    identity_requests: int = 1
    settings_requests: int = 0

    @property
    def requests(self) -> int:
        """Requests of a crawl without retries."""
        core = self.project_pages + self.repo_requests + self.definition_pages
        return core + self.identity_requests + self.settings_requests

    @property
    def items(self) -> int:
        """Items in a complete snapshot (one pipeline_settings item per project)."""
        return self.projects + self.repositories + self.pipelines + self.settings_requests

    @property
    def critical_path(self) -> int:
        """Sequential requests on the longest chain: every projects page, then the last
        project's definition pages (connectionData and its other listings run beside them)."""
        return self.project_pages + max(1, self.definition_pages_per_project)


def pages(items: int, page: int) -> int:
    """Pages a listing of ``items`` takes (an empty listing is still one request)."""
    return max(1, math.ceil(items / page))


def shape(config: EmulatorConfig, crawler_page_size: int) -> Shape:
    """The request and item counts of a complete crawl of ``config``."""
    page = max(1, min(config.page_size, crawler_page_size))
    per_project = pages(config.pipelines_per_project, page)
    return Shape(
        project_pages=pages(config.projects, page),
        repo_requests=config.projects,
        definition_pages=config.projects * per_project,
        definition_pages_per_project=per_project,
        projects=config.projects,
        repositories=config.projects * config.repos_per_project,
        pipelines=config.projects * config.pipelines_per_project,
        settings_requests=config.projects,
    )


def latency_bound_s(requests: int, critical_path: int, latency_s: float, concurrency: int) -> float:
    """No crawl beats both the concurrency limit and its longest sequential chain."""
    return max(requests * latency_s / concurrency, critical_path * latency_s)


def rate_bound_s(requests: int, rate: float) -> float:
    """A crawl paced at ``rate`` requests per second needs at least this long."""
    return requests / rate


def budget_bound_s(requests: int, throttle: ThrottleConfig) -> float:
    """The shortest time a sliding-window budget lets ``requests`` (each ``cost``) through.

    At most ``limit / cost`` requests fit in any window of ``window_s`` seconds, so every
    further batch of that size waits one more window.
    """
    per_window = max(1, math.floor(throttle.limit / throttle.cost))
    return max(0, math.ceil(requests / per_window) - 1) * throttle.window_s


def busiest_window(times: Sequence[float], width_s: float = 1.0) -> int:
    """The largest number of ``times`` inside any half-open window ``[t, t + width_s)``."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= width_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def _org(projects: int, repos: int, pipelines: int, page: int, **extra: object) -> EmulatorConfig:
    return replace(
        EmulatorConfig(),
        projects=projects,
        repos_per_project=repos,
        pipelines_per_project=pipelines,
        page_size=page,
        **extra,  # type: ignore[arg-type]
    )


def scenarios(quick: bool = False) -> list[Scenario]:
    """Every scenario in the order ``make bench`` runs them; ``quick`` = tiny smoke sizes."""
    if quick:
        latency_org = _org(4, 2, 12, 5, latency_ms=5.0)
        rate_org = _org(3, 2, 10, 5)
        throttle = ThrottleConfig(limit=8, window_s=1.0, max_delay_s=0.2)
        throttle_org = _org(3, 2, 10, 5, throttle=throttle)
        big, small = _org(6, 3, 20, 10), _org(2, 3, 20, 10)
        rate, page = 100.0, 5
    else:
        # ~2,000 requests of small pages: 10 project pages + 100 repository listings +
        # 100 x 18 definition pages = 1,910. Page size 10 keeps the crawl latency-bound
        # (18,600 items), not CPU-bound as 2,000 pages of 100 full definitions would be.
        latency_org = _org(100, 5, 180, 10, latency_ms=40.0)
        rate_org = _org(100, 5, 90, 10)  # 10 + 100 + 900 = 1,010 requests
        # 303 requests against 100 TSTU per 5 s: the crawl needs at least two more windows.
        # ADO delays for seconds in a 5-minute window; scaled to 5 s that is a fraction.
        throttle = ThrottleConfig(limit=100, window_s=5.0, max_delay_s=0.25)
        throttle_org = _org(30, 5, 90, 10, throttle=throttle)
        big, small = _org(2000, 10, 50, 100), _org(200, 10, 50, 100)
        rate, page = 50.0, 10
    return [
        Scenario(
            "latency-bound",
            "latency",
            f"{latency_org.latency_ms:g} ms per request, --concurrency 32",
            latency_org,
            concurrency=32,
            rate=1000,
            page_size=page,
        ),
        Scenario(
            "rate-capped",
            "rate",
            f"--rate {rate:g}, no server latency",
            rate_org,
            concurrency=16,
            rate=rate,
            page_size=page,
        ),
        Scenario(
            "throttled",
            "throttle",
            f"identity budget {throttle.limit:g} TSTU per {throttle.window_s:g} s",
            throttle_org,
            concurrency=16,
            rate=1000,
            page_size=page,
            warm_up=False,
            fresh_emulator_per_run=True,
        ),
        Scenario(
            "scale-100k",
            "scale",
            f"{big.projects * big.pipelines_per_project:,} full definitions, no latency",
            big,
            concurrency=16,
            rate=SCALE_RATE,
            page_size=100,
        ),
        Scenario(
            "scale-10k",
            "scale",
            f"{small.projects * small.pipelines_per_project:,} full definitions, no latency",
            small,
            concurrency=16,
            rate=SCALE_RATE,
            page_size=100,
        ),
        Scenario(
            "baseline",
            "baseline",
            "the latency-bound org, one request at a time (--concurrency 1)",
            latency_org,
            concurrency=1,
            rate=1000,
            page_size=page,
        ),
    ]


def select(names: Sequence[str], quick: bool = False) -> list[Scenario]:
    """The scenarios named (all when none); ValueError naming an unknown one."""
    every = scenarios(quick)
    if not names:
        return every
    by_name = {s.name: s for s in every}
    aliases = {"scale": [s.name for s in every if s.kind == "scale"]}
    chosen: list[Scenario] = []
    for name in names:
        if name in by_name:
            wanted = [name]
        elif name in aliases:
            wanted = aliases[name]
        else:
            known = ", ".join([*by_name, "scale"])
            raise ValueError(f"unknown scenario {name!r}; choose from {known}")
        chosen.extend(by_name[n] for n in wanted if by_name[n] not in chosen)
    return chosen
