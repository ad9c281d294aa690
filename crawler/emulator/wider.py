"""The wider resources of the seeded organization: release definitions, variable groups, service
endpoints, environments, agent queues, policies, last commits and latest builds.

Like the core model, every item is a pure function of (seed, project, kind, index), drawn from
its own stream so the core resources stay byte-identical. Shapes follow ado-spec (release,
taskAgent, serviceEndpoint, policy, git 7.1). ``planted_secret`` puts a marker into every place
a real organization holds secrets, so tests can prove none of it reaches a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.projects import Project, Repository
from crawler.emulator.seeded import (
    PEOPLE,
    Draw,
    JsonDict,
    draw_date,
    draw_guid,
    identity_ref,
    stable_rng,
)

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

RELEASE_AREA_ID = "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"
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
_ENV_WORDS = ("dev", "test", "staging", "production", "qa", "perf")
_RELEASE_NAMES = ("{repo} CD", "Deploy {i}", "Infra release {i}", "Déploiement {i}")
_BUILD_RESULTS = ("succeeded", "succeeded", "succeeded", "failed", "partiallySucceeded", "canceled")


def _secret(config: EmulatorConfig, where: str) -> str | None:
    return None if config.planted_secret is None else f"{config.planted_secret}-{where}"


def release_base(config: EmulatorConfig, base: str) -> str:
    """The base URL (no trailing '/') the release area is served under, for items and routes."""
    if config.release_url is not None:
        return config.release_url.rstrip("/")
    if config.release_host is None:
        return base
    parts = urlsplit(base)
    netloc = config.release_host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _pref(project: Project) -> JsonDict:
    return {"id": project.id, "name": project.name}


def _variables(config: EmulatorConfig, rng: Draw, where: str, count: int) -> JsonDict:
    """A {name: {value, isSecret}} map: secret values come back null, like ADO; with a planted
    secret, every value (a non-secret one too) carries the marker."""
    out: JsonDict = {}
    for k in range(count):
        secret = k % 2 == 1
        name = rng.choice(("connectionString", "apiKey", "region", "sku", "password", "url"))
        name = f"{name}{k}"
        planted = _secret(config, f"{where}-{name}")
        if secret:
            out[name] = {"value": planted, "isSecret": True}
        else:
            out[name] = {"value": planted or rng.choice(("westeurope", "S1", "https://x.example"))}
    return out


# -- release definitions -------------------------------------------------------------------


def release_definition(org: Org, p: int, i: int, base: str, *, expand: bool = False) -> JsonDict:
    """Release definition ``i`` of project ``p`` (ids 1.. per project) as the list returns it."""
    config = org.config
    project = org.project(p)
    rng = stable_rng(org.seed, "release-def", p, i)
    rid = i + 1
    rbase = release_base(config, base)  # every URL of a vsrm answer uses the vsrm base
    repos = [r for r in org.repositories(p) if not r.hidden]
    repo_name = repos[i % len(repos)].name if repos else "app"
    author = identity_ref(org.seed, rng.randrange(len(PEOPLE)), rbase)
    item: JsonDict = {
        "source": rng.choice(("userInterface", "restApi")),
        "id": rid,
        "revision": rng.randrange(1, 40),
        "name": rng.choice(_RELEASE_NAMES).format(repo=repo_name, i=i),
        "description": None,
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 900),
        "modifiedBy": author,
        "modifiedOn": draw_date(rng, 900, 600),
        "path": rng.choice(("\\", "\\", "\\Deploy")),
        "variableGroups": None,
        "releaseNameFormat": "Release-$(rev:r)",
        "url": f"{rbase}/{project.id}/_apis/Release/definitions/{rid}",
        "properties": {},
    }
    if rng.random() < 0.8:
        number = rng.randrange(1, 300)
        item["lastRelease"] = {
            "id": p * 1000 + number,
            "name": f"Release-{number}",
            "artifacts": [],
            "webAccessUri": None,
            "description": "",
            "releaseDefinition": {"id": rid},
            "createdOn": draw_date(rng, 600, 1200),
            "createdBy": author,
            "modifiedBy": None,
            "reason": rng.choice(("manual", "continuousIntegration", "schedule")),
        }
    if expand:
        item["environments"] = [
            _release_environment(org, rng, p, rid, k, rbase) for k in range(rng.randrange(1, 4))
        ]
        defs = org.config.pipelines_per_project
        item["artifacts"] = (
            [
                {
                    "sourceId": f"{project.id}:{org.definition_id(p, i % defs)}",
                    "type": "Build",
                    "alias": f"_{repo_name}",
                    "definitionReference": {
                        "definition": {
                            "id": str(org.definition_id(p, i % defs)),
                            "name": org.definition_name(p, i % defs),
                        },
                        "project": {"id": project.id, "name": project.name},
                        "defaultVersionType": {"id": "latestType", "name": "Latest"},
                    },
                    "isPrimary": True,
                    "isRetained": False,
                }
            ]
            if defs
            else []
        )
    return item


def _release_environment(org: Org, rng: Draw, p: int, rid: int, k: int, base: str) -> JsonDict:
    queue = org.project(p).index * 4 + 1
    return {
        "id": rid * 10 + k + 1,
        "name": _ENV_WORDS[k % len(_ENV_WORDS)],
        "rank": k + 1,
        "owner": identity_ref(org.seed, rng.randrange(len(PEOPLE)), base),
        "variables": _variables(org.config, rng, f"release-{p}-{rid}-{k}", 2),
        "variableGroups": [],
        "preDeployApprovals": {
            "approvals": [{"rank": 1, "isAutomated": k == 0, "isNotificationOn": False, "id": k}],
            "approvalOptions": None,
        },
        "deployPhases": [
            {
                "deploymentInput": {"queueId": queue},
                "rank": 1,
                "phaseType": "agentBasedDeployment",
                "name": "Agent job",
                "workflowTasks": [],
            }
        ],
        "conditions": [],
        "retentionPolicy": {"daysToKeep": 30, "releasesToKeep": 3, "retainBuild": True},
    }


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
        "variables": _variables(config, rng, f"group-{gid}", rng.randrange(1, 5)),
        "id": gid,
        "type": "AzureKeyVault" if vault else "Vsts",
        "name": f"{rng.choice(('shared', 'deploy', 'secrets', 'config'))}-{_ENV_WORDS[i % 6]}-{i}",
        "description": rng.choice(("", "Settings for the deployment", "Ünïcode & <stuff>")),
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "modifiedBy": author,
        "modifiedOn": draw_date(rng, 1200, 500),
        "isShared": False,
        "variableGroupProjectReferences": [
            {
                "projectReference": _pref(project),
                "name": f"group {i}",
                "description": "",
            }
        ],
    }
    if vault:
        item["providerData"] = {
            "serviceEndpointId": draw_guid(rng),
            "vault": _secret(config, f"vault-{gid}") or f"kv-fabrikam-{gid}",
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
        "name": f"{_ENV_WORDS[i % len(_ENV_WORDS)]}{'' if i < 6 else i}",
        "description": rng.choice(("", "Where things run")),
        "createdBy": author,
        "createdOn": draw_date(rng, 0, 1200),
        "lastModifiedBy": author,
        "lastModifiedOn": draw_date(rng, 1200, 500),
        "project": _pref(project),
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
    secret = _secret(config, f"endpoint-{guid}")
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
        refs.append({"projectReference": _pref(proj), "name": f"{kind}-{i}", "description": ""})
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
        scope |= {"refName": _default_branch(repo), "matchKind": "exact"}
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


def _default_branch(repo: Repository) -> str:
    return "refs/heads/main" if repo.index % 3 else "refs/heads/master"


# -- activity: last commits and latest builds ----------------------------------------------


def last_commits(org: Org, repo: Repository, base: str) -> list[JsonDict]:
    """``commits?searchCriteria.$top=1``: the newest commit of the default branch ([] if empty)."""
    if repo.empty:
        return []
    project = org.project(repo.project)
    rng = stable_rng(org.seed, "commit", repo.project, repo.index)
    sha = f"{rng.getrandbits(160):040x}"
    name, email = PEOPLE[rng.randrange(len(PEOPLE))]
    when = draw_date(rng, 0, 2000)
    person = {"name": name, "email": email, "date": when}
    return [
        {
            "commitId": sha,
            "author": person,
            "committer": dict(person),
            "comment": _secret(org.config, f"commit-{repo.id}") or "Merge pull request 42",
            "changeCounts": {"Add": rng.randrange(5), "Edit": rng.randrange(9), "Delete": 0},
            "url": f"{base}/{project.id}/_apis/git/repositories/{repo.id}/commits/{sha}",
            "remoteUrl": f"{base}/{project.id}/_git/{repo.id}/commit/{sha}",
        }
    ]


def latest_builds(org: Org, p: int, i: int, base: str) -> JsonDict:
    """``latestBuild``/``latestCompletedBuild`` of definition ``i`` ({} when never built)."""
    rng = stable_rng(org.seed, "latest-build", p, i)
    if rng.random() < 0.2:
        return {}
    project = org.project(p)
    did = org.definition_id(p, i)

    def build(n: int, running: bool) -> JsonDict:
        queued = draw_date(rng, 0, 2000)
        out: JsonDict = {
            "id": did * 1000 + n,
            "buildNumber": f"{queued[:10].replace('-', '')}.{n}",
            "status": "inProgress" if running else "completed",
            "queueTime": queued,
            "startTime": queued,
            "sourceBranch": "refs/heads/main",
            "url": f"{base}/{project.id}/_apis/build/Builds/{did * 1000 + n}",
        }
        if not running:
            out["result"] = rng.choice(_BUILD_RESULTS)
            out["finishTime"] = queued
        return out

    number = rng.randrange(2, 500)
    if rng.random() < 0.15:
        return {
            "latestBuild": build(number, True),
            "latestCompletedBuild": build(number - 1, False),
        }
    done = build(number, False)
    return {"latestBuild": done, "latestCompletedBuild": dict(done)}


# -- ground truth ---------------------------------------------------------------------------


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


def _with_project(item: JsonDict, project: Project) -> JsonDict:
    if isinstance(item.get("project"), dict):
        return item
    return {**item, "project": _pref(project)}


def wider_truth(
    config: EmulatorConfig,
    base_url: str,
    *,
    visible: bool = False,
    release_expand: bool = False,
) -> dict[str, list[JsonDict]]:
    """Every wider resource as served (minus ``_links``), each item with its listing project's
    ``project`` {id, name} (as the crawl adds it); ``visible`` keeps only what the token reads."""
    org = Org(config)
    base = base_url.rstrip("/")
    projects = [p for p in org.projects() if not visible or org.project_visible(p)]
    out: dict[str, list[JsonDict]] = {key: [] for key in WIDER_KEYS}
    for project in projects:
        for kind in WIDER_PATHS.values():
            if visible and kind == "service_endpoints" and not config.endpoints_readable:
                continue
            items = project_items(org, kind, project, base, expand=release_expand)
            out[kind] += [_with_project(item, project) for item in items]
        for repo in org.repositories(project.index):
            if repo.empty or repo.is_disabled or (visible and not org.repo_reachable(repo)):
                continue
            commits = last_commits(org, repo, base)
            out["repository_activity"].append(
                {
                    "id": repo.id,
                    "name": repo.name,
                    "project": _pref(project),
                    "defaultBranch": _default_branch(repo),
                    "lastCommit": _stored_commit(commits[0]) if commits else None,
                }
            )
    return out


def _stored_commit(commit: JsonDict) -> JsonDict:
    """A commit as the crawl stores it: no ``_links``, no free-text ``comment``."""
    return {k: v for k, v in commit.items() if k not in ("_links", "comment")}


def with_latest_builds(org: Org, definitions: list[JsonDict], base: str) -> list[JsonDict]:
    """Full definitions as ``includeLatestBuilds=true`` returns them."""
    out = []
    for item in definitions:
        p = org.find_project(str(item["project"]["id"]))
        assert p is not None
        i = next(
            k
            for k in range(org.config.pipelines_per_project)
            if org.definition_id(p.index, k) == item["id"]
        )
        out.append(item | latest_builds(org, p.index, i, base))
    return out
