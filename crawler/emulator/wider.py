"""The wider resources of the seeded organization: variable groups, service endpoints,
environments, agent queues and policies, and every wider listing per project (release
definitions from ``wider_release``; commits and builds in ``wider_activity``).

Like the core model, every item is a pure function of (seed, project, kind, index), drawn from
its own stream so the core resources stay byte-identical. Shapes follow ado-spec (release,
taskAgent, serviceEndpoint, policy, git 7.1). ``planted_secret`` puts a marker into every place
a real organization holds secrets, so tests can prove none of it reaches a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator

from crawler.emulator.model import Org
from crawler.emulator.projects import Project, Repository, short_ref
from crawler.emulator.seeded import (
    ENV_WORDS,
    PEOPLE,
    JsonDict,
    draw_date,
    draw_guid,
    identity_ref,
    planted_secret,
    stable_rng,
    variables_map,
)
from crawler.emulator.wider_release import release_definition

# Resource keys of the snapshot, by the route kinds the emulator serves them under.
WIDER_KEYS = (
    "release_definitions",
    "variable_groups",
    "service_endpoints",
    "environments",
    "queues",
    "policies",
    "repository_activity",
)
# Project-level paths (lower-cased segments after _apis) -> route kind.
WIDER_PATHS: dict[tuple[str, ...], str] = {
    ("release", "definitions"): "release_definitions",
    ("distributedtask", "variablegroups"): "variable_groups",
    ("distributedtask", "queues"): "queues",
    ("distributedtask", "environments"): "environments",
    ("serviceendpoint", "endpoints"): "service_endpoints",
    ("policy", "configurations"): "policies",
}

REQUIRED_REVIEWERS = "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd"
BUILD_VALIDATION = "0609b952-1397-4640-95ec-e00a01b2c241"
POLICY_TYPES = (
    (REQUIRED_REVIEWERS, "Minimum number of reviewers"),
    (BUILD_VALIDATION, "Build"),
    ("c6a1889d-b943-4856-b76f-9e46bb6b0df2", "Comment requirements"),
    ("40e92b44-2fe1-4dd6-b3d8-74a9c21d0c6e", "Work item linking"),
)
_QUEUES = (
    ("Azure Pipelines", 9, "Azure Pipelines", True),
    ("Default", 1, "Default", False),
    ("Linux builders", 12, "Linux builders", False),
    ("Windows builders", 13, "Windows builders", False),
)
_ENDPOINT_KINDS = (
    ("azurerm", "ServicePrincipal", "https://management.azure.com/"),
    ("github", "PersonalAccessToken", "https://github.com"),
    ("dockerregistry", "UsernamePassword", "https://index.docker.io/v1/"),
    ("generic", "UsernamePassword", "https://deploy.fabrikam.example/"),
    ("kubernetes", "Kubernetes", "https://aks.fabrikam.example:443"),
)


# -- distributed task: variable groups, queues, environments --------------------------------


def variable_group(org: Org, p: int, i: int, base: str) -> JsonDict:
    """Variable group ``i`` of project ``p`` (org-unique id)."""
    config = org.config
    project = org.project(p)
    rng = stable_rng(org.seed, "variable-group", p, i)
    gid = p * config.variable_groups_per_project + i + 1
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    vault = rng.random() < 0.25
    item: JsonDict = {
        "variables": variables_map(config, rng, f"group-{gid}", rng.randrange(1, 5)),
        "id": gid,
        "type": "AzureKeyVault" if vault else "Vsts",
        "name": f"{rng.choice(('shared', 'deploy', 'secrets', 'config'))}-{ENV_WORDS[i % 6]}-{i}",
        "description": rng.choice(("", "Settings for the deployment", "Ünïcode & <stuff>")),
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "modifiedBy": author,
        "modifiedOn": draw_date(rng, 1200, 500),
        "isShared": False,
        "variableGroupProjectReferences": [
            {
                "projectReference": short_ref(project),
                "name": f"group {i}",
                "description": "",
            }
        ],
    }
    if vault:
        item["providerData"] = {
            "serviceEndpointId": draw_guid(rng),
            "vault": planted_secret(config, f"vault-{gid}") or f"kv-fabrikam-{gid}",
            "lastRefreshedOn": draw_date(rng, 1500, 100),
        }
    return item


def queue(org: Org, p: int, k: int) -> JsonDict:
    """Agent queue ``k`` of project ``p``; ids match the build definitions' ``queue``."""
    name, pool_id, pool_name, hosted = _QUEUES[k % len(_QUEUES)]
    return {
        "id": p * 4 + k + 1,
        "projectId": org.project(p).id,
        "name": name,
        "pool": {
            "id": pool_id,
            "scope": "8b9bd2aa-7b4b-4b43-9c5b-4c1f3c2a0000",
            "name": pool_name,
            "isHosted": hosted,
            "poolType": "automation",
            "size": 10 if hosted else 2 + pool_id % 3,
            "isLegacy": hosted,
            "options": "none",
        },
    }


def environment(org: Org, p: int, i: int, base: str) -> JsonDict:
    """Pipeline environment ``i`` of project ``p`` (org-unique id)."""
    project = org.project(p)
    rng = stable_rng(org.seed, "environment", p, i)
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    return {
        "id": p * org.config.environments_per_project + i + 1,
        "name": f"{ENV_WORDS[i % len(ENV_WORDS)]}{'' if i < 6 else i}",
        "description": rng.choice(("", "Where things run")),
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "lastModifiedBy": author,
        "lastModifiedOn": draw_date(rng, 1200, 500),
        "project": short_ref(project),
    }


# -- service endpoints ----------------------------------------------------------------------


