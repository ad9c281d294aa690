"""The emulator's rate limits: a sliding TSTU budget that delays, then answers 429 + TF400733."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from crawler.emulator.config import FaultConfig, ThrottleConfig
from crawler.emulator.faults import fault_middleware
from crawler.emulator.throttle import Budget, is_route_discovery, throttle_middleware

WALL = 1_700_000_000.0


def _cfg(**kw: Any) -> ThrottleConfig:
    kw.setdefault("window_s", 10.0)
    kw.setdefault("delay_from", 1.0)
    return ThrottleConfig(**kw)


def test_remaining_falls_with_each_request_then_blocks_without_charging() -> None:
    budget = Budget(_cfg(limit=5))
    remaining = [budget.decide(float(t)).headers(WALL)["X-RateLimit-Remaining"] for t in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    blocked = budget.decide(5.0)
    assert blocked.outcome == "blocked"
    assert budget.decide(6.0).outcome == "blocked"
    assert budget.usage(6.0) == 5  # refused requests cost nothing


def test_window_slides_request_by_request() -> None:
    budget = Budget(_cfg(limit=3))
    for t in (0.0, 1.0, 2.0):
        assert budget.decide(t).outcome == "allowed"
    assert budget.decide(9.9).outcome == "blocked"
    assert budget.usage(10.0) == 2  # the charge at t=0 left the window at exactly t=10
    assert budget.decide(10.0).outcome == "allowed"
    assert budget.decide(10.5).outcome == "blocked"
    assert budget.decide(11.0).outcome == "allowed"


@pytest.mark.parametrize(
    ("now", "retry_after"), [(5.0, 5), (5.5, 5), (5.4, 5), (8.1, 2), (9.9, 1), (9.999, 1)]
)
def test_retry_after_is_whole_seconds_until_back_under_the_limit(
    now: float, retry_after: int
) -> None:
    budget = Budget(_cfg(limit=2))
    budget.decide(0.0)
    budget.decide(1.0)
    decision = budget.decide(now)
    assert decision.retry_after_s == retry_after
    assert decision.headers(WALL)["Retry-After"] == str(retry_after)
    # Waiting exactly that long is enough: the promise is honest.
    assert budget.decide(now + retry_after).outcome == "allowed"


def test_reset_is_the_epoch_when_usage_returns_to_zero() -> None:
    budget = Budget(_cfg(limit=10, window_s=300.0))
    budget.decide(0.0)
    headers = budget.decide(20.5).headers(WALL + 20.5)
    assert headers["X-RateLimit-Reset"] == str(int(WALL + 20.5 + 300 + 0.5))
    assert headers["X-RateLimit-Limit"] == "10"
    assert headers["X-RateLimit-Resource"]
    assert "Retry-After" not in headers
    assert "X-RateLimit-Delay" not in headers


def test_delay_grows_above_delay_from_and_is_capped() -> None:
    budget = Budget(_cfg(limit=10, delay_from=0.5, max_delay_s=2.0))
    outcomes = [budget.decide(t / 10) for t in range(11)]
    assert [d.outcome for d in outcomes[:5]] == ["allowed"] * 5
    delays = [d.delay_s for d in outcomes[5:10]]
    assert delays == pytest.approx([0.4, 0.8, 1.2, 1.6, 2.0])
    assert outcomes[10].outcome == "blocked"
    delayed = outcomes[5].headers(WALL)
    assert delayed["X-RateLimit-Delay"] == "0.400"
    assert delayed["X-RateLimit-Remaining"] == "0"

    capped = Budget(_cfg(limit=10, delay_from=0.5, cost=3.0, max_delay_s=2.0))
    assert [capped.decide(t).delay_s for t in (0.0, 1.0, 2.0, 3.0)] == pytest.approx(
        [0.0, 0.0, 1.6, 2.0]  # the last one would be 2.8 s uncapped
    )


def test_cost_is_charged_per_request() -> None:
    budget = Budget(_cfg(limit=10, cost=2.5))
    remaining = [budget.decide(float(t)).headers(WALL)["X-RateLimit-Remaining"] for t in range(4)]
    assert remaining == ["7.5", "5", "2.5", "0"]
    assert budget.usage(4.0) == 10
    assert budget.decide(4.0).outcome == "blocked"


@pytest.mark.parametrize(
    ("method", "path", "exempt"),
    [
        ("OPTIONS", "/fabrikam/_apis/git", True),
        ("GET", "/fabrikam/_apis", True),
        ("GET", "/fabrikam/_apis/", True),
        ("GET", "/fabrikam/_APIs/ResourceAreas/79134c72-4a58-4b42-976c-04e7115f32bf", True),
        ("GET", "/fabrikam/_apis/projects", False),
        ("GET", "/fabrikam/p/_apis/git/repositories", False),
    ],
)
def test_route_discovery_is_recognised(method: str, path: str, exempt: bool) -> None:
    assert is_route_discovery(method, path) is exempt


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_http_429_with_retry_after_then_recovery(serve: Any) -> None:
    clock = FakeClock()
    mw, stats = throttle_middleware(
        ThrottleConfig(limit=5, window_s=1.0, delay_from=1.0),
        clock=clock,
        wall_clock=lambda: WALL + clock.now,
    )
    async with serve([mw]) as client:
        remaining = []
        for _ in range(5):
            async with client.get("/fabrikam/_apis/projects") as resp:
                assert resp.status == 200
                assert (await resp.json())["count"] == 1
                remaining.append(resp.headers["X-RateLimit-Remaining"])
                assert resp.headers["X-RateLimit-Limit"] == "5"
                assert resp.headers["X-RateLimit-Reset"] == str(int(WALL + 101))
        assert remaining == ["4", "3", "2", "1", "0"]

        clock.now += 0.5
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "1"
            assert resp.content_type == "application/json"
            body = orjson.loads(await resp.read())
            assert body["message"].startswith("TF400733: The request has been canceled")
            assert body["typeKey"] == "RequestBlockedException"

        # Route discovery stays free while blocked.
        async with client.options("/fabrikam/_apis") as resp:
            assert resp.status == 200
            assert "X-RateLimit-Limit" not in resp.headers
        async with client.get("/fabrikam/_apis/ResourceAreas") as resp:
            assert resp.status == 200

        clock.now += 1.0  # waited as told
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.status == 200
            assert resp.headers["X-RateLimit-Remaining"] == "4"
    assert (stats.requests, stats.exempt, stats.blocked, stats.delayed) == (9, 2, 1, 0)


async def test_http_delayed_responses_really_wait(serve: Any) -> None:
    clock = FakeClock()
    cfg = ThrottleConfig(limit=4, window_s=60.0, delay_from=0.5, max_delay_s=0.05)
    mw, stats = throttle_middleware(cfg, clock=clock)
    async with serve([mw]) as client:
        for _ in range(2):
            async with client.get("/fabrikam/_apis/projects") as resp:
                assert "X-RateLimit-Delay" not in resp.headers
        started = time.perf_counter()
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.status == 200
            assert resp.headers["X-RateLimit-Delay"] == "0.025"
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.headers["X-RateLimit-Delay"] == "0.050"
            assert resp.headers["X-RateLimit-Remaining"] == "0"
            await resp.read()
        assert time.perf_counter() - started >= 0.07
    assert stats.delayed == 2
    assert stats.total_delay_s == pytest.approx(0.075)
    assert stats.as_dict()["delayed"] == 2


async def test_limit_zero_is_a_pass_through(serve: Any) -> None:
    mw, stats = throttle_middleware(ThrottleConfig(limit=0))
    async with serve([mw]) as client:
        for _ in range(3):
            async with client.get("/fabrikam/_apis/projects") as resp:
                assert resp.status == 200
                assert not any(h.lower().startswith("x-ratelimit") for h in resp.headers)
    assert stats.requests == 3
    assert stats.blocked == stats.delayed == 0


async def test_throttle_outside_faults_charges_and_labels_faulted_answers(serve: Any) -> None:
    throttle, t_stats = throttle_middleware(ThrottleConfig(limit=10, window_s=60.0))
    cfg = FaultConfig(rate=1.0, kinds=("500",), max_consecutive=1)
    faults, f_stats = fault_middleware(cfg)
    async with serve([throttle, faults]) as client:  # first in the list runs first
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.status == 500
            assert resp.headers["X-RateLimit-Remaining"] == "9"
        async with client.get("/fabrikam/_apis/projects") as resp:
            assert resp.status == 200
            assert resp.headers["X-RateLimit-Remaining"] == "8"
    assert t_stats.requests == f_stats.requests == 2
