"""Which Azure DevOps the emulator plays: the cloud or one Azure DevOps Server release.

Each server version has a highest api-version, a set of routes (what ``OPTIONS
{collection}/_apis`` lists, with each route's ``releasedVersion`` and ``maxVersion``), the
resource areas ``ResourceAreas`` lists, and a collection URL with a virtual directory
(``/tfs/DefaultCollection``). Release management is on the same host on every server
(``locationUrl`` of the release area = the collection URL).

Facts relied on, and where they come from (``spec`` = MicrosoftDocs/vsts-rest-api-specs,
folders ``specification/{area}/{version}``; the ``azure-devops-server-5.0|6.0|7.0|7.1`` folders
document the on-premises servers; ``sdk`` = the official Python SDK of that generation,
azure-devops 5.1.0b6 (``v5_0``, ``v5_1``), 6.0.0b4 (``v6_0``), 7.1.0b4 (``v7_1``)):

- Versions: Server 2019 = 5.0 (spec ``azure-devops-server-5.0``; 2019 Update 1 = 5.1), Server
  2020 = 6.0, Server 2022 = 7.0, Server 2022.1 = 7.1 (spec ``azure-devops-server-7.1``); the
  cloud releases 7.1 and previews 7.2 (spec ``7.2``). Each route's ``maxVersion`` is the
  server's highest version [inferred: the location service reports its own version on every
  route]. A version above it is answered 400 ``VssVersionOutOfRangeException`` naming the
  server's highest version; a released number on a preview-only route is 400
  ``VssInvalidPreviewVersionException``.
- Released in every version (spec 5.0 up): projects, git repositories, git commits, build
  definitions, release definitions, policy configurations (spec marks none ``x-ms-preview``).
- Preview until 7.0, released from 7.0 (spec ``x-ms-preview`` in 5.0/5.1/6.0, not in 7.0):
  variable groups (5.x ``-preview.1``, 6.0 ``-preview.2``), service endpoints (5.x
  ``-preview.2``, 6.0 ``-preview.4``), agent queues, environments, pipelines (the Pipelines
  API), build general settings.
- Agent queues: documented from 5.1 (spec 5.1 ``5.1-preview.1``; the 5.0 spec and sdk
  ``v5_0`` omit them). The route predates both (TFS clients used ``3.0-preview``), so Server
  2019 lists it at ``5.0-preview.1`` [inferred].
- First appearance: Pipelines API 5.1 (sdk ``v5_1``; absent from Server 2019 RTM),
  environments 6.0 (spec ``azure-devops-server-6.0``; sdk ``v6_0``), build general settings
  6.0 (spec 6.0, ``-preview.1``), pipeline permissions and check configurations 6.0 (sdk
  ``v6_0`` ``-preview.1``; the spec documents them from 6.1/``azure-devops-server-7.0``, so
  their presence on Server 2020 is [inferred] from the SDK and the Server 2020 docs on
  approvals and checks); both stay preview-only through 7.2. Secure files (location
  ``adcfd8bc-…``) are preview-only since 3.2 (the Node and Go clients), in no spec.
- ``connectionData`` and ``ResourceAreas`` are preview-only routes of the Location area on
  every version (sdk: ``-preview.1`` in every generation).
- The shape of the location data (public clients' recorded test bodies of the cloud): versions
  are JSON strings (``"minVersion": "1.0"``, ``"maxVersion": "7.2"``), a preview-only route
  says ``"releasedVersion": "0.0"``, ``ResourceAreas`` has ``minVersion`` 3.2, git
  repositories ``resourceVersion`` 2 (its 7.2-preview.2). The Python SDK reads the versions
  as floats either way.
- Paging: the same in every version for the listings served here (spec: projects take
  ``$top``/``$skip``/``continuationToken`` in 5.0, 6.0 and 7.1; build definitions, release
  definitions, policies and the Pipelines API page with ``x-ms-continuationtoken``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crawler.emulator.seeded import JsonDict

Version = tuple[int, int]
NEVER: Version = (0, 0)


@dataclass(frozen=True, slots=True)
class Profile:
    """One deployment the emulator can play."""

    name: str  # as given to --server-version
    label: str  # as users name it
    highest: Version  # the highest api-version accepted (previews included)
    released: Version  # the highest released api-version
    virtual_dir: str  # the collection URL's virtual directory ("" on the cloud)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("services", "Azure DevOps Services", (7, 2), (7, 1), ""),
        Profile("2022.1", "Azure DevOps Server 2022.1", (7, 1), (7, 1), "tfs"),
        Profile("2022", "Azure DevOps Server 2022", (7, 0), (7, 0), "tfs"),
        Profile("2020", "Azure DevOps Server 2020", (6, 0), (6, 0), "tfs"),
        Profile("2019", "Azure DevOps Server 2019", (5, 0), (5, 0), "tfs"),
    )
}
SERVER_VERSIONS = tuple(PROFILES)


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One route: its location, when it first appeared, and from which version it is released."""

    id: str
    area: str
    resource: str
    template: str
    first: Version
    released_from: Version | None  # None: preview only, in every version
    # resourceVersion: (from version, number) steps, ascending
    resource_versions: tuple[tuple[Version, int], ...] = (((1, 0), 1),)
    kind: str | None = None  # the emulator's route kind served under it

    def resource_version(self, version: Version) -> int:
        """The ``resourceVersion`` this route had at ``version``."""
        number = self.resource_versions[0][1]
        for since, value in self.resource_versions:
            if since <= version:
                number = value
        return number


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1", "core", "projects",
        "_apis/{resource}/{*projectId}", (1, 0), (1, 0), (((1, 0), 4),), "projects",
    ),
    RouteSpec(
        "225f7195-f9c7-4d14-ab28-a83f7ff77e1f", "git", "repositories",
        "{project}/_apis/{area}/{resource}/{repositoryId}", (1, 0), (1, 0),
        (((1, 0), 1), ((7, 2), 2)), "repositories",
    ),
    RouteSpec(
        "c2570c3b-5b3f-41b8-98bf-5407bfde8d58", "git", "commits",
        "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{commitId}",
        (1, 0), (1, 0), kind="commits",
    ),
    RouteSpec(
        "dbeaf647-6167-421a-bda9-c9327b25e2e6", "build", "definitions",
        "{project}/_apis/build/{resource}/{definitionId}", (2, 0), (2, 0), (((2, 0), 7),),
        "definitions",
    ),
    RouteSpec(
        "c4aefd19-30ff-405b-80ad-aca021e7242a", "build", "generalsettings",
        "{project}/_apis/build/{resource}", (6, 0), (7, 0), kind="general_settings",
    ),
    RouteSpec(
        "28e1305e-2afe-47bf-abaf-cbb0e6a91988", "pipelines", "pipelines",
        "{project}/_apis/{resource}/{pipelineId}", (5, 1), (7, 0), kind="pipelines",
    ),
    RouteSpec(
        "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2", "pipelinePermissions", "pipelinePermissions",
        "{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}", (6, 0), None,
        kind="permissions",
    ),
    RouteSpec(
        "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea", "PipelinesChecks", "configurations",
        "{project}/_apis/pipelines/checks/{resource}/{id}", (6, 0), None, kind="checks",
    ),
    RouteSpec(
        "5f3d0e64-f943-4584-8811-77eb495e831e", "PipelinesChecks", "queryconfigurations",
        "{project}/_apis/pipelines/checks/{resource}", (6, 0), None, kind="checks_query",
    ),
    RouteSpec(
        "d8f96f24-8ea7-4cb6-baab-2df8fc515665", "Release", "definitions",
        "{project}/_apis/Release/{resource}/{definitionId}", (2, 0), (2, 0), (((2, 0), 4),),
        "release_definitions",
    ),
    RouteSpec(
        "f5b09dd5-9d54-45a1-8b5a-1c8287d634cc", "distributedtask", "variablegroups",
        "{project}/_apis/distributedtask/{resource}/{groupId}", (3, 2), (7, 0),
        (((3, 2), 1), ((6, 0), 2)), "variable_groups",
    ),
    RouteSpec(
        "900fa995-c559-4923-aae7-f8424fe4fbea", "distributedtask", "queues",
        "{project}/_apis/distributedtask/{resource}/{queueId}", (3, 0), (7, 0), kind="queues",
    ),
    RouteSpec(
        "8572b1fc-2482-47fa-8f74-7e3ed53ee54b", "distributedtask", "environments",
        "{project}/_apis/distributedtask/{resource}/{environmentId}", (6, 0), (7, 0),
        kind="environments",
    ),
    RouteSpec(
        "adcfd8bc-b184-43ba-bd84-7c8c6a2ff421", "distributedtask", "securefiles",
        "{project}/_apis/distributedtask/{resource}/{secureFileId}", (3, 2), None,
        kind="secure_files",
    ),
    RouteSpec(
        "e85f1c62-adfc-4b74-b618-11a150fb195e", "serviceendpoint", "endpoints",
        "{project}/_apis/{area}/{resource}/{endpointId}", (4, 0), (7, 0),
        (((4, 0), 2), ((6, 0), 4)), "service_endpoints",
    ),
    RouteSpec(
        "dad91cbe-d183-45f8-9c6e-9c1164472121", "policy", "configurations",
        "{project}/_apis/{area}/{resource}/{configurationId}", (2, 0), (2, 0), kind="policies",
    ),
    RouteSpec(
        "e81700f7-3be2-46de-8624-2eb35882fcaa", "Location", "ResourceAreas",
        "_apis/{resource}/{areaId}", (3, 2), None, kind="resource_areas",
    ),
    RouteSpec(
        "00d9565f-ed9c-4a06-9a50-00e7896ccab4", "Location", "connectionData",
        "_apis/{resource}", (1, 0), None, kind="connection_data",
    ),
)  # fmt: skip

