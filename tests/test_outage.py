"""A server that goes away: one outage state for the whole crawl, over real loopback HTTP.

The emulator plays the outage as a real listener stop and start on the same port
(``FaultConfig.outage_after`` / ``outage_s``); the breaker's decisions are tested pure.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from crawler.crawl.plan import CrawlState
from crawler.emulator.config import EmulatorConfig, FaultConfig
from crawler.emulator.faults import OUTAGE_KEY
from crawler.emulator.server import run_emulator
from crawler.http.stats import Stats
from crawler.progress import Progress, outage_text
from crawler.protocol.outage import Breaker, is_outage_status, probe_delay
from tests.crawl_helpers import assert_matches_ground_truth, crawl

ORG = EmulatorConfig(
    seed=5, projects=10, repos_per_project=2, pipelines_per_project=30, page_size=5
)

# -- the breaker's decisions (pure) ---------------------------------------------------------


def test_the_breaker_opens_after_failures_in_a_row_and_an_answer_closes_it() -> None:
    breaker = Breaker(tolerance_s=60)
    assert not breaker.failure(0.0)
    assert not breaker.failure(0.1)
    breaker.answered(0.2)  # an answer between failures: the server is there
    assert not breaker.failure(0.3)
    assert not breaker.failure(0.4)
    assert breaker.failure(0.5)
    assert breaker.is_open
    assert breaker.unreachable_for(2.5) == pytest.approx(2.0)
    assert breaker.answered(12.5) == pytest.approx(12.0)
    assert not breaker.is_open
    assert breaker.outages == 1
    assert breaker.outage_s == pytest.approx(12.0)


def test_probes_back_off_to_a_cap_and_the_tolerance_gives_up_for_good() -> None:
    assert [probe_delay(n) for n in range(7)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    breaker = Breaker(tolerance_s=20, open_after=1)
    breaker.failure(100.0)
    assert breaker.next_probe_at() == pytest.approx(100.25)
    breaker.probe_failed()
    assert breaker.next_probe_at() == pytest.approx(100.75)
    assert not breaker.expired(119.9)
    assert breaker.expired(120.0)
    assert breaker.is_open
    assert breaker.given_up
    assert breaker.answered(121.0) is None  # too late: the run already gave up
    assert breaker.failure(122.0)


def test_gateway_errors_without_retry_after_count_as_unreachable() -> None:
    assert is_outage_status(502, False)
    assert is_outage_status(503, False)
    assert is_outage_status(504, False)
    assert not is_outage_status(503, True)  # the server is there and says when
    assert not is_outage_status(500, False)
    assert not is_outage_status(429, False)


def test_progress_says_how_long_the_server_is_away_and_how_long_we_wait() -> None:
    stats = Stats(unreachable_since=100.0, outage_tolerance_s=600.0)
    assert outage_text(stats, 112.2) == "server unreachable for 12 s, waiting (up to 600 s)"
    assert outage_text(Stats(), 112.2) == ""


async def test_pipeline_progress_warns_once_per_outage() -> None:
    loop = asyncio.get_running_loop()
    stats = Stats(unreachable_since=loop.time() - 12.2, outage_tolerance_s=600.0)
    out, err = io.StringIO(), io.StringIO()
    progress = Progress(stats, CrawlState(), mode="pipeline", stream=err, out=out)
    progress.start()
    progress.draw()
    progress.draw()
    await progress.stop()
    lines = out.getvalue().splitlines()
    warnings = [line for line in lines if line.startswith("##vso[task.logissue")]
    assert warnings == [
        "##vso[task.logissue type=warning;]server unreachable for 12 s, waiting (up to 600 s)"
    ]
    assert "##vso[task.setprogress value=0;]server unreachable for 12 s" in lines[1]
    assert "server unreachable for 12 s, waiting (up to 600 s) · projects" in err.getvalue()


# -- the emulator plays it -----------------------------------------------------------------


async def test_the_emulator_refuses_connections_during_an_outage_then_answers_again() -> None:
    config = replace(ORG, faults=FaultConfig(outage_after=2, outage_s=0.5))
    async with run_emulator(config) as emu:
        url = f"{emu.url}/_apis/projects?api-version=7.1"
        headers = {"Authorization": f"Bearer {emu.config.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(2):
                async with session.get(url) as resp:
                    assert resp.status == 200
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get(url) as resp:  # reset: the outage begins
                    await resp.read()
            await asyncio.sleep(0.05)
            with pytest.raises(aiohttp.ClientConnectorError):  # nobody listens
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)):
                    pass
            outage = emu.app[OUTAGE_KEY]
            for _ in range(40):  # bounded: 2 s at most
                if outage.ended_at is not None:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.05)
            async with session.get(url) as resp:  # the same port, listening again
                assert resp.status == 200
    assert outage.ended_at is not None
    assert outage.started_at is not None
    assert outage.ended_at - outage.started_at == pytest.approx(0.5, abs=0.2)


# -- the crawler waits it out, or gives up at the tolerance ------------------------------


async def test_an_outage_costs_time_not_items_and_no_retry_budget(tmp_path: Path) -> None:
    config = replace(ORG, faults=FaultConfig(outage_after=40, outage_s=2.0))
    async with run_emulator(config) as emu:
        started = time.monotonic()
        # One retry per request: without the breaker every request caught by the outage
        # would give up after its second failure.
        result, snapshot = await crawl(
            emu, tmp_path, rate=200.0, concurrency=8, max_retries=1, outage_tolerance_s=20.0
        )
        took = time.monotonic() - started
        truth = emu.ground_truth()
    assert result.exit_code == 0, snapshot["errors"]
    assert snapshot["complete"] is True
    assert_matches_ground_truth(snapshot, truth)
    stats = snapshot["stats"]
    assert stats["outages"] == 1
    assert 1.9 <= stats["outage_s"] <= 2.0 + 4.5  # found back within one capped probe backoff
    assert stats["outage_probes"] >= 1
    assert took <= 2.0 + 4.5 + 3.0


async def test_an_outage_past_the_tolerance_ends_partial_with_outage_errors(
    tmp_path: Path,
) -> None:
    config = replace(ORG, faults=FaultConfig(outage_after=40, outage_s=30.0))
    output = tmp_path / "inventory.json"
    output.write_text('{"old": "snapshot"}')
    async with run_emulator(config) as emu:
        outage = emu.app[OUTAGE_KEY]
        started = time.monotonic()
        task = asyncio.create_task(
            crawl(emu, tmp_path, rate=200.0, concurrency=8, outage_tolerance_s=1.5)
        )
        for _ in range(100):  # bounded: 5 s at most
            if outage.started_at is not None or task.done():
                break
            await asyncio.sleep(0.05)
        assert outage.active
        assert output.read_text() == '{"old": "snapshot"}'  # untouched while the run waits
        result, snapshot = await task
        took = time.monotonic() - started
    assert result.exit_code == 4
    assert snapshot["complete"] is False
    assert took <= 1.5 + 5.0
    assert snapshot["errors"]
    assert {e["code"] for e in snapshot["errors"]} == {"outage"}
    assert "outage_tolerance_s" in result.summary or "--outage-tolerance" in result.summary


async def test_gateway_errors_from_every_request_are_an_outage_too(tmp_path: Path) -> None:
    # For 1.5 s after the 20th request, every answer is a 502 gateway page without
    # Retry-After (a load balancer with nothing behind it).
    seen = 0
    away: list[float] = []

    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal seen
        seen += 1
        now = time.monotonic()
        if seen == 20:
            away.append(now)
        if away and now < away[0] + 1.5:
            return web.Response(
                status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"
            )
        return await handler(request)

    async with run_emulator(ORG, middlewares=[gateway]) as emu:
        result, snapshot = await crawl(
            emu, tmp_path, rate=200.0, concurrency=8, max_retries=1, outage_tolerance_s=20.0
        )
        truth = emu.ground_truth()
    assert result.exit_code == 0, snapshot["errors"]
    assert_matches_ground_truth(snapshot, truth)
    assert snapshot["stats"]["outages"] == 1
    assert snapshot["stats"]["outage_s"] >= 1.0
