"""Route discovery: the one ``OPTIONS {collection}/_apis`` of a run, and what it means.

The I/O is one call (:func:`fetch_route_table`); :func:`plan_routes` is pure: from the route
table and the requested resources it derives the api-version of every route the crawl uses,
the resources the server lacks (``not_supported``, with the server's highest version), the
deployment (``services`` or ``server``) and the server's API version for the snapshot. On the
cloud a failed discovery is not fatal: every route there takes 7.1 (the crawler's default).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from crawler.http.client import AdoClient
from crawler.protocol.errors import AdoError, AuthError, CrawlerError, ProtocolError
from crawler.protocol.locations import (
    CEILING,
    Deployment,
    RouteTable,
    choose_version,
    deployment_of,
    format_version,
    not_supported_message,
    parse_location_data,
)
from crawler.protocol.resources import Resource

log = logging.getLogger(__name__)

DISCOVERY_PATH = ("_apis",)


@dataclass(frozen=True, slots=True)
class Routes:
    """What discovery decided for one run."""

    deployment: Deployment
    api_version: str  # the server's highest released version ("7.1" on the cloud)
    versions: dict[str, str] = field(default_factory=dict)  # location id -> api-version
    unsupported: dict[str, str] = field(default_factory=dict)  # resource key -> message


def plan_routes(table: RouteTable | None, resources: Iterable[Resource], org_kind: str) -> Routes:
    """The api-version per route and the resources the server lacks; ``table`` None = unknown.

    Without a table (discovery failed on the cloud) nothing is unsupported and every request
    keeps the default api-version.
    """
    deployment = deployment_of(org_kind, table)
    if table is None:
        return Routes(deployment=deployment, api_version=format_version(CEILING))
    # Every route the server offers, not only the registry's: other calls (resource areas,
    # connectionData) ask the plan for their version too.
    versions: dict[str, str] = {}
    for location_id, location in table.locations.items():
        version = choose_version(location)
        if version is not None:
            versions[location_id] = version
    unsupported: dict[str, str] = {}
    for resource in resources:
        if resource.location and resource.location not in versions:
            unsupported[resource.key] = not_supported_message(
                resource.key, resource.location, table, deployment
            )
    return Routes(deployment, table.api_version, versions, unsupported)


async def fetch_route_table(client: AdoClient, base_url: str) -> RouteTable:
    """``OPTIONS {base_url}_apis`` parsed into a route table.

    Raises :class:`AuthError` when the credential is refused and another
    :class:`AdoError` when the location data cannot be read or makes no sense.
    """
    # No api-version: the location data is not versioned (the official clients send none).
    url = base_url + "/".join(DISCOVERY_PATH)
    outcome = await client.get(url, method="OPTIONS")
    try:
        return parse_location_data(outcome.data)
    except ValueError as exc:
        raise ProtocolError(
            f"the server's route discovery (OPTIONS {url}) answered no location data: {exc}",
            status=outcome.status,
            url=url,
            code="bad_response",
        ) from None


async def discover_routes(
    client: AdoClient, base_url: str, resources: Iterable[Resource], org_kind: str
) -> Routes:
    """Read the server's routes once and plan the run's api-versions from them.

    On Azure DevOps Services a failed discovery logs a warning and keeps the defaults; on a
    server (or the emulator) it stops the run: without the location data the crawler cannot
    know which versions the server accepts.
    """
    wanted = tuple(resources)
    try:
        table = await fetch_route_table(client, base_url)
    except AuthError:
        raise
    except AdoError as exc:
        if org_kind in ("cloud", "legacy"):
            log.warning("route discovery failed (%s); every request uses api-version 7.1", exc)
            return plan_routes(None, wanted, org_kind)
        raise CrawlerError(
            f"could not learn the API versions of {base_url} (OPTIONS {base_url}_apis failed: "
            f"{exc.message}). Check that --org is a collection URL such as "
            "https://host/tfs/DefaultCollection/ and that the server is Azure DevOps Server "
            "2019 or later; nothing was written."
        ) from None
    routes = plan_routes(table, wanted, org_kind)
    log.debug(
        "%s, API version %s; not supported: %s",
        routes.deployment,
        routes.api_version,
        ", ".join(sorted(routes.unsupported)) or "nothing",
    )
    return routes
