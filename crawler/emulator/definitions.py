"""The seeded build definitions: the full definition, its list reference, the Pipelines API view
and the name order definitions list in."""

from __future__ import annotations

import uuid

from crawler.emulator.projects import Project, Repository, project_ref
from crawler.emulator.seeded import (
    PEOPLE,
    JsonDict,
    draw_date,
    draw_guid,
    identity_ref,
    quote_segment,
    stable_rng,
)

# Fields of a build definition that the list returns without includeAllProperties=true
# (DefinitionReference + BuildDefinitionReference in ado-spec/build.json).
REFERENCE_FIELDS = (
    "authoredBy",
    "createdDate",
    "drafts",
    "id",
    "name",
    "path",
    "project",
    "quality",
    "queue",
    "queueStatus",
    "revision",
    "type",
    "uri",
    "url",
)

_FOLDERS = ("\\", "\\", "\\Team", "\\Team\\Sub", "\\Équipe", "\\Release Pipelines")
_TASKS = (
    ("UseDotNet", "2.*"),
    ("DotNetCoreCLI", "2.*"),
    ("PublishBuildArtifacts", "1.*"),
    ("CmdLine", "2.*"),
    ("PowerShell", "2.*"),
    ("NuGetCommand", "2.*"),
)
_TASK_IDS = {task: str(uuid.uuid5(uuid.NAMESPACE_URL, f"task:{task}")) for task, _ in _TASKS}
_OPTION_IDS = tuple(str(uuid.uuid5(uuid.NAMESPACE_URL, f"option:{k}")) for k in range(2))


def name_key(name: str) -> str:
    """The sort key of definition names (case-insensitive, then exact)."""
    return f"{name.casefold()}\x00{name}"


