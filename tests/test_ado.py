"""Pure ADO protocol logic: URLs, classification, throttling headers, retry waits, paging."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.protocol.ado import (
    Cursor,
    Kind,
    PagingError,
    RateLimit,
    backoff_delay,
    build_url,
    classify,
    parse_error_body,
    parse_list,
    parse_retry_after,
    retry_wait,
)
from crawler.protocol.pacing import ceiling_shape

JSON = {"Content-Type": "application/json; charset=utf-8; api-version=7.1"}
BASE = "https://dev.azure.com/fabrikam/"


# -- URLs -----------------------------------------------------------------------------------


def test_build_url_encodes_project_names_as_one_segment() -> None:
    url = build_url(
        BASE, ["a/b #1 Équipe", "_apis", "git", "repositories"], {"includeHidden": True}
    )
    parts = urlsplit(url)
    assert parts.path == "/fabrikam/a%2Fb%20%231%20%C3%89quipe/_apis/git/repositories"
    assert parse_qs(parts.query) == {"includeHidden": ["true"], "api-version": ["7.1"]}


def test_build_url_keeps_dollar_top_and_drops_none() -> None:
    url = build_url(BASE, ["_apis", "projects"], {"$top": 100, "continuationToken": None})
    assert url == BASE + "_apis/projects?$top=100&api-version=7.1"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(segment=_TEXT, token=_TEXT)
def test_build_url_round_trips_any_segment_and_token(segment: str, token: str) -> None:
    url = build_url(BASE, [segment, "_apis"], {"continuationToken": token})
    parts = urlsplit(url)
    assert unquote(parts.path.split("/")[2]) == segment
    assert parse_qs(parts.query)["continuationToken"] == [token]
    assert " " not in url
    assert "#" not in url


@given(text=st.one_of(_TEXT, st.text(alphabet="abcXYZ019_.~-$/ %", max_size=20)))
def test_the_quote_shortcut_encodes_exactly_like_quote(text: str) -> None:
    from urllib.parse import quote

    from crawler.protocol.ado import _quote

    assert _quote(text) == quote(text, safe="")
    assert _quote(text, "$") == quote(text, safe="$")


# -- classification -------------------------------------------------------------------------


def test_ok_with_continuation_token() -> None:
    body = orjson.dumps({"count": 1, "value": [{"id": "1"}]})
    out = classify(200, {**JSON, "x-ms-continuationtoken": "100"}, body)
    assert out.kind is Kind.OK
    assert out.continuation == "100"
    assert parse_list(out.data) == [{"id": "1"}]


@pytest.mark.parametrize("status", [203, 301, 302, 307])
def test_sign_in_page_or_redirect_is_auth_failure(status: int) -> None:
    out = classify(status, {"Content-Type": "text/html"}, b"<html><title>Sign In</title></html>")
    assert out.kind is Kind.AUTH


def test_html_success_body_is_auth_failure() -> None:
    out = classify(200, {"Content-Type": "text/html; charset=utf-8"}, b"<html>Sign in</html>")
    assert out.kind is Kind.AUTH


@pytest.mark.parametrize(
    ("user", "kind"),
    [("Anonymous", Kind.AUTH), ("", Kind.AUTH), ("Fabrikam Build Service (org)", Kind.NOT_VISIBLE)],
)
def test_401_for_the_anonymous_user_is_a_refused_credential(user: str, kind: Kind) -> None:
    body = orjson.dumps(
        {"message": f"TF400813: The user '{user}' is not authorized to access this resource."}
    )
    assert classify(401, JSON, body).kind is kind


def test_html_5xx_is_a_server_error_not_auth() -> None:
    body = b"<html><head><title>502 Bad Gateway</title></head></html>"
    out = classify(502, {"Content-Type": "text/html"}, body)
    assert out.kind is Kind.SERVER
    assert out.message == "502 Bad Gateway"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, Kind.NOT_VISIBLE), (403, Kind.NOT_VISIBLE), (404, Kind.NOT_VISIBLE),
     (429, Kind.THROTTLED), (500, Kind.SERVER), (503, Kind.SERVER), (400, Kind.CLIENT)],
)  # fmt: skip
def test_status_classes(status: int, kind: Kind) -> None:
    body = orjson.dumps({"message": "TF200016: The following project does not exist: X."})
    out = classify(status, JSON, body)
    assert out.kind is kind
    assert out.code == "TF200016"


@pytest.mark.parametrize("body", [b'{"count": 3, "value": [', b"<html>oops", b""])
def test_damaged_json_is_retryable_bad_response(body: bytes) -> None:
    out = classify(200, JSON, body)
    assert out.kind is Kind.BAD_RESPONSE


def test_success_without_content_type_is_bad_response() -> None:
    assert classify(200, {}, b"{}").kind is Kind.BAD_RESPONSE


def test_error_message_is_single_line_and_bounded() -> None:
    message, code = parse_error_body(
        b'{"message": "TF400733: blocked\\n' + b"x" * 2000 + b'"}', None
    )
    assert code == "TF400733"
    assert "\n" not in message
    assert len(message) <= 300


@pytest.mark.parametrize("data", [[], {"value": {}}, {"count": 1}, {"value": [1]}])
def test_parse_list_refuses_what_is_not_an_envelope(data: object) -> None:
    with pytest.raises(ValueError, match="value"):
        parse_list(data)


# -- throttling headers -----------------------------------------------------------------------


def test_rate_limit_headers_case_insensitive() -> None:
    rate = RateLimit.from_headers(
        {
            "x-ratelimit-limit": "200",
            "X-RateLimit-Remaining": "12.5",
            "X-RateLimit-Reset": "1700000060",
            "X-RateLimit-Delay": "0.75",
            "retry-after": "3",
        },
        now=1_700_000_000.0,
    )
    assert rate == RateLimit(
        limit=200, remaining=12.5, reset=1_700_000_060, delay=0.75, retry_after=3
    )


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", ""])
def test_malformed_retry_after_is_ignored(value: str) -> None:
    assert parse_retry_after(value, now=0.0) is None


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=30), max_size=8))
def test_rate_limit_parser_never_raises(headers: dict[str, str]) -> None:
    rate = RateLimit.from_headers(headers, now=0.0)
    for value in (rate.limit, rate.remaining, rate.reset, rate.delay, rate.retry_after):
        assert value is None or value >= 0


# -- retry and pacing decisions -------------------------------------------------------------


@given(attempt=st.integers(0, 100), rand=st.floats(0, 0.999999))
def test_backoff_is_bounded_by_cap(attempt: int, rand: float) -> None:
    delay = backoff_delay(attempt, base=0.5, cap=30.0, rand=rand)
    assert 0 <= delay <= 30.0


def test_backoff_grows_exponentially() -> None:
    assert [backoff_delay(n, base=0.5, cap=100, rand=0.999) for n in range(4)] == pytest.approx(
        [0.5, 1.0, 2.0, 4.0], rel=0.01
    )


@given(retry_after=st.floats(0, 600), attempt=st.integers(0, 10), rand=st.floats(0, 0.999))
def test_retry_after_is_a_floor_never_shortened(
    retry_after: float, attempt: int, rand: float
) -> None:
    for kind in (Kind.THROTTLED, Kind.SERVER):
        wait = retry_wait(
            kind, attempt, RateLimit(retry_after=retry_after), base=0.5, cap=5, rand=rand
        )
        assert wait >= retry_after


def test_429_without_retry_after_waits_at_least_base() -> None:
    assert retry_wait(Kind.THROTTLED, 0, RateLimit(), base=0.5, cap=5, rand=0.0) == 0.5


# -- paging ---------------------------------------------------------------------------------


def test_cursor_follows_until_header_absent() -> None:
    cursor = Cursor(max_pages=10)
    assert cursor.advance("100")
    assert cursor.token == "100"
    assert cursor.advance("200")
    assert cursor.token == "200"
    assert not cursor.advance(None)
    assert cursor.pages == 3


def test_cursor_refuses_a_repeated_token() -> None:
    cursor = Cursor(max_pages=10)
    cursor.advance("a")
    cursor.advance("b")
    with pytest.raises(PagingError) as exc:
        cursor.advance("a")
    assert exc.value.code == "looping_token"


def test_cursor_page_cap() -> None:
    cursor = Cursor(max_pages=3)
    cursor.advance("1")
    cursor.advance("2")
    with pytest.raises(PagingError) as exc:
        cursor.advance("3")
    assert exc.value.code == "page_cap"


@given(st.lists(st.text(min_size=1, max_size=5), max_size=50))
def test_cursor_always_terminates(tokens: list[str]) -> None:
    cursor = Cursor(max_pages=20)
    followed = 0
    try:
        for token in tokens:
            if not cursor.advance(token):
                break
            followed += 1
    except PagingError:
        pass
    assert followed <= 20
    assert followed <= len(set(tokens))


@pytest.mark.parametrize(
    ("rate", "burst", "group"),
    [(0.1, 1.0, 1), (50, 2.5, 1), (200, 10.0, 2), (1000, 50.0, 10)],
)
def test_ceiling_shape(rate: float, burst: float, group: int) -> None:
    assert ceiling_shape(rate) == (burst, group)


@given(st.floats(min_value=0.1, max_value=1000))
def test_a_ceiling_group_never_exceeds_its_bucket(rate: float) -> None:
    burst, group = ceiling_shape(rate)
    assert 1 <= group <= burst
    assert group <= max(1, rate * 0.01 + 0.5)  # about 10 ms of requests, never more


async def test_the_ceiling_draws_from_the_bucket_once_per_group() -> None:
    import asyncio

    from crawler.http.ceiling import Ceiling

    ceiling = Ceiling(1000)  # groups of 10
    drawn: list[float] = []
    acquire = ceiling.limiter.acquire

    async def counting(amount: float = 1) -> None:
        drawn.append(amount)
        await acquire(amount)

    ceiling.limiter.acquire = counting  # type: ignore[method-assign]
    await asyncio.gather(*(ceiling.take() for _ in range(95)))
    assert drawn == [10] * 10  # 95 requests: ten groups, five requests left over
    assert ceiling.left == 5
