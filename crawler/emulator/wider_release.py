"""The seeded release definitions (the vsrm area) and the base URL the release area is served
under."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.seeded import (
    ENV_WORDS,
    PEOPLE,
    Draw,
    JsonDict,
    draw_date,
    identity_ref,
    stable_rng,
    variables_map,
)

RELEASE_AREA_ID = "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"
_RELEASE_NAMES = ("{repo} CD", "Deploy {i}", "Infra release {i}", "Déploiement {i}")


def release_base(config: EmulatorConfig, base: str) -> str:
    """The base URL (no trailing '/') the release area is served under, for items and routes."""
    if config.release_url is not None:
        return config.release_url.rstrip("/")
    if config.release_host is None:
        return base
    parts = urlsplit(base)
    netloc = config.release_host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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
        "name": ENV_WORDS[k % len(ENV_WORDS)],
        "rank": k + 1,
        "owner": identity_ref(org.seed, rng.randrange(len(PEOPLE)), base),
        "variables": variables_map(org.config, rng, f"release-{p}-{rid}-{k}", 2),
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
