"""The seeded organization's security posture: its routes, who the token is, the pipeline
settings and the secure files (permissions and checks live in ``posture_checks``).

Like the rest of the model, every value is a pure function of (seed, project, resource), drawn
from its own stream so the existing resources stay byte-identical. Shapes follow the 7.1 specs
and the official SDK (build ``PipelineGeneralSettings``, ``ResourcePipelinePermissions``,
``CheckConfiguration``, taskAgent ``SecureFile``, location ``ConnectionData``). The planted risks
are chosen by project index so that a test can name them (``posture_truth.planted_risks``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.projects import Project
from crawler.emulator.seeded import PEOPLE, JsonDict, draw_date, draw_guid, identity_ref, stable_rng

# Location ids (official SDK clients) of the routes served here, for OPTIONS {org}/_apis.
POSTURE_LOCATIONS: tuple[JsonDict, ...] = (
    {
        "id": "00d9565f-ed9c-4a06-9a50-00e7896ccab4",
        "area": "Location",
        "resourceName": "ConnectionData",
        "routeTemplate": "_apis/{resource}",
        "resourceVersion": 1,
    },
    {
        "id": "c4aefd19-30ff-405b-80ad-aca021e7242a",
        "area": "build",
        "resourceName": "generalSettings",
        "routeTemplate": "{project}/_apis/build/{resource}",
        "resourceVersion": 1,
    },
    {
        "id": "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2",
        "area": "pipelinePermissions",
        "resourceName": "pipelinePermissions",
        "routeTemplate": "{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}",
        "resourceVersion": 1,
    },
    {
        "id": "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea",
        "area": "PipelinesChecks",
        "resourceName": "configurations",
        "routeTemplate": "{project}/_apis/pipelines/checks/{resource}/{id}",
        "resourceVersion": 1,
    },
    {
        "id": "5f3d0e64-f943-4584-8811-77eb495e831e",
        "area": "PipelinesChecks",
        "resourceName": "queryconfigurations",
        "routeTemplate": "{project}/_apis/pipelines/checks/{resource}",
        "resourceVersion": 1,
    },
    {
        "id": "adcfd8bc-b184-43ba-bd84-7c8c6a2ff421",
        "area": "distributedtask",
        "resourceName": "securefiles",
        "routeTemplate": "{project}/_apis/distributedtask/{resource}/{secureFileId}",
        "resourceVersion": 1,
    },
)

# Resource areas of the SDK clients for these routes (ResourceAreas must list them, or the SDK
# asks the deployment-level service on the internet instead).
POSTURE_AREAS: tuple[tuple[str, str], ...] = (
    ("a81a0441-de52-4000-aa15-ff0e07bfbbaa", "pipelinePermissions"),
    ("4a933897-0488-45af-bd82-6fd3ad33f46a", "PipelinesChecks"),
)

_SAFE_SETTINGS: JsonDict = {
    "auditEnforceSettableVar": False,
    "buildsEnabledForForks": False,
    "disableClassicBuildPipelineCreation": False,
    "disableClassicPipelineCreation": False,
    "disableClassicReleasePipelineCreation": False,
    "enableShellTasksArgsSanitizing": True,
    "enableShellTasksArgsSanitizingAudit": False,
    "enforceJobAuthScope": True,
    "enforceJobAuthScopeForForks": True,
    "enforceJobAuthScopeForReleases": True,
    "enforceNoAccessToSecretsFromForks": True,
    "enforceReferencedRepoScopedToken": True,
    "enforceSettableVar": True,
    "forkProtectionEnabled": True,
    "isCommentRequiredForPullRequest": True,
    "publishPipelineMetadata": False,
    "requireCommentsForNonTeamMemberAndNonContributors": False,
    "requireCommentsForNonTeamMembersOnly": False,
    "statusBadgesArePrivate": True,
}
# Project index % 4 -> the settings that differ from the safe ones (the planted risks).
_PLANTED_SETTINGS: tuple[JsonDict, ...] = (
    {},
    {"enforceJobAuthScope": False, "enforceJobAuthScopeForReleases": False},
    {"enforceReferencedRepoScopedToken": False, "enforceSettableVar": False},
    {
        "statusBadgesArePrivate": False,
        "buildsEnabledForForks": True,
        "enforceNoAccessToSecretsFromForks": False,
        "enforceJobAuthScopeForReleases": False,
    },
)


POSTURE_KINDS = frozenset(
    {"connection_data", "general_settings", "secure_files", "permissions", "checks", "checks_query"}
)


def parse_posture_path(
    method: str, project: str | None, rest: Sequence[str], raw_rest: Sequence[str]
) -> tuple[str, str | None, str | None] | None:
    """(route kind, item, area) of a posture path (lower-cased ``rest`` after ``_apis``)."""
    read = method in ("GET", "HEAD")
    if project is None:
        return (
            ("connection_data", None, None) if read and list(rest) == ["connectiondata"] else None
        )
    path = list(rest)
    if read and path == ["build", "generalsettings"]:
        return "general_settings", None, None
    if read and path == ["distributedtask", "securefiles"]:
        return "secure_files", None, None
    if read and len(path) == 4 and path[:2] == ["pipelines", "pipelinepermissions"]:
        return "permissions", raw_rest[3], path[2]
    if read and path == ["pipelines", "checks", "configurations"]:
        return "checks", None, None
    if method == "POST" and path == ["pipelines", "checks", "queryconfigurations"]:
        return "checks_query", None, None
    return None


# -- identity ---------------------------------------------------------------------------------


def build_service(config: EmulatorConfig) -> str:
    """The build service identity a Bearer job token stands for (scoped to a project or not)."""
    if config.scoped_project is not None:
        return f"{config.scoped_project} Build Service ({config.org})"
    return f"Project Collection Build Service ({config.org})"


def identity_name(config: EmulatorConfig, scheme: str) -> str:
    """The display name ADO gives the caller: a build service for Bearer, a person for Basic."""
    if scheme == "basic" or config.bearer_is_user:
        return PEOPLE[0][0]
    return build_service(config)


def connection_data(org: Org, scheme: str) -> JsonDict:
    """``GET _apis/connectionData`` for a caller authenticated with ``scheme``."""
    config = org.config
    name = identity_name(config, scheme)
    collection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"collection:{config.org}:{config.seed}"))
    if scheme == "basic" or config.bearer_is_user:
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{config.seed}"))
        descriptor = f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{PEOPLE[0][1]}"
    else:
        scope = collection_id
        if config.scoped_project is not None:
            project = org.find_project(config.scoped_project)
            scope = project.id if project is not None else collection_id
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"build-service:{scope}"))
        descriptor = f"Microsoft.TeamFoundation.ServiceIdentity;{collection_id}:Build:{scope}"
    user = {
        "id": ident,
        "descriptor": descriptor,
        "subjectDescriptor": f"svc.{ident.replace('-', '')}",
        "providerDisplayName": name,
        "isActive": True,
        "properties": {"Account": {"$type": "System.String", "$value": name}},
        "resourceVersion": 2,
        "metaTypeId": 255,
    }
    return {
        "authenticatedUser": user,
        "authorizedUser": user,
        "instanceId": collection_id,
        "deploymentId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"deployment:{config.seed}")),
        "deploymentType": "hosted",
        "locationServiceData": {
            "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
            "defaultAccessMappingMoniker": "PublicAccessMapping",
            "lastChangeId": 1,
            "lastChangeId64": 1,
        },
    }


# -- general settings -------------------------------------------------------------------------


def general_settings(org: Org, project: Project) -> JsonDict:
    """The project's pipeline general settings (19 booleans), with this project's planted risks.

    A public project, and the project a scoped job token belongs to, is always job-scoped.
    """
    out = dict(_SAFE_SETTINGS) | _PLANTED_SETTINGS[project.index % len(_PLANTED_SETTINGS)]
    scoped = org.config.scoped_project
    if project.visibility == "public" or (
        scoped is not None and scoped.casefold() == project.name.casefold()
    ):
        out["enforceJobAuthScope"] = True
    return out


# -- secure files -----------------------------------------------------------------------------


def secure_file(org: Org, p: int, i: int, base: str) -> JsonDict:
    """Secure file ``i`` of project ``p``: names and properties (the content is never served)."""
    rng = stable_rng(org.seed, "secure-file", p, i)
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    item: JsonDict = {
        "id": draw_guid(rng),
        "name": f"{('signing', 'deploy', 'ios-profile')[i % 3]}-{i}.{('pfx', 'pem', 'p12')[i % 3]}",
        "properties": {"owner": author["displayName"]},
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "modifiedBy": author,
        "modifiedOn": draw_date(rng, 1200, 500),
    }
    secret = org.config.planted_secret
    if secret is not None:
        item["ticket"] = f"{secret}-ticket-{p}-{i}"  # a download ticket: never stored
    return item


def secure_files(org: Org, project: Project, base: str) -> list[JsonDict]:
    """The project's secure files, in listing order."""
    return [
        secure_file(org, project.index, i, base) for i in range(org.config.secure_files_per_project)
    ]