# Resource areas (ResourceAreas) by id, and the version each first appeared in.
AREAS: tuple[tuple[str, str, Version], ...] = (
    ("79134c72-4a58-4b42-976c-04e7115f32bf", "core", (1, 0)),
    ("4e080c62-fa21-4fbc-8fef-2a10a2b38049", "git", (1, 0)),
    ("5d6898bb-45ec-463f-95f9-54d49c71752e", "build", (2, 0)),
    ("965220d5-5bb9-42cf-8d67-9b146df2a5a4", "build", (2, 0)),
    ("2e0bf237-8973-4ec9-a581-9c3d679d1776", "pipelines", (5, 1)),
    ("efc2f575-36ef-48e9-b672-0c6fb4a48ac5", "release", (2, 0)),
    ("a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd", "distributedtask", (2, 0)),
    ("fb13a388-40dd-4a04-b530-013a739c72ef", "policy", (2, 0)),
    ("5264459e-e5e0-4bd8-b118-0985e68a4ec5", "wit", (1, 0)),
    ("00d9565f-ed9c-4a06-9a50-00e7896ccab4", "Location", (1, 0)),
    # The posture areas (sdk: pipeline_permissions and pipelines_checks clients), from 6.0.
    ("a81a0441-de52-4000-aa15-ff0e07bfbbaa", "pipelinePermissions", (6, 0)),
    ("4a933897-0488-45af-bd82-6fd3ad33f46a", "PipelinesChecks", (6, 0)),
)


