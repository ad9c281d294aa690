"""The errors a request ends with: the credential refused, not visible, a bad answer, or
retries and time run out; each message redacted."""

from __future__ import annotations

from collections.abc import Callable

from yarl import URL

from crawler.protocol.ado import Kind, Outcome
from crawler.protocol.errors import (
    AdoError,
    AuthError,
    CrawlerError,
    NotVisible,
    ProtocolError,
    RateLimited,
    ServerError,
    TransportError,
)


def tls_error(url: str, exc: BaseException, redact: Callable[[str], str]) -> CrawlerError:
    """The server's certificate is not trusted here: say how to trust it."""
    return CrawlerError(
        redact(
            f"TLS failed for {URL(url).host}: {exc}. The server's certificate is "
            "not trusted here: for Azure DevOps Server behind a private CA pass "
            "--ca-bundle PATH (a PEM file), or set ca_bundle in the config file."
        )
    )


def final_error(
    outcome: Outcome, url: str, *, credential_label: str, redact: Callable[[str], str]
) -> CrawlerError:
    """The error for an answer not worth retrying (401, 403, 404, another 4xx)."""
    message = redact(outcome.message)
    safe_url = redact(url)
    if outcome.kind is Kind.AUTH:
        return AuthError(
            f"Azure DevOps refused {credential_label} (HTTP {outcome.status}: "
            f"{message}). Check that the token is current and was not revoked or expired, "
            "that it belongs to this organization, and for a PAT that it has the Code (Read) "
            "and Build (Read) scopes."
        )
    if outcome.kind is Kind.NOT_VISIBLE:
        return NotVisible(message, status=outcome.status, url=safe_url, code=outcome.code)
    return ProtocolError(
        f"HTTP {outcome.status}: {message}",
        status=outcome.status,
        url=safe_url,
        code=outcome.code,
    )


def exhausted(
    kind: Kind | None,
    status: int | None,
    url: str,
    reason: str,
    code: str,
    tries: int,
    *,
    redact: Callable[[str], str],
) -> AdoError:
    """The error for a request that ran out of retries (``code`` names which) or time."""
    what = "the run's deadline" if code == "deadline" else f"{tries + 1} attempts"
    message = redact(f"gave up after {what}: {reason}")
    safe_url = redact(url)
    cls: type[AdoError]
    if kind is Kind.THROTTLED:
        cls = RateLimited
    elif kind is Kind.SERVER:
        cls = ServerError
    elif kind is Kind.BAD_RESPONSE:
        cls = ProtocolError
    else:
        cls = TransportError
    return cls(message, status=status, url=safe_url, code=code)
