"""The one HTTP client of a crawl: aiohttp session, rate limit, concurrency bound, retries, paging.

Policy lives in :mod:`crawler.protocol.ado` (what a response means, how long to wait) and
:mod:`crawler.protocol.pacing` (when the next request may start, waited on in
:mod:`crawler.http.turns`);
the aiohttp specifics are in :mod:`crawler.http.transport`, the errors raised are built in
:mod:`crawler.http.client_errors`; this module holds the retry loop and paging.

Retry policy: 429, 5xx, damaged 200 bodies, connection errors and timeouts are retried
with exponential backoff and full jitter, at most ``max_retries`` times and never past
the run's deadline; a ``Retry-After`` (429 or 503) is one shared pause for every request,
and the throttling headers set the spacing of request starts (:mod:`crawler.protocol.pacing`);
401, 403 and 404 are never retried. When the server stops answering altogether, one
outage state holds every request without spending their retries (:mod:`crawler.protocol.outage`,
:mod:`crawler.http.outage_wait`). Redirects are never followed, so the token cannot travel to
another host.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from crawler.http.client_errors import exhausted, final_error, tls_error
from crawler.http.outage_wait import OutageWait
from crawler.http.stats import Stats
from crawler.http.transport import is_unreachable, open_session, read_body
from crawler.http.turns import Turns
from crawler.protocol.ado import (
    RETRYABLE,
    Cursor,
    Kind,
    Outcome,
    PagingError,
    RateLimit,
    build_url,
    classify,
    parse_list,
    retry_wait,
)
from crawler.protocol.errors import ProtocolError
from crawler.protocol.outage import Breaker, is_outage_status

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How politely and how patiently the client talks to Azure DevOps."""

    concurrency: int = 16
    rate: float = 50.0
    timeout_s: float = 60.0
    connect_timeout_s: float = 15.0
    max_retries: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0
    max_pages: int = 10_000
    max_response_bytes: int = 64 * 1024 * 1024
    ca_bundle: str | None = None
    outage_tolerance_s: float = 600.0


def _identity(text: str) -> str:
    return text


