"""The aiohttp specifics of the client: the session, bounded body reading, and which
failures say the server is away."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import aiohttp

from crawler import NAME, __version__
from crawler.protocol.errors import ProtocolError


def open_session(
    *, concurrency: int, timeout: aiohttp.ClientTimeout, ca_bundle: str | None
) -> aiohttp.ClientSession:
    """The crawl's one session: no redirects followed, no cookies, no proxy settings read."""
    ssl_context: ssl.SSLContext | bool = True
    if ca_bundle:
        ssl_context = ssl.create_default_context(cafile=ca_bundle)
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=ssl_context, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        headers={
            "Accept": "application/json",
            "User-Agent": f"{NAME}/{__version__}",
            "X-TFS-FedAuthRedirect": "Suppress",
        },
        timeout=timeout,
        raise_for_status=False,
        auto_decompress=True,
        trust_env=False,
        # The REST API needs no cookies; none set by a server is kept or sent back.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def read_body(
    resp: aiohttp.ClientResponse, url: str, *, limit: int, redact: Callable[[str], str]
) -> bytes:
    """The whole body of ``resp``; a :class:`ProtocolError` once it passes ``limit`` bytes."""
    if resp.content_length is not None and resp.content_length > limit:
        raise ProtocolError(
            f"response of {resp.content_length} bytes exceeds the {limit}-byte limit "
            "(max_response_mb)",
            status=resp.status,
            url=redact(url),
            code="too_large",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(
                f"response exceeded the {limit}-byte limit (max_response_mb)",
                status=resp.status,
                url=redact(url),
                code="too_large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def is_unreachable(exc: BaseException) -> bool:
    """A failure that says the server is away: refused, reset, or a connect timeout.

    A connection cut mid-body or a read timeout means the server is there but this answer
    went wrong; those stay ordinary retries.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError | aiohttp.ServerDisconnectedError):
        return True
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.SocketTimeoutError):
        return False
    return isinstance(exc, aiohttp.ClientOSError)
