"""The emulator's seeded faults: reproducible picks, and what a client sees for each kind."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import aiohttp
import orjson
import pytest

from crawler.emulator.config import FAULT_KINDS, FaultConfig
from crawler.emulator.faults import INJECT, fault_middleware, pick_fault

URLS = [f"/fabrikam/p{i % 7}/_apis/git/repositories?api-version=7.1&n={i}" for i in range(2000)]


def _picks(cfg: FaultConfig, attempt: int = 0) -> list[str | None]:
    return [pick_fault(cfg, "GET", url, attempt) for url in URLS]


def test_every_configured_kind_has_an_injector() -> None:
    assert set(INJECT) == set(FAULT_KINDS)


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    cfg = FaultConfig(rate=0.2, seed=7)
    assert _picks(cfg) == _picks(FaultConfig(rate=0.2, seed=7))
    assert _picks(cfg) != _picks(FaultConfig(rate=0.2, seed=8))
    assert _picks(cfg, attempt=0) != _picks(cfg, attempt=1)  # a retry is decided afresh
    assert pick_fault(cfg, "GET", URLS[0], 0) == pick_fault(cfg, "get", URLS[0], 0)


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_rate_is_respected_and_kinds_are_spread(rate: float) -> None:
    picks = _picks(FaultConfig(rate=rate, seed=3))
    faulted = [p for p in picks if p is not None]
    assert abs(len(faulted) / len(URLS) - rate) < 0.03
    kinds = Counter(faulted)
    assert set(kinds) == set(FAULT_KINDS)
    assert min(kinds.values()) > len(faulted) / len(FAULT_KINDS) / 2


def test_rate_zero_and_one() -> None:
    assert set(_picks(FaultConfig(rate=0.0))) == {None}
    assert None not in _picks(FaultConfig(rate=1.0, kinds=("500", "slow")))


@pytest.mark.parametrize("max_consecutive", [0, 1, 3])
def test_never_more_than_max_consecutive_faults_in_a_row(max_consecutive: int) -> None:
    cfg = FaultConfig(rate=1.0, max_consecutive=max_consecutive)
    url = URLS[5]
    picks = [pick_fault(cfg, "GET", url, attempt) for attempt in range(6)]
    assert all(p is not None for p in picks[:max_consecutive])
    assert picks[max_consecutive:] == [None] * (6 - max_consecutive)


def test_permanent_urls_always_fail_with_500() -> None:
    cfg = FaultConfig(rate=0.0, permanent=("Broken Project",), max_consecutive=1)
    url = "/fabrikam/broken%20project/_apis/git/repositories"
    assert [pick_fault(cfg, "GET", url, n) for n in range(5)] == ["500"] * 5
    assert pick_fault(cfg, "GET", "/fabrikam/healthy/_apis/git/repositories", 0) is None


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="teapot"):
        fault_middleware(FaultConfig(rate=0.5, kinds=("500", "teapot")))


def _only(kind: str, **kw: Any) -> FaultConfig:
    """Every first request faults with ``kind``."""
    return FaultConfig(rate=1.0, kinds=(kind,), max_consecutive=1, **kw)


URL = "/fabrikam/_apis/projects?api-version=7.1"


async def test_http_500_has_a_json_error_and_no_retry_after(serve: Any) -> None:
    mw, stats = fault_middleware(_only("500"))
    async with serve([mw]) as client, client.get(URL) as resp:
        assert resp.status == 500
        assert "Retry-After" not in resp.headers
        assert resp.content_type == "application/json"
        assert orjson.loads(await resp.read())["message"].startswith("TF400898")
    assert stats.injected == {"500": 1}


async def test_http_503_says_retry_after_one_second(serve: Any) -> None:
    mw, _ = fault_middleware(_only("503-retry-after"))
    async with serve([mw]) as client, client.get(URL) as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert "typeKey" in orjson.loads(await resp.read())


async def test_http_502_is_an_html_gateway_page(serve: Any) -> None:
    mw, _ = fault_middleware(_only("html-502"))
    async with serve([mw]) as client, client.get(URL) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"
        assert (await resp.text()).startswith("<!DOCTYPE html>")


async def test_http_disconnect_mid_body(serve: Any) -> None:
    mw, stats = fault_middleware(_only("disconnect"))
    async with serve([mw]) as client:
        async with client.get(URL) as resp:
            assert resp.status == 200
            assert int(resp.headers["Content-Length"]) > 3000
            with pytest.raises(aiohttp.ClientPayloadError, match="not completed"):
                await resp.read()
        async with client.get(URL) as resp:  # max_consecutive=1: the retry gets through
            assert (await resp.json())["count"] == 1
    assert stats.injected == {"disconnect": 1}


async def test_http_truncated_json_is_complete_but_unparseable(serve: Any, page: Any) -> None:
    mw, _ = fault_middleware(_only("truncated-json"))
    async with serve([mw]) as client, client.get(URL) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert resp.headers["x-ms-continuationtoken"] == "2"
        body = await resp.read()  # no transport error: Content-Length matches
        assert int(resp.headers["Content-Length"]) == len(body)
        assert page("/fabrikam/_apis/projects").startswith(body)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(body)


async def test_http_invalid_json_claims_json(serve: Any) -> None:
    mw, _ = fault_middleware(_only("invalid-json"))
    async with serve([mw]) as client, client.get(URL) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(await resp.read())


async def test_http_slow_answers_correctly_after_slow_s(serve: Any) -> None:
    mw, _ = fault_middleware(_only("slow", slow_s=0.1))
    async with serve([mw]) as client:
        started = time.perf_counter()
        async with client.get(URL) as resp:
            assert (await resp.json())["count"] == 1
        assert time.perf_counter() - started >= 0.1
        started = time.perf_counter()
        async with client.get(URL) as resp:  # a slow answer is a good one: same URL, slow again
            assert resp.status == 200
        assert time.perf_counter() - started >= 0.1


async def test_http_stall_trips_the_client_read_timeout(serve: Any) -> None:
    mw, _ = fault_middleware(_only("stall", stall_s=0.4))
    timeout = aiohttp.ClientTimeout(sock_read=0.1)
    async with serve([mw]) as client, client.get(URL, timeout=timeout) as resp:
        assert resp.status == 200
        with pytest.raises(TimeoutError):
            await resp.read()


async def test_http_faults_are_reproducible_and_bounded(serve: Any) -> None:
    cfg = FaultConfig(rate=0.5, kinds=("500", "503-retry-after"), seed=11, max_consecutive=2)
    urls = [f"/fabrikam/p/_apis/pipelines?n={i}" for i in range(20)]

    async def statuses() -> list[list[int]]:
        mw, _ = fault_middleware(cfg)
        runs = []
        async with serve([mw]) as client:
            for url in urls:
                seen = []
                for _ in range(3):  # a crawler with 2 retries always gets through
                    async with client.get(url) as resp:
                        seen.append(resp.status)
                        if resp.status == 200:
                            break
                runs.append(seen)
        return runs

    first = await statuses()
    assert first == await statuses()
    assert all(seen[-1] == 200 for seen in first)
    assert any(len(seen) == 3 for seen in first)  # some URL failed twice in a row


async def test_http_route_discovery_and_permanent(serve: Any) -> None:
    mw, stats = fault_middleware(FaultConfig(rate=1.0, kinds=("500",), permanent=("broken",)))
    async with serve([mw]) as client:
        async with client.options("/fabrikam/_apis") as resp:
            assert resp.status == 200
        async with client.get("/fabrikam/_apis/ResourceAreas") as resp:
            assert resp.status == 200
        for _ in range(4):
            async with client.get("/fabrikam/Broken/_apis/git/repositories") as resp:
                assert resp.status == 500
    assert stats.permanent == 4
    assert stats.as_dict() == {"requests": 6, "permanent": 4, "injected": {"500": 4}, "total": 4}
