"""The seeded organization's security posture: who the token is, pipeline settings, pipeline
permissions, checks and secure files, and the risks planted in them (ground truth for audits).

Like the rest of the model, every value is a pure function of (seed, project, resource), drawn
from its own stream so the existing resources stay byte-identical. Shapes follow the 7.1 specs
and the official SDK (build ``PipelineGeneralSettings``, ``ResourcePipelinePermissions``,
``CheckConfiguration``, taskAgent ``SecureFile``, location ``ConnectionData``). The planted risks
are chosen by project index so that a test can name them (``posture_truth.planted_risks``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

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

APPROVAL = {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"}
TASK_CHECK = {"id": "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7", "name": "Task Check"}
BRANCH_CONTROL_REF = {
    "id": "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b",
    "name": "evaluatebranchProtection",
}
AZURE_FUNCTION_REF = {"id": "537fdb7a-a601-4537-aa70-92645a2b5ce4", "name": "AzureFunction"}
PROTECTED_TYPES = ("endpoint", "variablegroup", "queue", "environment", "securefile", "repository")
PRODUCTION_WORDS = ("prod", "production", "prd", "live")

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


def is_production_like(name: str) -> bool:
    """An environment whose name says production (prod, production, prd, live)."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    return any(w in PRODUCTION_WORDS or w.startswith("prod") for w in words)


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


def identity_name(config: EmulatorConfig, scheme: str) -> str:
    """The display name ADO gives the caller: a build service for Bearer, a person for Basic."""
    if scheme == "basic" or config.bearer_is_user:
        return PEOPLE[0][0]
    if config.scoped_project is not None:
        return f"{config.scoped_project} Build Service ({config.org})"
    return f"Project Collection Build Service ({config.org})"


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


# -- protected resources, permissions and checks ----------------------------------------------


def protected_resources(org: Org, project: Project, base: str) -> Iterator[tuple[str, str, str]]:
    """(type, id, name) of every protected resource the project lists, in a stable order."""
    from crawler.emulator.wider import project_items  # wider builds on the model too

    for item in project_items(org, "service_endpoints", project, base):
        yield "endpoint", str(item["id"]), str(item["name"])
    for item in project_items(org, "variable_groups", project, base):
        yield "variablegroup", str(item["id"]), str(item["name"])
    for item in project_items(org, "queues", project, base):
        yield "queue", str(item["id"]), str(item["name"])
    for item in project_items(org, "environments", project, base):
        yield "environment", str(item["id"]), str(item["name"])
    for item in secure_files(org, project, base):
        yield "securefile", str(item["id"]), str(item["name"])
    for repo in org.repositories(project.index):
        yield "repository", f"{project.id}.{repo.id}", repo.name


def open_to_all(org: Org, project: Project, kind: str, resource_id: str) -> bool:
    """Is this resource authorized for every pipeline of the project (a planted risk)?"""
    if kind == "queue":  # the hosted queue is open to all pipelines, as ADO creates it
        return (int(resource_id) - 1) % 4 == 0 and project.index % 2 == 0
    rng = stable_rng(org.seed, "open", project.index, kind, resource_id)
    return rng.random() < 0.3


def pipeline_permissions(
    org: Org, project: Project, kind: str, resource_id: str, base: str
) -> JsonDict:
    """``ResourcePipelinePermissions`` of one resource as this project sees it."""
    rng = stable_rng(org.seed, "permissions", project.index, kind, resource_id)
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    when = draw_date(rng, 1000, 800)
    everyone = open_to_all(org, project, kind, resource_id)
    pipelines = []
    if not everyone:
        for i in range(min(org.config.pipelines_per_project, rng.randrange(0, 3))):
            pipelines.append(
                {
                    "id": org.definition_id(project.index, i),
                    "authorized": True,
                    "authorizedBy": author,
                    "authorizedOn": when,
                }
            )
    all_pipelines: JsonDict = {"authorized": everyone}
    if everyone:
        all_pipelines |= {"authorizedBy": author, "authorizedOn": when}
    name = next(
        (n for k, i, n in protected_resources(org, project, base) if (k, i) == (kind, resource_id)),
        "",
    )
    return {
        # name: the SDK's Resource model has {id, name, type} [inferred that ADO fills it]
        "resource": {"type": kind, "id": resource_id, "name": name},
        "allPipelines": all_pipelines,
        "pipelines": pipelines,
    }


def _check(
    org: Org, project: Project, kind: str, resource_id: str, name: str, n: int, base: str
) -> JsonDict:
    rng = stable_rng(org.seed, "check", project.index, kind, resource_id, n)
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    approver = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    base_id = stable_rng(org.seed, "check-id", project.index, kind, resource_id).randrange(1, 10**6)
    check_id = base_id * 4 + n
    item: JsonDict = {
        "id": check_id,
        "version": 1,
        "url": f"{base}/{project.id}/_apis/pipelines/checks/configurations/{check_id}",
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "modifiedBy": author,
        "modifiedOn": draw_date(rng, 1200, 500),
        "timeout": 43200,
        "resource": {"type": kind, "id": resource_id, "name": name},
    }
    if n == 0:
        item["type"] = dict(APPROVAL)
        item["settings"] = {
            "approvers": [{"displayName": approver["displayName"], "id": approver["id"]}],
            "executionOrder": "anyOrder",
            "minRequiredApprovers": 1,
            "instructions": "Check the change record first",
            "blockedApprovers": [],
            "requesterCannotBeApprover": True,
        }
    elif n == 1:
        item["type"] = dict(TASK_CHECK)
        item["settings"] = {
            "definitionRef": dict(BRANCH_CONTROL_REF) | {"version": "0.0.1"},
            "displayName": "Branch control",
            "inputs": {
                "allowedBranches": "refs/heads/main",
                "ensureProtectionOfBranch": "true",
                "allowUnknownStatusBranch": "false",
            },
            "retryInterval": 5,
        }
    else:
        item["type"] = dict(TASK_CHECK)
        secret = org.config.planted_secret
        item["settings"] = {
            "definitionRef": dict(AZURE_FUNCTION_REF) | {"version": "1.0.0"},
            "displayName": "Invoke Azure Function",
            "inputs": {
                "function": "https://fabrikam-gate.example/api/gate",
                "key": secret or "function-key-placeholder",
                "method": "POST",
            },
            "retryInterval": 5,
        }
    return item


def check_kinds(org: Org, project: Project, kind: str, resource_id: str, name: str) -> list[int]:
    """Which checks (0 approval, 1 branch control, 2 function gate) the resource has.

    Planted: a production-like environment has no approval in odd projects; some service
    connections have no check at all.
    """
    if kind == "environment":
        if is_production_like(name):
            return [1] if project.index % 2 else [0, 1]
        return [0] if project.index % 2 == 0 else []
    if kind == "endpoint":
        rng = stable_rng(org.seed, "endpoint-checks", project.index, resource_id)
        roll = rng.random()
        return [] if roll < 0.4 else [0] if roll < 0.8 else [0, 2]
    if kind == "variablegroup":
        return [0] if project.index % 3 == 0 else []
    if kind == "repository":
        return [1] if project.index % 2 == 0 else []
    return []


def checks_on(org: Org, project: Project, kind: str, resource_id: str, base: str) -> list[JsonDict]:
    """The check configurations on one resource (``$expand=settings`` shape)."""
    names = {(k, i): n for k, i, n in protected_resources(org, project, base)}
    name = names.get((kind, resource_id))
    if name is None:
        return []
    return [
        _check(org, project, kind, resource_id, name, n, base)
        for n in check_kinds(org, project, kind, resource_id, name)
    ]
