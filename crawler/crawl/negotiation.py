"""Before the fan-out: the run's route negotiation (api-versions, what the server lacks), the
release management host, and who the token is."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from crawler.crawl.discovery import discover_routes
from crawler.crawl.identity import fetch_connection_data
from crawler.crawl.plan import CrawlPlan, CrawlState
from crawler.http.client import AdoClient
from crawler.protocol.ado import build_url
from crawler.protocol.errors import AdoError, ProtocolError
from crawler.protocol.locations import CONNECTION_DATA, RESOURCE_AREAS
from crawler.protocol.resources import REGISTRY
from crawler.settings.orgurl import is_loopback_host

log = logging.getLogger(__name__)

# docs: extend/develop/work-with-urls; the release area's locationUrl is the vsrm host.
RELEASE_AREA_ID = "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"


def parse_location_url(value: Any) -> str:
    """The base URL (ending in '/') of a resource area's ``locationUrl``; ValueError if unsafe.

    The token goes to this host, so it must be https, or plain http only to a loopback host
    (the emulator, like the organization URL itself), with no user info, query or fragment.
    """
    if not isinstance(value, str) or not value:
        raise ValueError("the answer has no locationUrl")
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"locationUrl {value!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            f"locationUrl {value!r} is plain http to a non-loopback host: the token would "
            "travel in clear"
        )
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"locationUrl {value!r} carries user info, a query or a fragment")
    return value if value.endswith("/") else value + "/"


async def discover_vsrm(client: AdoClient, base_url: str, api_version: str | None = None) -> str:
    """The release management base URL from ``GET {org}/_apis/resourceAreas/{release area}``.

    Raises :class:`AdoError` when the area cannot be read or its location is unsafe.
    """
    query = {"api-version": api_version}
    url = build_url(base_url, ["_apis", "resourceAreas", RELEASE_AREA_ID], query)
    outcome = await client.get(url)
    data = outcome.data if isinstance(outcome.data, dict) else {}
    try:
        return parse_location_url(data.get("locationUrl"))
    except ValueError as exc:
        raise ProtocolError(
            f"release management host refused: {exc}", status=outcome.status, code="bad_response"
        ) from None


async def with_hosts(client: AdoClient, plan: CrawlPlan, state: CrawlState) -> CrawlPlan:
    """The plan with ``vsrm_url`` set when a requested resource lives there (else unchanged).

    When discovery fails, every vsrm resource is recorded as not read and left out.
    """
    wanted = [r for r in REGISTRY.values() if r.host == "vsrm" and r.key in plan.resources]
    if not wanted or plan.vsrm_url is not None:
        return plan
    try:
        vsrm = await discover_vsrm(client, plan.base_url, plan.version(RESOURCE_AREAS))
    except AdoError as exc:
        for resource in wanted:
            state.record(resource.key, None, exc)
        return replace(plan, resources=plan.resources - {r.key for r in wanted})
    log.debug("release management host: %s", vsrm)
    return replace(plan, vsrm_url=vsrm)


async def negotiated(client: AdoClient, plan: CrawlPlan, state: CrawlState) -> CrawlPlan:
    """The plan after the run's one route discovery (api-versions; what the server lacks is
    recorded as ``not_supported`` and left out) and the release host's discovery."""
    if plan.discover:
        wanted = [r for r in REGISTRY.values() if r.key in plan.resources]
        routes = await discover_routes(client, plan.base_url, wanted, plan.org_kind)
        state.deployment, state.api_version = routes.deployment, routes.api_version
        for key, message in sorted(routes.unsupported.items()):
            if key in plan.adaptive:
                # Part of the default set only where the server has it: not asked for, so
                # not an error; the header leaves it out and the summary says so.
                state.skipped[key] = message
                continue
            state.record(key, None, AdoError(message, code="not_supported"))
        plan = replace(
            plan, versions=routes.versions, resources=plan.resources - set(routes.unsupported)
        )
    return await with_hosts(client, plan, state)


async def read_identity(
    client: AdoClient, ready: asyncio.Future[CrawlPlan], state: CrawlState
) -> None:
    """Who the token is (one connectionData request); a refusal is an ``identity`` error."""
    try:
        plan = await asyncio.shield(ready)
    except Exception:  # discovery's own failure is reported by the crawl
        return
    await read_identity_now(client, plan, state)


async def read_identity_now(client: AdoClient, plan: CrawlPlan, state: CrawlState) -> None:
    """The connectionData request itself, at the negotiated api-version."""
    try:
        state.connection = await fetch_connection_data(
            client, plan.base_url, plan.version(CONNECTION_DATA)
        )
    except AdoError as exc:
        state.record("identity", None, exc)
