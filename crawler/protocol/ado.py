"""Sans-I/O knowledge of the Azure DevOps REST API: URLs, responses, errors, throttling headers.

Nothing here touches the network or the clock; the client feeds it status, headers and
body and acts on what comes back. Facts are from learn.microsoft.com/azure/devops
(integrate/concepts/rate-limits, rest/api) and the official OpenAPI specs.
"""

from __future__ import annotations

import email.utils
import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

API_VERSION = "7.1"
CONTINUATION_HEADER = "x-ms-continuationtoken"
_TF_CODE = re.compile(r"\b(TF\d{5,6})\b")
# ADO names the identity in a 401; an anonymous (or empty) one means the credential itself was
# not accepted (expired, revoked), not that a scope is out of reach.
_ANONYMOUS = re.compile(r"\bThe user '(Anonymous)?' is not authorized", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 300


def build_url(
    base: str,
    segments: Sequence[str] = (),
    query: Mapping[str, str | int | bool | None] | None = None,
) -> str:
    """Join ``base`` (ends with '/') with URL-encoded path segments and a query string.

    Every segment is encoded whole (a project named ``a/b #1`` stays one segment);
    query values are encoded with ``%20`` for spaces so opaque tokens round-trip.
    ``api-version`` is always added. ``None`` values are left out.
    """
    path = "/".join(_quote(seg) for seg in segments)
    params: dict[str, str] = {}
    for key, value in (query or {}).items():
        if value is None:
            continue
        params[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    params.setdefault("api-version", API_VERSION)
    qs = "&".join(f"{_quote(k, '$')}={_quote(v)}" for k, v in params.items())
    return f"{base}{path}?{qs}"


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote() never escapes


def _quote(text: str, safe: str = "") -> str:
    """``quote(text, safe)``, skipped for the usual GUIDs and API words (same result)."""
    if _UNRESERVED.fullmatch(text):
        return text
    return quote(text, safe=safe)


class Kind(enum.Enum):
    """What a response means for the crawl."""

    OK = "ok"
    AUTH = "auth"  # the credential was refused (203, 3xx, HTML sign-in page)
    NOT_VISIBLE = "not_visible"  # 401/403/404: this scope is out of the token's reach
    THROTTLED = "throttled"  # 429: retry after a shared pause
    SERVER = "server"  # 5xx: retry with backoff
    BAD_RESPONSE = "bad_response"  # 200 but the body cannot be trusted: retry
    CLIENT = "client"  # any other 4xx: a bug on our side, not retried


RETRYABLE = frozenset({Kind.THROTTLED, Kind.SERVER, Kind.BAD_RESPONSE})


@dataclass(frozen=True, slots=True)
class Outcome:
    """A classified response: its kind, the decoded JSON (when OK), and error details."""

    kind: Kind
    status: int
    data: Any = None
    message: str = ""
    code: str | None = None
    continuation: str | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        # A plain dict is case-sensitive; aiohttp's CIMultiDictProxy already is not.
        lowered = name.lower()
        for key, val in headers.items():
            if key.lower() == lowered:
                return str(val)
    return value


def is_json_content_type(value: str | None) -> bool:
    """True for ``application/json`` with any parameters (charset, api-version)."""
    if not value:
        return False
    return value.split(";", 1)[0].strip().lower() == "application/json"


def parse_error_body(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    """Return (message, TF code) from an ADO error body: JSON ``{"message": ...}`` or HTML."""
    message = ""
    if is_json_content_type(content_type) or body[:1] == b"{":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            raw = data.get("message")
            if isinstance(raw, str):
                message = raw
    if not message:
        match = _HTML_TITLE.search(body[:65536])
        if match:
            message = match.group(1).decode("utf-8", "replace")
        else:
            message = body[:_MAX_MESSAGE].decode("utf-8", "replace")
    message = " ".join(message.split())[:_MAX_MESSAGE]
    code_match = _TF_CODE.search(message)
    return message, code_match.group(1) if code_match else None


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Outcome:
    """Decide what a finished response means: data, an auth failure, a retryable fault, ...

    ADO answers a refused credential with 203 + an HTML sign-in page (or a redirect to
    one) unless ``X-TFS-FedAuthRedirect: Suppress`` is sent, so 203, 3xx and a success
    body that is not JSON all count as authentication failures, and so does a 401 for the
    anonymous user (an expired or revoked token), unlike a 401 naming an identity that
    may not read this scope. A 5xx with an HTML body
    is an ordinary transient server error (a gateway page), and a 200 whose JSON does
    not parse is retried as a damaged transfer.
    """
    content_type = _header(headers, "Content-Type")
    if status == 203 or 300 <= status < 400:
        return Outcome(Kind.AUTH, status, message="the server answered with a sign-in page")
    if 200 <= status < 300:
        if not is_json_content_type(content_type):
            if content_type and "html" in content_type.lower():
                return Outcome(Kind.AUTH, status, message="the server answered with an HTML page")
            return Outcome(
                Kind.BAD_RESPONSE, status, message=f"unexpected content type {content_type!r}"
            )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return Outcome(Kind.BAD_RESPONSE, status, message=f"invalid JSON ({exc})")
        token = _header(headers, CONTINUATION_HEADER)
        return Outcome(Kind.OK, status, data=data, continuation=token or None)
    message, code = parse_error_body(body, content_type)
    if status == 401 and _ANONYMOUS.search(message):
        return Outcome(Kind.AUTH, status, message=message, code=code)
    if status in (401, 403, 404):
        return Outcome(Kind.NOT_VISIBLE, status, message=message, code=code)
    if status == 429:
        return Outcome(Kind.THROTTLED, status, message=message, code=code)
    if status >= 500:
        return Outcome(Kind.SERVER, status, message=message, code=code)
    return Outcome(Kind.CLIENT, status, message=message, code=code)


def parse_list(data: Any) -> list[dict[str, Any]]:
    """The ``value`` array of an ADO list envelope ``{"count": n, "value": [...]}``."""
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise ValueError("not an ADO list envelope (no 'value' array)")
    items: list[dict[str, Any]] = data["value"]
    if not set(map(type, items)) <= {dict} and not all(isinstance(i, dict) for i in items):
        raise ValueError("the 'value' array holds something other than objects")
    return items


@dataclass(frozen=True, slots=True)
class RateLimit:
    """ADO's throttling headers on one response (any may be missing)."""

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None  # Unix epoch seconds when usage is back to zero
    delay: float | None = None  # seconds the server already delayed this request
    retry_after: float | None = None  # seconds to wait before the next request

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], *, now: float) -> RateLimit:
        """Parse ``X-RateLimit-*`` and ``Retry-After``; malformed values count as absent."""
        return cls(
            limit=_number(_header(headers, "X-RateLimit-Limit")),
            remaining=_number(_header(headers, "X-RateLimit-Remaining")),
            reset=_number(_header(headers, "X-RateLimit-Reset")),
            delay=_number(_header(headers, "X-RateLimit-Delay")),
            retry_after=parse_retry_after(_header(headers, "Retry-After"), now=now),
        )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt: int, *, base: float, cap: float, rand: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)].

    ``attempt`` counts from 0 (the first retry); ``rand`` is a number in [0, 1).
    """
    ceiling: float = min(cap, base * float(2 ** min(attempt, 30)))
    return ceiling * rand


def retry_wait(
    kind: Kind,
    attempt: int,
    rate: RateLimit,
    *,
    base: float,
    cap: float,
    rand: float,
) -> float:
    """How long to wait before retrying a response of this kind.

    The server's word wins: with a ``Retry-After`` (429 or 503) the wait is exactly that
    long, neither shortened by jitter nor lengthened by backoff, and not capped, because
    retrying earlier only earns another refusal. The client makes it one shared pause.
    """
    computed = backoff_delay(attempt, base=base, cap=cap, rand=rand)
    if rate.retry_after is not None:
        return rate.retry_after
    if kind is Kind.THROTTLED:
        # 429 without Retry-After: wait at least the base, so parallel tasks spread out.
        return max(computed, base)
    return computed


class PagingError(ValueError):
    """The continuation-token sequence cannot be trusted (``code`` says why)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class Cursor:
    """Follows ``x-ms-continuationtoken`` across pages; refuses loops and endless listings.

    The end of a listing is the absence of the header, never a short page: ADO may cap
    ``$top`` silently. A token seen before means the server is looping; ``max_pages``
    is a safety net for a listing that never ends.
    """

    max_pages: int
    pages: int = 0
    token: str | None = None
    seen: set[str] | None = None

    def advance(self, token: str | None) -> bool:
        """Record the token of the page just read; True if another page must be fetched."""
        self.pages += 1
        if not token:
            self.token = None
            return False
        if self.seen is None:
            self.seen = set()
        if token in self.seen:
            raise PagingError(
                f"the server sent continuation token {token[:40]!r} twice; stopped to avoid "
                f"an endless loop after {self.pages} pages",
                "looping_token",
            )
        if self.pages >= self.max_pages:
            raise PagingError(
                f"the listing did not end after {self.pages} pages (max_pages); "
                "raise max_pages if this organization is really that large",
                "page_cap",
            )
        self.seen.add(token)
        self.token = token
        return True
