"""The route table of one Azure DevOps deployment, and the api-version each request carries.

``OPTIONS {collection}/_apis`` answers ADO's location data: one ``ApiResourceLocation`` per
route (``id``, ``area``, ``resourceName``, ``routeTemplate``, ``minVersion``, ``maxVersion``,
``releasedVersion``, ``resourceVersion``), the way the official clients learn what a server
offers before calling it. This module turns that body into a :class:`RouteTable` and picks, per
route, the highest **released** version at most 7.1 and never above the route's ``maxVersion``;
a ``-preview.N`` version only for a route that has never been released (``releasedVersion``
``0.0``). It also says which deployment (``services`` or ``server``) the answers came from and
what a missing route means for a resource. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Version = tuple[int, int]
Deployment = Literal["services", "server"]

CEILING: Version = (7, 1)  # the newest api-version this crawler was written against
NEVER: Version = (0, 0)  # ADO's releasedVersion of a route that is preview only
_VERSION = re.compile(r"^\s*(\d+)(?:\.(\d+))?")


def parse_version(value: Any) -> Version | None:
    """``(major, minor)`` from ADO's version values: ``5.0`` (a JSON number), ``"7.1"``, ``6``.

    Anything after the number (``-preview.1``) is ignored; None when there is no number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, 0)
    if isinstance(value, float):
        value = f"{value:.1f}"
    if not isinstance(value, str):
        return None
    match = _VERSION.match(value)
    if match is None:
        return None
    return (int(match.group(1)), int(match.group(2) or 0))


def format_version(version: Version) -> str:
    """``"7.1"`` for ``(7, 1)``."""
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True, slots=True)
class Location:
    """One route of the server's location data."""

    id: str  # lower-case GUID
    area: str
    resource: str
    route: str
    min_version: Version
    max_version: Version
    released: Version  # NEVER when the route has only preview versions
    resource_version: int


