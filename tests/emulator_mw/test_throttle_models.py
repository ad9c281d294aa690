"""The emulator's other throttle models: token bucket, a 429 burst from another resource, a
shared identity. Pure decisions with a supplied clock (no sleeps), one check over loopback."""

from __future__ import annotations

import pytest

from crawler.emulator.config import ThrottleConfig
from crawler.emulator.throttle import Bucket, Budget, Burst, make_model, throttle_middleware

WALL = 1_700_000_000.0


def test_bucket_passes_while_tokens_last_then_delays_then_blocks_briefly() -> None:
    bucket = Bucket(ThrottleConfig(model="bucket", rate=20, max_delay_s=0.5))
    first = [bucket.decide(0.0) for _ in range(20)]
    assert [d.outcome for d in first] == ["allowed"] * 20
    assert first[0].headers(WALL)["X-RateLimit-Remaining"] == "19"
    assert first[0].headers(WALL)["X-RateLimit-Limit"] == "20"
    # As ADO sends it: Reset is 300 s away on every answer, though the bucket refills in 1 s.
    assert first[-1].headers(WALL)["X-RateLimit-Reset"] == str(int(WALL + 300))
    delayed = bucket.decide(0.0)
    assert delayed.outcome == "delayed"
    assert delayed.delay_s == pytest.approx(0.05)
    assert delayed.headers(WALL)["X-RateLimit-Delay"] == "0.050"
    for _ in range(9):
        bucket.decide(0.0)  # tokens promised up to 0.5 s ahead
    blocked = bucket.decide(0.0)
    assert blocked.outcome == "blocked"
    assert blocked.headers(WALL)["Retry-After"] == "1"
    assert bucket.decide(1.0).outcome == "allowed"  # refilled: 20 per second


def test_bucket_sustains_its_rate_and_no_more() -> None:
    bucket = Bucket(ThrottleConfig(model="bucket", rate=20, max_delay_s=0.5))
    outcomes = [bucket.decide(n * 0.05).outcome for n in range(400)]  # exactly 20/s
    assert outcomes.count("blocked") == 0
    faster = Bucket(ThrottleConfig(model="bucket", rate=20, max_delay_s=0.5))
    outcomes = [faster.decide(n * 0.02).outcome for n in range(400)]  # 50/s
    assert outcomes.count("blocked") > 100


def test_burst_blocks_from_another_resource_amid_a_full_budget() -> None:
    burst = Burst(ThrottleConfig(model="burst", burst_after=3, burst_s=1.5))
    allowed = [burst.decide(t) for t in (0.0, 0.1, 0.2)]
    assert {d.outcome for d in allowed} == {"allowed"}
    assert allowed[0].headers(WALL)["X-RateLimit-Remaining"] == "200"
    blocked = burst.decide(0.3)
    headers = blocked.headers(WALL)
    assert blocked.outcome == "blocked"
    assert headers["X-RateLimit-Resource"] == "DBCPU"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset"] == str(int(WALL + 300))
    assert headers["Retry-After"] == "1"
    assert burst.decide(1.7).outcome == "blocked"
    assert burst.decide(1.81).outcome == "allowed"
    assert burst.decide(100.0).outcome == "allowed"  # one burst only


def test_shared_identity_starts_low_and_drains_the_others_usage() -> None:
    cfg = ThrottleConfig(model="shared", limit=100, window_s=10.0, shared_usage=85, delay_from=1.0)
    budget = Budget(cfg)
    first = budget.decide(0.0)
    assert first.outcome == "allowed"
    assert first.headers(WALL)["X-RateLimit-Remaining"] == "14"
    for _ in range(14):
        budget.decide(0.0)
    assert budget.decide(0.0).outcome == "blocked"
    # The other consumer's usage leaves the window during the first 10 s, a twentieth at a time.
    assert budget.usage(5.0) == pytest.approx(100 - 85 / 2, abs=0.01)
    assert budget.usage(9.0) == pytest.approx(15 + 85 * 2 / 20)


def test_make_model_picks_by_name() -> None:
    assert isinstance(make_model(ThrottleConfig(model="bucket", rate=1)), Bucket)
    assert isinstance(make_model(ThrottleConfig(model="burst")), Burst)
    assert isinstance(make_model(ThrottleConfig(model="shared", limit=1)), Budget)
    assert isinstance(make_model(ThrottleConfig(limit=1)), Budget)


async def test_bucket_over_loopback_names_the_blocked_resource(serve: object) -> None:
    mw, stats = throttle_middleware(
        ThrottleConfig(model="burst", burst_after=1, burst_s=60.0), clock=lambda: 0.0
    )
    async with serve([mw]) as client:  # type: ignore[operator]
        ok = await client.get("/fabrikam/_apis/projects")
        blocked = await client.get("/fabrikam/_apis/projects")
        body = await blocked.json()
    assert ok.status == 200
    assert blocked.status == 429
    assert blocked.headers["X-RateLimit-Resource"] == "DBCPU"
    assert "DBCPU" in body["message"]
    assert stats.blocked == 1