class AdoClient:
    """An async context manager holding one aiohttp session for the whole crawl."""

    def __init__(
        self,
        options: ClientOptions,
        *,
        authorization: str,
        credential_label: str = "the credential",
        redact: Callable[[str], str] = _identity,
        deadline: float | None = None,
        stats: Stats | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.stats = stats if stats is not None else Stats()
        self.deadline = deadline  # loop.time() value after which no request starts
        self._authorization = authorization
        self.credential_label = credential_label
        self._redact = redact
        self._rng = rng or random.Random()  # jitter, not cryptography
        self.breaker = Breaker(options.outage_tolerance_s)
        self.stats.outage_tolerance_s = options.outage_tolerance_s
        self._outage = OutageWait(
            self.breaker,
            self.stats,
            self._send_probe,
            deadline=lambda: self.deadline,
            redact=redact,
        )
        self._turns = Turns(options.rate, self.stats, deadline=lambda: self.deadline, redact=redact)
        self._semaphore = asyncio.Semaphore(options.concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=options.timeout_s, connect=options.connect_timeout_s
        )

    def __repr__(self) -> str:
        return f"AdoClient(concurrency={self.options.concurrency}, rate={self.options.rate})"

    async def __aenter__(self) -> AdoClient:
        self._session = open_session(
            concurrency=self.options.concurrency,
            timeout=self._timeout,
            ca_bundle=self.options.ca_bundle,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- one request, with retries ---------------------------------------------------------

    async def get(
        self, url: str, *, method: str = "GET", json_body: bytes | None = None
    ) -> Outcome:
        """GET ``url`` and return a successful outcome, retrying what is worth retrying.

        ``method`` is for the one ``OPTIONS`` route discovery of a run, and for the read-only
        ``POST`` queries ADO offers (batched check configurations), whose ``json_body`` is sent
        as ``application/json``. Nothing here ever writes to the organization.

        Raises :class:`AuthError` when the credential is refused, :class:`NotVisible`
        for 401/403/404, and another :class:`AdoError` when retries or time run out.
        """
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            outcome, rate, error, unreachable = await self._attempt(url, method, json_body)
            if unreachable:
                if self.breaker.failure(loop.time()):
                    # The server is away: wait for it as one crawl, not as N retry budgets.
                    self._outage.opened()
                    self.stats.retries += 1
                    continue  # _attempt waits for the breaker to close before sending
            elif outcome is not None:
                self._outage.answered()
            if outcome is not None and outcome.kind is Kind.OK:
                if self._outage.probe_url is None and method == "GET":
                    self._outage.probe_url = url  # usually a small first answer
                return outcome
            kind = outcome.kind if outcome is not None else None
            if outcome is not None and kind not in RETRYABLE:
                raise final_error(
                    outcome, url, credential_label=self.credential_label, redact=self._redact
                )
            if kind is Kind.THROTTLED:
                self.stats.throttled += 1
            reason = error or (outcome.message if outcome else "unknown failure")
            status = outcome.status if outcome is not None else None
            if attempt >= self.options.max_retries:
                raise exhausted(
                    kind, status, url, reason, "retries_exhausted", attempt, redact=self._redact
                )
            wait = retry_wait(
                kind or Kind.SERVER,
                attempt,
                rate,
                base=self.options.backoff_base_s,
                cap=self.options.backoff_max_s,
                rand=self._rng.random(),
            )
            if self.deadline is not None and loop.time() + wait > self.deadline:
                raise exhausted(kind, status, url, reason, "deadline", attempt, redact=self._redact)
            attempt += 1
            self.stats.retries += 1
            log.info(
                "retry %d/%d in %.2fs after %s: %s",
                attempt,
                self.options.max_retries,
                wait,
                status or "error",
                self._redact(url),
            )
            if rate.retry_after is not None or kind is Kind.THROTTLED:
                # One shared pause: every task waits for the same moment.
                self._turns.pause(loop.time(), wait)
            else:
                self.stats.wait_s += wait
                await asyncio.sleep(wait)

    async def _attempt(
        self, url: str, method: str = "GET", json_body: bytes | None = None
    ) -> tuple[Outcome | None, RateLimit, str | None, bool]:
        """Send one request; return its classified outcome, or a transport error text, and
        whether the failure says the server is unreachable (see :mod:`crawler.protocol.outage`)."""
        assert self._session is not None, "use 'async with AdoClient(...)'"
        loop = asyncio.get_running_loop()
        if self.breaker.is_open:
            await self._outage.wait(url)
        async with self._semaphore:
            await self._turns.wait(url)
            timeout = self._timeout  # one object while the deadline is further away
            left = self.deadline - loop.time() if self.deadline is not None else None
            if left is not None and left < self.options.timeout_s:
                timeout = aiohttp.ClientTimeout(
                    total=max(0.001, left), connect=self.options.connect_timeout_s
                )
            self.stats.requests += 1
            self.stats.in_flight += 1
            if self.stats.first_sent is None:
                self.stats.first_sent = loop.time()
            try:
                headers_out = {"Authorization": self._authorization}
                if json_body is not None:
                    headers_out["Content-Type"] = "application/json"
                async with self._session.request(
                    method,
                    URL(url, encoded=True),
                    headers=headers_out,
                    data=json_body,
                    allow_redirects=False,
                    timeout=timeout,
                ) as resp:
                    body = await read_body(
                        resp, url, limit=self.options.max_response_bytes, redact=self._redact
                    )
                    headers: Mapping[str, str] = resp.headers
                    status = resp.status
            except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
                raise tls_error(url, exc, self._redact) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                text = type(exc).__name__ + (f": {exc}" if str(exc) else "")
                return None, RateLimit(), self._redact(text), is_unreachable(exc)
            finally:
                self.stats.in_flight -= 1
                self.stats.last_received = loop.time()
        self.stats.responses += 1
        self.stats.bytes += len(body)
        wall = time.time()
        rate = RateLimit.from_headers(headers, now=wall)
        self._turns.observe(status, rate, now=loop.time(), wall=wall)
        unreachable = is_outage_status(status, rate.retry_after is not None)
        return classify(status, headers, body), rate, None, unreachable

    async def _send_probe(self, target: str) -> bool:
        """One request to see whether the server is there: True when it answers."""
        assert self._session is not None
        self.stats.requests += 1
        self.stats.outage_probes += 1
        try:
            async with self._session.get(
                URL(target, encoded=True),
                headers={"Authorization": self._authorization},
                allow_redirects=False,
                timeout=self._timeout,
            ) as resp:
                status = resp.status
                has_retry_after = "Retry-After" in resp.headers
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("outage probe failed: %s", type(exc).__name__)
            return False
        return not is_outage_status(status, has_retry_after)

    async def server_back(self) -> bool:
        """True when the server answers (see
        :meth:`crawler.http.outage_wait.OutageWait.server_back`)."""
        return await self._outage.server_back()

    # -- listings ------------------------------------------------------------------------------

    async def paginate(
        self,
        base: str,
        segments: Sequence[str],
        query: Mapping[str, str | int | bool | None],
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each page of an ADO list, following ``x-ms-continuationtoken`` to the end."""
        cursor = Cursor(max_pages=self.options.max_pages)
        params: dict[str, str | int | bool | None] = dict(query)
        while True:
            url = build_url(base, segments, params)
            outcome = await self.get(url)
            try:
                items = parse_list(outcome.data)
            except ValueError as exc:
                raise ProtocolError(
                    f"unexpected response shape: {exc}",
                    status=outcome.status,
                    url=self._redact(url),
                    code="bad_response",
                ) from None
            self.stats.pages += 1
            yield items
            try:
                more = cursor.advance(outcome.continuation)
            except PagingError as exc:
                raise ProtocolError(
                    self._redact(str(exc)), url=self._redact(url), code=exc.code
                ) from None
            if not more:
                return
            params["continuationToken"] = cursor.token
