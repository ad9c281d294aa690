"""Throttling over real loopback HTTP: the crawl costs what the server asks, never more.

Each test crawls an emulated organization whose throttle model disagrees with a naive
client (crawler/emulator/throttle.py) and checks the server's own request log.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

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


def _answer_once(
    status: int | None, headers: dict[str, str], *, at: int, others_wait: float = 0.0
) -> Middleware:
    """A middleware that gives the ``at``-th definitions request ``status`` (None: the real
    answer) with ``headers`` added; the other ones are answered ``others_wait`` later."""
    seen = 0

    @web.middleware
    async def once(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal seen
        if "/_apis/build/" not in request.path:
            return await handler(request)
        seen += 1
        if seen != at:
            await asyncio.sleep(others_wait)
            return await handler(request)
        response = await handler(request) if status is None else web.Response(status=status)
        response.headers.update(headers)
        return response

    return once


async def test_a_shrinking_spacing_frees_waiting_requests_at_once(tmp_path: Path) -> None:
    # One answer says the server held it 6 s (a spacing of 3 s); the next ones say nothing.
    # Requests already waiting for that spacing must go as soon as it is lifted.
    seen = 0

    @web.middleware
    async def held(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal seen
        if "/_apis/build/" not in request.path:
            return await handler(request)
        seen += 1
        if seen == 2:  # answered at once, with the long delay
            response = await handler(request)
            response.headers["X-RateLimit-Delay"] = "6"
            return response
        await asyncio.sleep(0.1)  # the others answer later, saying nothing
        return await handler(request)

    config = replace(ORG, projects=8, page_size=50)
    async with run_emulator(config, middlewares=[held]) as emu:
        started = time.monotonic()
        result, snapshot = await crawl(emu, tmp_path, concurrency=4)
        took = time.monotonic() - started
    assert result.exit_code == 0, snapshot["errors"]
    assert took < 2.0  # not 3 s per request still booked behind the old spacing


async def test_a_later_shorter_retry_after_ends_the_pause_early(tmp_path: Path) -> None:
    # A 429 asks for 5 s; the next answer (a 503 with Retry-After: 0) says come back now.
    long = _answer_once(429, {"Retry-After": "5"}, at=2, others_wait=0.1)  # those in flight
    short = _answer_once(503, {"Retry-After": "0"}, at=3)
    config = replace(ORG, projects=8, page_size=50)
    async with run_emulator(config, middlewares=[long, short]) as emu:
        started = time.monotonic()
        result, snapshot = await crawl(emu, tmp_path, concurrency=4)
        took = time.monotonic() - started
    assert result.exit_code == 0, snapshot["errors"]
    assert snapshot["stats"]["throttled"] == 1
    assert took < 2.5  # the server's latest word, not the longest pause ever asked for