def choose_version(location: Location, ceiling: Version = CEILING) -> str | None:
    """The api-version to send to ``location``, or None when no version we speak fits.

    The highest released version at most ``ceiling`` and at most ``maxVersion``; a route
    released only above the ceiling (or never) gets ``{top}-preview.{resourceVersion}``,
    where ``top`` is the lower of the ceiling and ``maxVersion``. None when even ``top`` is
    below the route's ``minVersion`` (a route that only takes versions newer than ours).
    """
    top = min(location.max_version, ceiling)
    if top < location.min_version or top < (1, 0):
        return None
    if location.released != NEVER and location.min_version <= location.released <= top:
        # released <= top <= maxVersion: the newest version both sides call stable.
        return format_version(location.released)
    return f"{format_version(top)}-preview.{max(1, location.resource_version)}"


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Every route a server offers, by location id."""

    locations: Mapping[str, Location]

    def get(self, location_id: str) -> Location | None:
        """The route with this id, if the server has it."""
        return self.locations.get(location_id.lower())

    def version_for(self, location_id: str, ceiling: Version = CEILING) -> str | None:
        """The api-version for this route, or None when the server lacks it (or no version fits)."""
        location = self.get(location_id)
        return None if location is None else choose_version(location, ceiling)

    @property
    def highest_released(self) -> Version:
        """The highest released version any route offers (the server's API version)."""
        released = [loc.released for loc in self.locations.values() if loc.released != NEVER]
        return max(released, default=NEVER)

    @property
    def highest(self) -> Version:
        """The highest version any route accepts, previews included."""
        return max((loc.max_version for loc in self.locations.values()), default=NEVER)

    @property
    def api_version(self) -> str:
        """``highest_released`` as text, e.g. ``"5.0"`` for Azure DevOps Server 2019."""
        return format_version(self.highest_released)


def _location(entry: Mapping[str, Any]) -> Location | None:
    raw_id = entry.get("id")
    max_version = parse_version(entry.get("maxVersion"))
    if not isinstance(raw_id, str) or not raw_id or max_version is None:
        return None
    resource_version = entry.get("resourceVersion")
    return Location(
        id=raw_id.strip().lower(),
        area=str(entry.get("area") or ""),
        resource=str(entry.get("resourceName") or ""),
        route=str(entry.get("routeTemplate") or ""),
        min_version=parse_version(entry.get("minVersion")) or (1, 0),
        max_version=max_version,
        released=parse_version(entry.get("releasedVersion")) or NEVER,
        resource_version=resource_version if isinstance(resource_version, int) else 1,
    )


def parse_location_data(data: Any) -> RouteTable:
    """The route table from a decoded ``OPTIONS {collection}/_apis`` body.

    Raises ValueError when the body is not ADO's ``{"count", "value": [...]}`` envelope or
    holds no usable route; entries without an id or a ``maxVersion`` are skipped. When an id
    appears twice (one route, several templates), the entry with the higher version wins.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("value"), list):
        raise ValueError("the location data is not an ADO list envelope (no 'value' array)")
    table: dict[str, Location] = {}
    for entry in data["value"]:
        if not isinstance(entry, Mapping):
            continue
        location = _location(entry)
        if location is None:
            continue
        known = table.get(location.id)
        if known is None or (location.max_version, location.released) > (
            known.max_version,
            known.released,
        ):
            table[location.id] = location
    if not table:
        raise ValueError("the location data lists no route")
    return RouteTable(table)


def deployment_of(org_kind: str, table: RouteTable | None) -> Deployment:
    """``services`` for dev.azure.com and *.visualstudio.com, ``server`` for any other host.

    A loopback URL (the emulator) could be either: there the location data decides, since the
    cloud always offers versions above the newest Azure DevOps Server's (7.2 previews while
    Server 2022.1 stops at 7.1) [inferred from the specs' version sets].
    """
    if org_kind in ("cloud", "legacy"):
        return "services"
    if org_kind == "loopback" and table is not None and table.highest > CEILING:
        return "services"
    return "server"


def not_supported_message(
    resource: str, location_id: str, table: RouteTable, deployment: Deployment
) -> str:
    """What to tell the user about a resource whose route the server does not offer."""
    where = "Azure DevOps Services" if deployment == "services" else "this Azure DevOps Server"
    location = table.get(location_id)
    if location is None:
        why = f"does not offer its API (route {location_id} is not in its location data)"
    else:
        why = (
            f"offers its API ({location.area}/{location.resource}) only at versions "
            f"{format_version(location.min_version)} and later, above the "
            f"{format_version(CEILING)} this crawler speaks"
        )
    return (
        f"{resource}: not supported here: {where} (highest API version {table.api_version}) "
        f"{why}. Everything else was crawled; upgrade the server or leave {resource} out of "
        "--resources."
    )


# Location ids of routes the crawler (or its next resources) addresses, from the official
# clients (azure-devops Python SDK 5.1-7.1, Node/Go clients for secure files). When each first
# appeared on Azure DevOps Server is in crawler/emulator/versions.py.
CONNECTION_DATA = "00d9565f-ed9c-4a06-9a50-00e7896ccab4"  # Location, every version (preview)
RESOURCE_AREAS = "e81700f7-3be2-46de-8624-2eb35882fcaa"  # Location, every version (preview)
BUILD_GENERAL_SETTINGS = "c4aefd19-30ff-405b-80ad-aca021e7242a"  # 6.0 preview, 7.0 released
PIPELINE_PERMISSIONS = "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2"  # 6.0 on, preview only
CHECK_CONFIGURATIONS = "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea"  # 6.0 on, preview only
CHECK_QUERY_CONFIGURATIONS = "5f3d0e64-f943-4584-8811-77eb495e831e"  # 6.0 on, preview only
SECURE_FILES = "adcfd8bc-b184-43ba-bd84-7c8c6a2ff421"  # 3.2 on, preview only
