"""The seeded protected resources of a project, their pipeline permissions and their checks, with
the risks planted in them (open to all pipelines, production without approval, no checks)."""

from __future__ import annotations

from collections.abc import Iterator

from crawler.emulator.model import Org
from crawler.emulator.posture import secure_files
from crawler.emulator.projects import Project
from crawler.emulator.seeded import PEOPLE, JsonDict, draw_date, identity_ref, stable_rng
from crawler.emulator.wider import project_items

APPROVAL = {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"}
TASK_CHECK = {"id": "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7", "name": "Task Check"}
BRANCH_CONTROL_REF = {
    "id": "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b",
    "name": "evaluatebranchProtection",
}
AZURE_FUNCTION_REF = {"id": "537fdb7a-a601-4537-aa70-92645a2b5ce4", "name": "AzureFunction"}
PROTECTED_TYPES = ("endpoint", "variablegroup", "queue", "environment", "securefile", "repository")
PRODUCTION_WORDS = ("prod", "production", "prd", "live")


def is_production_like(name: str) -> bool:
    """An environment whose name says production (prod, production, prd, live)."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    return any(w in PRODUCTION_WORDS or w.startswith("prod") for w in words)


def protected_resources(org: Org, project: Project, base: str) -> Iterator[tuple[str, str, str]]:
    """(type, id, name) of every protected resource the project lists, in a stable order."""
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