def profile(name: str) -> Profile:
    """The profile for ``--server-version NAME``; ValueError naming the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown server version {name!r}: choose one of {', '.join(SERVER_VERSIONS)}"
        ) from None


def _text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def routes_of(prof: Profile) -> tuple[RouteSpec, ...]:
    """The routes this deployment has."""
    return tuple(r for r in ROUTES if r.first <= prof.highest)


def released_of(prof: Profile, route: RouteSpec) -> Version:
    """The route's ``releasedVersion`` on this deployment (NEVER when preview only)."""
    if route.released_from is None or route.released_from > prof.released:
        return NEVER
    return prof.released


def location_entries(prof: Profile) -> list[JsonDict]:
    """The ``OPTIONS {collection}/_apis`` entries of this deployment, as ADO shapes them."""
    return [
        {
            "id": r.id,
            "area": r.area,
            "resourceName": r.resource,
            "routeTemplate": r.template,
            "resourceVersion": r.resource_version(prof.highest),
            "minVersion": _text(r.first),
            "maxVersion": _text(prof.highest),
            "releasedVersion": _text(released_of(prof, r)),
        }
        for r in routes_of(prof)
    ]


def areas_of(prof: Profile) -> tuple[tuple[str, str], ...]:
    """(id, name) of the resource areas this deployment lists."""
    return tuple((i, n) for i, n, first in AREAS if first <= prof.highest)


def route_for_kind(prof: Profile) -> Mapping[str, RouteSpec]:
    """The deployment's routes by the emulator's route kind."""
    return {r.kind: r for r in routes_of(prof) if r.kind is not None}


ALL_KINDS = frozenset(r.kind for r in ROUTES if r.kind is not None)
