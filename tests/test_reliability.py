"""What happens when things go wrong: faults, throttling, permanent failures, odd servers.

Every test crawls an emulated organization over loopback HTTP and checks what a user
would see: a snapshot equal to the ground truth, or exactly the expected errors.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from crawler.emulator.config import EmulatorConfig, FaultConfig, ThrottleConfig
from crawler.emulator.server import run_emulator
from crawler.emulator.state import state_of
from tests.crawl_helpers import assert_matches_ground_truth, crawl

SMALL = EmulatorConfig(seed=13, projects=4, repos_per_project=3, pipelines_per_project=12)

# -- transient faults: the crawl ends complete and equal to the ground truth ---------------

QUICK_KINDS = ["500", "html-502", "disconnect", "truncated-json", "invalid-json"]


def fault_matrix() -> Iterator[tuple[str, float, int]]:
    for kind in QUICK_KINDS:
        for rate in (0.15, 0.4):
            for page_size in (3, 50):
                yield kind, rate, page_size
    # Kinds that cost real time (a Retry-After of 1 s, a slow answer, a read timeout) once each.
    yield "503-retry-after", 0.15, 5
    yield "slow", 0.3, 5
    yield "stall", 0.15, 50


@pytest.mark.parametrize(("kind", "rate", "page_size"), list(fault_matrix()))
async def test_transient_faults_lose_nothing(
    tmp_path: Path, kind: str, rate: float, page_size: int
) -> None:
    faults = FaultConfig(rate=rate, kinds=(kind,), seed=3, slow_s=0.2, stall_s=3.0)
    config = replace(SMALL, page_size=page_size, faults=faults)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, timeout_s=1.0)
        truth = emu.ground_truth()
        injected = state_of(emu.app).fault_stats
    assert injected is not None
    assert injected.total > 0, "the scenario must inject faults"
    assert result.exit_code == 0, snapshot["errors"]
    assert snapshot["complete"] is True
    assert_matches_ground_truth(snapshot, truth)
    if kind != "slow":  # a slow answer is still a good one
        # Every fault is retried, or was the answer to an outage probe (502s in a row).
        stats = snapshot["stats"]
        answered = stats["retries"] + stats["outage_probes"]
        assert answered >= injected.total - injected.injected["slow"]


async def test_every_fault_kind_at_once(tmp_path: Path) -> None:
    config = replace(
        SMALL,
        projects=8,
        page_size=4,
        faults=FaultConfig(rate=0.15, seed=9, slow_s=0.1, stall_s=2.0),
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, timeout_s=1.0)
        truth = emu.ground_truth()
    assert result.exit_code == 0, snapshot["errors"]
    assert_matches_ground_truth(snapshot, truth)
    assert snapshot["stats"]["retries"] > 0


# -- throttling ------------------------------------------------------------------------------


async def test_throttled_crawl_is_complete_and_honours_retry_after(tmp_path: Path) -> None:
    config = replace(
        SMALL,
        projects=6,
        page_size=6,
        throttle=ThrottleConfig(limit=12, window_s=1.5, max_delay_s=0.2),
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, rate=200.0, concurrency=8)
        truth = emu.ground_truth()
        log = list(emu.log.entries)
    assert result.exit_code == 0
    assert_matches_ground_truth(snapshot, truth)
    blocked = [e for e in log if e.status == 429]
    assert blocked, "the budget must be tight enough to block"
    assert snapshot["stats"]["throttled"] == len(blocked)
    # One shared pause: after a 429 (Retry-After >= 1 s), no request arrives for a second,
    # apart from those already on the wire when the 429 was sent.
    first = blocked[0].time
    during = [e for e in log if first + 0.1 < e.time < first + 0.95]
    assert during == []
    # The crawler learns the pace: a handful of 429s after the first one at most.
    assert len(blocked) <= 5


async def test_client_slows_down_before_the_budget_runs_out(tmp_path: Path) -> None:
    # 41 requests against a budget of 30 per 2 s that delays from 70% on: a crawler that
    # did not read X-RateLimit-Remaining would send all 41 at once and collect 429s.
    config = replace(
        SMALL,
        projects=20,
        repos_per_project=1,
        pipelines_per_project=4,
        page_size=50,
        throttle=ThrottleConfig(limit=30, window_s=2.0, delay_from=0.7, max_delay_s=0.1),
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(
            emu, tmp_path, rate=1000.0, concurrency=4, resources="projects,repositories,pipelines"
        )
        log = list(emu.log.entries)
    assert result.exit_code == 0
    assert snapshot["stats"]["requests"] >= 41
    statuses = [e.status for e in log]
    assert statuses.count(429) <= 1
    # Before any 429: once Remaining is low, requests are spaced out, not sent back to back.
    # (Arrival order; the log is in order of completion, and delayed answers complete late.)
    first_429 = min((e.time for e in log if e.status == 429), default=float("inf"))
    before = sorted(e.time for e in log if e.time < first_429)
    gaps = [b - a for a, b in itertools.pairwise(before)]
    # The spacing is learnt from answers (Delay, a falling Remaining), never booked from one
    # observation, so the one 429 may come a few requests before the budget's exact edge.
    assert len(gaps) >= 24
    assert statistics.median(gaps[-4:]) > 5 * statistics.median(gaps[:10])


# -- permanent failures ----------------------------------------------------------------------


async def test_a_resource_that_keeps_failing_is_recorded_promptly(tmp_path: Path) -> None:
    async with run_emulator(SMALL) as probe:
        victim = probe.ground_truth()["projects"][1]
    config = replace(SMALL, faults=FaultConfig(permanent=(f"{victim['id']}/_apis/build",)))
    async with run_emulator(config) as emu:
        started = time.monotonic()
        result, snapshot = await crawl(
            emu, tmp_path, max_retries=3, resources="projects,repositories,pipelines"
        )
        took = time.monotonic() - started
        truth = emu.ground_truth()
    assert result.exit_code == 4
    assert snapshot["errors"] == [
        {
            "resource": "pipelines",
            "project": {"id": victim["id"], "name": victim["name"]},
            "item": None,
            "status": 500,
            "code": "retries_exhausted",
            "message": snapshot["errors"][0]["message"],
        }
    ]
    assert "4 attempts" in snapshot["errors"][0]["message"]
    others = [p for p in truth["pipelines"] if p["project"]["id"] != victim["id"]]
    assert sorted(p["id"] for p in snapshot["pipelines"]) == sorted(p["id"] for p in others)
    assert took < 5


async def test_the_overall_deadline_ends_a_slow_run(tmp_path: Path) -> None:
    config = replace(SMALL, projects=30, latency_ms=400)
    async with run_emulator(config) as emu:
        started = time.monotonic()
        result, snapshot = await crawl(emu, tmp_path, deadline_s=10.0, concurrency=1, timeout_s=2.0)
        took = time.monotonic() - started
    assert took < 13
    assert result.exit_code == 4
    assert {e["code"] for e in snapshot["errors"]} == {"deadline"}
    assert snapshot["projects"], "what was read before the deadline is kept"


# -- pathological servers --------------------------------------------------------------------


async def test_a_repeating_continuation_token_is_an_error_not_a_loop(tmp_path: Path) -> None:
    config = replace(SMALL, page_size=5, faults=FaultConfig(loop_token=("definitions",)))
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path)
        requests = emu.log.count
    assert result.exit_code == 4
    assert {(e["resource"], e["code"]) for e in snapshot["errors"]} == {
        ("pipelines", "looping_token")
    }
    assert len(snapshot["errors"]) == SMALL.projects
    assert requests < 50


async def test_a_listing_that_never_ends_stops_at_the_page_cap(tmp_path: Path) -> None:
    config = replace(SMALL, pipelines_per_project=40, page_size=2)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, max_pages=5)
    assert result.exit_code == 4
    assert {e["code"] for e in snapshot["errors"]} == {"page_cap"}


async def test_a_response_far_larger_than_expected_is_refused(tmp_path: Path) -> None:
    config = replace(SMALL, pipelines_per_project=60, page_size=60)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, max_response_mb=0.05)
    assert result.exit_code == 4
    assert {(e["resource"], e["code"]) for e in snapshot["errors"]} == {("pipelines", "too_large")}
    assert len(snapshot["repositories"]) == 4 * 3


async def test_a_server_that_stalls_after_headers_ends_in_bounded_time(tmp_path: Path) -> None:
    stall = FaultConfig(rate=1.0, kinds=("stall",), max_consecutive=100, stall_s=5.0)
    config = replace(SMALL, projects=1, faults=stall)
    async with run_emulator(config) as emu:
        started = time.monotonic()
        with pytest.raises(Exception, match="could not list projects") as exc:
            await crawl(emu, tmp_path, timeout_s=1.0, max_retries=1)
        took = time.monotonic() - started
    assert "TimeoutError" in str(exc.value) or "timeout" in str(exc.value).lower()
    assert took < 5


# -- token hygiene ---------------------------------------------------------------------------


def echo_token_middleware() -> web.middleware:  # type: ignore[valid-type]
    """A server that quotes the Authorization header back in its 404 messages."""

    @web.middleware
    async def echo(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if response.status in (401, 403, 404) and isinstance(response, web.Response):
            quoted = request.headers.get("Authorization", "")
            body = response.body
            assert isinstance(body, bytes)
            response.body = body.replace(b'"message":"', f'"message":"[{quoted}] '.encode(), 1)
        return response

    return echo


async def test_token_echoed_by_the_server_never_reaches_snapshot_or_logs(tmp_path: Path) -> None:
    async with run_emulator(SMALL) as probe:
        scoped = probe.ground_truth()["projects"][0]["name"]
    config = replace(SMALL, scoped_project=scoped)
    async with run_emulator(config, middlewares=[echo_token_middleware()]) as emu:
        for kind in ("job", "pat"):
            result, _ = await crawl(emu, tmp_path, kind=kind, verbose=True)
            assert result.exit_code == 4
            raw = (tmp_path / "inventory.json").read_text()
            assert "***" in raw, "the server's echo must show, redacted"
            assert emu.config.token not in raw
            assert emu.config.token not in result.summary


async def test_redirects_are_never_followed(tmp_path: Path) -> None:
    captured: list[str] = []

    async def capture(request: web.Request) -> web.Response:
        captured.append(request.headers.get("Authorization", ""))
        return web.json_response({"count": 0, "value": []})

    thief = web.Application()
    thief.router.add_route("*", "/{tail:.*}", capture)
    runner = web.AppRunner(thief)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    @web.middleware
    async def redirect(request: web.Request, handler: Handler) -> web.StreamResponse:
        raise web.HTTPFound(f"http://127.0.0.1:{port}{request.path_qs}")

    try:
        async with run_emulator(SMALL, middlewares=[redirect]) as emu:
            with pytest.raises(Exception, match="sign-in page") as exc:
                await crawl(emu, tmp_path)
    finally:
        await runner.cleanup()
    assert type(exc.value).__name__ == "AuthError"
    assert captured == []


async def test_cookies_a_server_sets_are_never_sent_back(tmp_path: Path) -> None:
    sent: list[str] = []

    @web.middleware
    async def cookies(request: web.Request, handler: Handler) -> web.StreamResponse:
        sent.append(request.headers.get("Cookie", ""))
        response = await handler(request)
        response.set_cookie("affinity", "node-7", path="/")
        return response

    async with run_emulator(SMALL, middlewares=[cookies]) as emu:
        # By name: a cookie jar would keep cookies of a host name, never of an IP address.
        by_name = emu.url.replace("127.0.0.1", "localhost")
        result, snapshot = await crawl(emu, tmp_path, org=by_name)
    assert result.exit_code == 0
    assert len(snapshot["pipelines"]) == SMALL.projects * SMALL.pipelines_per_project
    assert len(sent) > 5
    assert set(sent) == {""}


async def test_a_token_that_expires_mid_crawl_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    served = 0

    @web.middleware
    async def expire(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal served
        served += 1
        if served <= 3:
            return await handler(request)
        message = "TF400813: The user 'Anonymous' is not authorized to access this resource."
        return web.json_response({"message": message}, status=401)

    target = tmp_path / "inventory.json"
    target.write_bytes(b"previous")
    async with run_emulator(replace(SMALL, projects=6), middlewares=[expire]) as emu:
        with pytest.raises(Exception, match="refused") as exc:
            await crawl(emu, tmp_path)
    assert type(exc.value).__name__ == "AuthError"
    assert target.read_bytes() == b"previous"


async def test_a_project_without_an_id_is_reported_not_a_crash(tmp_path: Path) -> None:
    @web.middleware
    async def corrupt(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path.endswith("/_apis/projects") and isinstance(response, web.Response):
            body = response.body
            assert isinstance(body, bytes)
            response.body = body.replace(b'"value":[{', b'"value":[{"name":"ghost"},{', 1)
        return response

    async with run_emulator(SMALL, middlewares=[corrupt]) as emu:
        result, snapshot = await crawl(emu, tmp_path)
    assert result.exit_code == 4
    assert [(e["resource"], e["code"]) for e in snapshot["errors"]] == [
        ("projects", "bad_response")
    ]
    assert len(snapshot["projects"]) == SMALL.projects
