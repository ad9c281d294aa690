"""Throttling over real loopback HTTP: the crawl costs what the server asks, never more.

Each test crawls an emulated organization whose throttle model disagrees with a naive
client (crawler/emulator/throttle.py) and checks the server's own request log.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from crawler.emulator.config import EmulatorConfig, ThrottleConfig
from crawler.emulator.server import run_emulator
from crawler.emulator.state import state_of
from tests.crawl_helpers import assert_matches_ground_truth, crawl

ORG = EmulatorConfig(seed=21, projects=30, repos_per_project=1, pipelines_per_project=30)


def _arrivals(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t < end)


async def test_after_a_429_burst_the_rate_is_back_within_retry_after_plus_one_second(
    tmp_path: Path,
) -> None:
    # A full budget at 100 requests/s, then 1.5 s of 429s from another resource (DBCPU)
    # with Retry-After: 1, Remaining: 0 and a Reset 300 s away.
    throttle = ThrottleConfig(model="burst", burst_after=100, burst_s=1.5, burst_retry_after=1)
    config = replace(ORG, page_size=5, throttle=throttle)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, rate=100.0, concurrency=8)
        truth = emu.ground_truth()
        log = [e for e in emu.log.entries if "/_apis/" in e.path]
    assert result.exit_code == 0, snapshot["errors"]
    assert_matches_ground_truth(snapshot, truth)
    blocked = [e.time for e in log if e.status == 429]
    times = [e.time for e in log]
    assert blocked, "the burst must block some requests"
    assert snapshot["stats"]["throttled"] == len(blocked)
    before = _arrivals(times, blocked[0] - 1.0, blocked[0])
    back = blocked[-1] + 1.0  # the last 429's Retry-After
    after = _arrivals(times, back, back + 1.0)
    assert before >= 80
    assert after >= 0.8 * before, (before, after)
    # One shared pause per 429 wave, not one per request: a handful of 429s in all.
    assert len(blocked) <= 8 * 2


async def test_token_bucket_crawl_runs_at_the_buckets_rate(tmp_path: Path) -> None:
    # 200 requests/s, delays up to 0.2 s when empty, then 429 + Retry-After: 1; Reset is
    # always 300 s away. A crawl that trusted Reset or Delay too much would crawl far slower.
    rate = 200.0
    throttle = ThrottleConfig(model="bucket", rate=rate, bucket_size=10, max_delay_s=0.2)
    config = replace(ORG, page_size=3, throttle=throttle)
    async with run_emulator(config) as emu:
        started = time.monotonic()
        result, snapshot = await crawl(emu, tmp_path, rate=1000.0, concurrency=16)
        took = time.monotonic() - started
        stats = state_of(emu.app).throttle_stats
    assert result.exit_code == 0, snapshot["errors"]
    assert stats is not None
    answered = stats.requests - stats.exempt - stats.blocked
    assert answered >= 300
    assert stats.delayed > 0, "the crawl must reach the bucket's limit"
    assert stats.blocked <= 0.05 * stats.requests
    assert took <= 1.5 * answered / rate + 1.0, (took, answered)