def build_definition(
    seed: int, project: Project, i: int, did: int, name: str, repo: Repository | None, base: str
) -> JsonDict:
    """Full build definition ``i`` of ``project`` (includeAllProperties=true) under ``base``."""
    p = project.index
    rng = stable_rng(seed, "def", p, i)
    revision = rng.randrange(1, 60)
    folder = rng.choice(_FOLDERS)  # drawn in the same order as pipeline_item
    yaml = rng.random() < 0.7
    queue_kind = rng.randrange(2)
    queue_id = p * 4 + queue_kind + 1
    queue_name, pool_id, pool_name = (
        ("Azure Pipelines", 9, "Azure Pipelines") if queue_kind == 0 else ("Default", 1, "Default")
    )
    secret_name = rng.choice(("apiKey", "deployPassword", "sonarToken"))
    variables: JsonDict = {
        "system.debug": {"value": "false", "allowOverride": True},
        "buildConfiguration": {"value": rng.choice(("Release", "Debug"))},
        "dotnetVersion": {"value": rng.choice(("6.x", "7.x", "8.x"))},
        secret_name: {"value": None, "isSecret": True},
    }
    branch_filters = ["+refs/heads/main"] + (
        ["+refs/heads/release/*"] if rng.random() < 0.5 else []
    )
    triggers: list[JsonDict] = [
        {
            "branchFilters": [] if yaml else branch_filters,
            "pathFilters": [] if yaml else ["+/src"],
            "settingsSourceType": 2 if yaml else 1,
            "batchChanges": rng.random() < 0.3,
            "maxConcurrentBuildsPerBranch": 1,
            "triggerType": "continuousIntegration",
        }
    ]
    if rng.random() < 0.3:
        triggers.append(
            {
                "schedules": [
                    {
                        "branchFilters": ["+refs/heads/main"],
                        "timeZoneId": "UTC",
                        "startHours": rng.randrange(24),
                        "startMinutes": 0,
                        "daysToBuild": 31,
                        "scheduleJobId": draw_guid(rng),
                        "scheduleOnlyWithChanges": True,
                    }
                ],
                "triggerType": "schedule",
            }
        )
    process: JsonDict
    if yaml:
        process = {"yamlFilename": rng.choice(("azure-pipelines.yml", "/ci/build.yml")), "type": 2}
    else:
        steps = []
        for k in range(rng.randrange(2, 5)):
            task, version = _TASKS[(i + k) % len(_TASKS)]
            steps.append(
                {
                    "environment": {},
                    "enabled": True,
                    "continueOnError": False,
                    "alwaysRun": False,
                    "displayName": f"{task} step {k + 1}",
                    "timeoutInMinutes": 0,
                    "retryCountOnTaskFailure": 0,
                    "condition": "succeeded()",
                    "task": {
                        "id": _TASK_IDS[task],
                        "versionSpec": version,
                        "definitionType": "task",
                    },
                    "inputs": {
                        "command": rng.choice(("build", "test", "publish")),
                        "projects": "**/*.csproj",
                        "arguments": "--configuration $(buildConfiguration)",
                        "workingDirectory": "",
                    },
                }
            )
        process = {
            "phases": [
                {
                    "steps": steps,
                    "name": "Agent job 1",
                    "refName": "Job_1",
                    "condition": "succeeded()",
                    "target": {
                        "executionOptions": {"type": 0},
                        "allowScriptsAuthAccessOption": False,
                        "type": 1,
                    },
                    "jobAuthorizationScope": "projectCollection",
                }
            ],
            "target": {"agentSpecification": {"identifier": "ubuntu-latest"}},
            "type": 1,
        }
    item: JsonDict = {
        "options": [
            {
                "enabled": rng.random() < 0.5,
                "definition": {"id": _OPTION_IDS[k]},
                "inputs": {"branchFilters": '["+refs/heads/*"]', "additionalFields": "{}"},
            }
            for k in range(2)
        ],
        "triggers": triggers,
        "variables": variables,
        "properties": {},
        "tags": [],
        "jobAuthorizationScope": "project" if rng.random() < 0.4 else "projectCollection",
        "jobTimeoutInMinutes": rng.choice((60, 60, 120, 0)),
        "jobCancelTimeoutInMinutes": 5,
        "badgeEnabled": rng.random() < 0.3,
        "process": process,
        "queue": {
            "id": queue_id,
            "name": queue_name,
            "url": f"{base}/_apis/build/Queues/{queue_id}",
            "pool": {"id": pool_id, "name": pool_name}
            | ({"isHosted": True} if queue_kind == 0 else {}),
        },
        "id": did,
        "name": name,
        "url": f"{base}/{project.id}/_apis/build/Definitions/{did}?revision={revision}",
        "uri": f"vstfs:///Build/Definition/{did}",
        "path": folder,
        "type": "build",
        "queueStatus": rng.choice(("enabled",) * 6 + ("paused", "disabled")),
        "revision": revision,
        "createdDate": draw_date(rng, 200),
        "project": project_ref(project, base),
        "quality": "definition",
        "authoredBy": identity_ref(seed, rng.randrange(len(PEOPLE)), base),
        "drafts": [],
        "buildNumberFormat": "$(date:yyyyMMdd)$(rev:.r)",
    }
    if not yaml:
        item["retentionRules"] = [
            {
                "branches": ["+refs/heads/*"],
                "artifacts": [],
                "artifactTypesToDelete": ["FilePath", "SymbolStore"],
                "daysToKeep": rng.choice((10, 30)),
                "minimumToKeep": 1,
                "deleteBuildRecord": True,
                "deleteTestResults": True,
            }
        ]
    if repo is not None:
        web = f"{base}/{quote_segment(project.name)}/_git/{quote_segment(repo.name)}"
        item["repository"] = {
            "properties": {
                "cleanOptions": "0",
                "labelSources": "0",
                "labelSourcesFormat": "$(build.buildNumber)",
                "reportBuildStatus": "true",
                "fetchDepth": str(rng.choice((0, 1))),
                "gitLfsSupport": "false",
                "skipSyncSource": "false",
                "checkoutNestedSubmodules": "false",
            },
            "id": repo.id,
            "type": "TfsGit",
            "name": repo.name,
            "url": web,
            "defaultBranch": "refs/heads/main",
            "clean": None if yaml else "false",
            "checkoutSubmodules": False,
        }
    return item


def definition_reference(full: JsonDict) -> JsonDict:
    """The list item without includeAllProperties: the reference subset of a full definition."""
    return {k: full[k] for k in REFERENCE_FIELDS if k in full}


def pipeline_item(seed: int, project: Project, i: int, did: int, name: str, base: str) -> JsonDict:
    """The Pipelines API view of definition ``i`` of ``project``."""
    rng = stable_rng(seed, "def", project.index, i)
    revision = rng.randrange(1, 60)
    return {
        "url": f"{base}/{project.id}/_apis/pipelines/{did}?revision={revision}",
        "id": did,
        "revision": revision,
        "name": name,
        "folder": rng.choice(_FOLDERS),
    }
