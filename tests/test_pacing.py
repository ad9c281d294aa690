"""The shared request schedule (crawler.protocol.pacing): pure, property-tested, no event loop, no
sleeps."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.protocol.ado import RateLimit
from crawler.protocol.pacing import (
    MAX_BUDGET_SPACING_S,
    CostMeter,
    Pacer,
    budget_spacing,
    delay_spacing,
)

WALL = 1_700_000_000.0  # a Unix time; the pacer's own clock is monotonic seconds from 0


@dataclass(frozen=True)
class Answer:
    """One response as the client feeds it to the pacer."""

    status: int
    rate: RateLimit
    in_flight: int


headers = st.builds(
    RateLimit,
    limit=st.one_of(st.none(), st.floats(1, 1000)),
    remaining=st.one_of(st.none(), st.floats(0, 1000)),
    reset=st.one_of(st.none(), st.floats(WALL - 10, WALL + 400)),
    delay=st.one_of(st.none(), st.floats(0, 30)),
    retry_after=st.one_of(st.none(), st.floats(0, 60)),
)
answers = st.builds(
    Answer,
    status=st.sampled_from([200, 200, 200, 429, 503]),
    rate=headers,
    in_flight=st.integers(1, 32),
)
steps = st.lists(
    st.tuples(st.floats(0, 5), st.one_of(answers, st.just("start"))), min_size=1, max_size=60
)


def replay(pacer: Pacer, sequence: list[tuple[float, Answer | str]]) -> tuple[float, float]:
    """Feed ``sequence`` as the client does; return (now, the latest pause end asked for)."""
    now = 0.0
    latest_pause = 0.0
    for gap, step in sequence:
        now += gap
        if step == "start":
            pacer.try_start(now)
            continue
        assert isinstance(step, Answer)
        pacer.observe(step.status, step.rate, now=now, wall=WALL + now, in_flight=step.in_flight)
        if step.status in (429, 503) and step.rate.retry_after is not None:
            pacer.pause(now, step.rate.retry_after)
            latest_pause = now + step.rate.retry_after
    return now, latest_pause


@given(steps)
def test_no_request_waits_past_the_latest_pause_or_the_current_spacing(
    sequence: list[tuple[float, Answer | str]],
) -> None:
    pacer = Pacer()
    now, latest_pause = replay(pacer, sequence)
    bound = max(latest_pause, pacer.last_start + pacer.spacing)
    assert now + pacer.wait_for(now) <= max(now, bound) + 1e-9
    # ... and it may start at that moment, not later.
    assert pacer.try_start(max(now, bound))


@given(steps, answers)
def test_a_429_never_changes_the_spacing(
    sequence: list[tuple[float, Answer | str]], answer: Answer
) -> None:
    pacer = Pacer()
    now, _ = replay(pacer, sequence)
    before = (pacer.delay_gap, pacer.budget_gap)
    pacer.observe(429, answer.rate, now=now, wall=WALL + now, in_flight=answer.in_flight)
    assert (pacer.delay_gap, pacer.budget_gap) == before


@given(steps)
def test_an_answer_showing_room_turns_the_spacing_off(
    sequence: list[tuple[float, Answer | str]],
) -> None:
    pacer = Pacer()
    now, _ = replay(pacer, sequence)
    room = RateLimit(limit=200, remaining=150, reset=WALL + now + 300)
    pacer.observe(200, room, now=now, wall=WALL + now, in_flight=4)
    assert pacer.spacing == 0.0
    pacer.observe(200, RateLimit(), now=now, wall=WALL + now, in_flight=4)
    assert pacer.spacing == 0.0


@given(steps)
def test_the_budget_signal_is_bounded(sequence: list[tuple[float, Answer | str]]) -> None:
    pacer = Pacer()
    replay(pacer, sequence)
    assert 0.0 <= pacer.budget_gap <= MAX_BUDGET_SPACING_S


def test_the_latest_retry_after_wins_even_when_shorter() -> None:
    pacer = Pacer()
    pacer.pause(0.0, 10.0)
    assert pacer.wait_for(1.0) == 9.0
    pacer.pause(2.0, 1.0)  # the server now asks for one second from here
    assert pacer.wait_for(2.0) == 1.0
    assert pacer.try_start(3.0)


def test_spacing_is_measured_from_the_last_start_not_booked_ahead() -> None:
    pacer = Pacer()
    pacer.observe(200, RateLimit(delay=2.0), now=0.0, wall=WALL, in_flight=1)
    assert pacer.spacing == 2.0
    assert pacer.try_start(0.0)
    assert not pacer.try_start(1.0)
    assert pacer.wait_for(1.0) == 1.0
    # The spacing shrinks: the waiting request may go at once, nothing was booked.
    pacer.observe(200, RateLimit(delay=0.5), now=1.0, wall=WALL + 1, in_flight=1)
    assert pacer.wait_for(1.0) == 0.0
    assert pacer.try_start(1.0)


def test_delay_spacing_lets_the_server_hold_two_requests_at_a_time() -> None:
    # A bucket at 20/s holding 2 of our requests delays each by 0.1 s: one every 50 ms.
    assert delay_spacing(0.1, 16) == pytest.approx(0.05)
    # Holding all 16 (0.8 s each): start one every 0.4 s until the server's queue is short.
    assert delay_spacing(0.8, 16) == pytest.approx(0.4)
    assert delay_spacing(None, 16) == 0.0
    assert delay_spacing(1.5, 1) == 1.5
    assert delay_spacing(1.5, 0) == 1.5


def test_budget_spacing_needs_a_low_budget_and_a_known_cost() -> None:
    low = RateLimit(limit=200, remaining=10, reset=WALL + 60)
    assert (
        budget_spacing(RateLimit(limit=200, remaining=150, reset=WALL + 60), now=WALL, cost=1) == 0
    )
    assert budget_spacing(low, now=WALL, cost=None) == 0.0
    # 200 TSTUs spendable until the reset in 60 s at 0.1 each: 2,000 requests, 90% of that pace.
    assert budget_spacing(low, now=WALL, cost=0.1) == pytest.approx(60 * 0.1 / 180)
    assert budget_spacing(low, now=WALL, cost=50) == MAX_BUDGET_SPACING_S


def test_cost_comes_from_our_own_drops_not_the_identitys_usage() -> None:
    # Another pipeline run already spent 170 of 200: our first answer says 30 left.
    meter = CostMeter()
    for remaining in (30.0, 29.5, 29.0, 29.2, 28.5):  # one rise: usage left the window
        meter.observe(remaining)
    assert meter.cost == pytest.approx(0.5)
    pacer = Pacer()
    gaps = []
    for n in range(40):
        limits = RateLimit(limit=200, remaining=30.0 - n / 10, reset=WALL + n + 300)
        pacer.observe(200, limits, now=float(n), wall=WALL + n, in_flight=8)
        gaps.append(pacer.budget_gap)
    # Step by step while Remaining falls, up to 0.1 TSTU per request over 300 s:
    # 300 * 0.1 / (0.9 * 200) = 0.17 s, never 300 * 170 / 180 s.
    assert gaps[0] == 0.0
    assert gaps == sorted(gaps)
    assert gaps[-1] == pytest.approx(300 * 0.1 / 180, rel=0.05)


def test_the_budget_spacing_narrows_while_remaining_holds_or_rises() -> None:
    pacer = Pacer()
    for n, remaining in enumerate((30.0, 29.0, 28.0, 27.0, 26.0, 25.0)):
        limits = RateLimit(limit=200, remaining=remaining, reset=WALL + 300)
        pacer.observe(200, limits, now=float(n), wall=WALL + n, in_flight=8)
    wide = pacer.budget_gap
    assert wide > 0
    limits = RateLimit(limit=200, remaining=25.5, reset=WALL + 300)  # a bucket refilling
    pacer.observe(200, limits, now=7.0, wall=WALL + 7, in_flight=8)
    assert 0 < pacer.budget_gap < wide


def test_a_429s_headers_never_slow_the_crawl() -> None:
    pacer = Pacer()
    blocked = RateLimit(limit=200, remaining=0, reset=WALL + 300, retry_after=1)
    pacer.observe(429, blocked, now=0.0, wall=WALL, in_flight=16)
    pacer.pause(0.0, 1.0)
    assert pacer.spacing == 0.0
    assert pacer.wait_for(0.5) == 0.5
    assert pacer.wait_for(1.0) == 0.0