def _endpoint_home(org: Org, p: int, i: int) -> tuple[str, list[int]]:
    """(endpoint id, project indices it is shared with, owner first)."""
    rng = stable_rng(org.seed, "endpoint-home", p, i)
    guid = draw_guid(rng)
    shared = [p]
    if org.config.projects > 1 and rng.random() < 0.3:
        shared.append((p + 1 + rng.randrange(org.config.projects - 1)) % org.config.projects)
    return guid, shared


def service_endpoint(org: Org, p: int, i: int, base: str) -> JsonDict:
    """Service endpoint ``i`` owned by project ``p``, as any project it is shared with lists it."""
    config = org.config
    rng = stable_rng(org.seed, "endpoint", p, i)
    guid, shared = _endpoint_home(org, p, i)
    kind, scheme, url = _ENDPOINT_KINDS[rng.randrange(len(_ENDPOINT_KINDS))]
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), base)
    parameters: JsonDict = {"tenantid": draw_guid(rng), "serviceprincipalid": draw_guid(rng)}
    secret = planted_secret(config, f"endpoint-{guid}")
    parameters["serviceprincipalkey" if kind == "azurerm" else "password"] = secret
    data: JsonDict = {
        "environment": "AzureCloud",
        "scopeLevel": "Subscription",
        "creationMode": "Manual",
        "subscriptionId": draw_guid(rng),
    }
    if secret is not None:
        data["accessToken"] = secret
    refs = []
    for q in shared:
        proj = org.project(q)
        refs.append({"projectReference": short_ref(proj), "name": f"{kind}-{i}", "description": ""})
    return {
        "data": data,
        "id": guid,
        "name": f"{kind}-{i}",
        "type": kind,
        "url": url,
        "createdBy": author,
        "description": rng.choice(("", "Deployments to production")),
        "authorization": {"parameters": parameters, "scheme": scheme},
        "isShared": len(shared) > 1,
        "isReady": rng.random() < 0.9,
        "isOutdated": False,
        "owner": rng.choice(("library", "library", "agentcloud")),
        "serviceEndpointProjectReferences": refs,
        "operationStatus": {"state": "Ready", "statusMessage": ""},
    }


def endpoints_listed_in(org: Org, q: int) -> Iterator[tuple[int, int]]:
    """(owner project, index) of every endpoint project ``q`` lists: its own and shared ones."""
    per = org.config.service_endpoints_per_project
    for p in range(org.config.projects):
        for i in range(per):
            if q == p or q in _endpoint_home(org, p, i)[1]:
                yield p, i


# -- policies -------------------------------------------------------------------------------


def policy(org: Org, p: int, i: int, base: str) -> JsonDict:
    """Policy configuration ``i`` of project ``p`` (ids 1.. per project), scoped to a branch."""
    project = org.project(p)
    rng = stable_rng(org.seed, "policy", p, i)
    candidates = [r for r in org.repositories(p) if not r.empty and not r.hidden]
    type_id, type_name = POLICY_TYPES[rng.randrange(len(POLICY_TYPES))]
    repo: Repository | None = rng.choice(candidates) if candidates else None
    scope: JsonDict = {"repositoryId": repo.id if repo else None}
    if repo is not None:
        scope |= {"refName": repo.default_branch, "matchKind": "exact"}
    settings: JsonDict = {"scope": [scope]}
    if type_id == REQUIRED_REVIEWERS:
        settings |= {
            "minimumApproverCount": rng.randrange(1, 3),
            "creatorVoteCounts": False,
            "allowDownvotes": False,
            "resetOnSourcePush": rng.random() < 0.5,
        }
    elif type_id == BUILD_VALIDATION:
        defs = org.config.pipelines_per_project
        settings |= {
            "buildDefinitionId": org.definition_id(p, i % defs) if defs else 0,
            "queueOnSourceUpdateOnly": True,
            "manualQueueOnly": False,
            "displayName": None,
            "validDuration": 720.0,
        }
    pid = i + 1
    url = f"{base}/{project.id}/_apis/policy/configurations/{pid}"
    return {
        "createdBy": identity_ref(org.seed, rng.randrange(len(PEOPLE)), base),
        "createdDate": draw_date(rng, 300, 1200),
        "isEnabled": rng.random() < 0.85,
        "isBlocking": rng.random() < 0.8,
        "isDeleted": False,
        "settings": settings,
        "isEnterpriseManaged": False,
        "id": pid,
        "type": {
            "id": type_id,
            "url": f"{base}/{project.id}/_apis/policy/types/{type_id}",
            "displayName": type_name,
        },
        "url": url,
        "revision": rng.randrange(1, 6),
    }


# -- listings per project ------------------------------------------------------------------


def project_items(
    org: Org, kind: str, project: Project, base: str, *, expand: bool = False
) -> list[JsonDict]:
    """Every item of route ``kind`` that project ``project``'s listing returns, in listing order."""
    config = org.config
    p = project.index
    if kind == "release_definitions":
        return [
            release_definition(org, p, i, base, expand=expand)
            for i in range(config.release_definitions_per_project)
        ]
    if kind == "variable_groups":
        groups = [
            variable_group(org, p, i, base) for i in range(config.variable_groups_per_project)
        ]
        return sorted(groups, key=lambda g: -int(g["id"]))  # ADO's default: IdDescending
    if kind == "queues":
        return [queue(org, p, k) for k in range(min(config.queues_per_project, len(_QUEUES)))]
    if kind == "environments":
        return [environment(org, p, i, base) for i in range(config.environments_per_project)]
    if kind == "service_endpoints":
        return [service_endpoint(org, o, i, base) for o, i in endpoints_listed_in(org, p)]
    if kind == "policies":
        return [policy(org, p, i, base) for i in range(config.policies_per_project)]
    raise ValueError(kind)
