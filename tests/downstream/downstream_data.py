"""Deterministic snapshots for the downstream tests (diff, merge, report, validate).

``base_snapshot()`` is a small organization with every audit finding in it, and names that need
escaping (``<``, ``&``, quotes, ``|``, non-ASCII). ``changed_snapshot()`` applies known changes.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, actual: str) -> None:
    """Compare with golden/NAME byte for byte (UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8"), f"{name} differs from its golden file"


ORG = "fabrikam"
P_A = "0a0a0a0a-0000-4000-8000-00000000000a"
P_B = "0b0b0b0b-0000-4000-8000-00000000000b"
P_C = "0c0c0c0c-0000-4000-8000-00000000000c"
NAME_A = "Team A"
NAME_B = "Team B"
NAME_C = 'R&D <Core> "Équipe" | ü'


@dataclass
class Result:
    """Exit status and captured output of one CLI run (see the ``cli`` fixture)."""

    code: int
    out: str
    err: str


def rid(n: int) -> str:
    """A repository id (GUID-shaped) from a small number."""
    return f"{n:08x}-1111-4111-8111-{n:012x}"


def _pref(pid: str, name: str) -> dict[str, Any]:
    return {"id": pid, "name": name, "state": "wellFormed", "visibility": "private"}


def project(pid: str, name: str, **extra: Any) -> dict[str, Any]:
    """A TeamProjectReference."""
    return {
        "id": pid,
        "name": name,
        "state": "wellFormed",
        "visibility": "private",
        "revision": 10,
        "lastUpdateTime": "2026-01-02T03:04:05.123Z",
        "url": f"https://dev.azure.com/{ORG}/_apis/projects/{pid}",
        **extra,
    }


def repository(n: int, pid: str, pname: str, name: str, **extra: Any) -> dict[str, Any]:
    """A GitRepository with a default branch and a size (override for empty ones)."""
    repo = {
        "id": rid(n),
        "name": name,
        "project": _pref(pid, pname),
        "defaultBranch": "refs/heads/main",
        "size": 1000 + n,
        "isDisabled": False,
        "isFork": False,
        "isInMaintenance": False,
        "remoteUrl": f"https://{ORG}@dev.azure.com/{ORG}/{pid}/_git/{rid(n)}",
        "webUrl": f"https://dev.azure.com/{ORG}/{pid}/_git/{rid(n)}",
        "url": f"https://dev.azure.com/{ORG}/{pid}/_apis/git/repositories/{rid(n)}",
    }
    repo.update(extra)
    return repo


def pipeline(
    pid_: int, pid: str, pname: str, name: str, repo: tuple[str, str] | None, **extra: Any
) -> dict[str, Any]:
    """A build definition (includeAllProperties) linked to repository (id, name)."""
    item: dict[str, Any] = {
        "id": pid_,
        "name": name,
        "path": "\\",
        "queueStatus": "enabled",
        "revision": 3,
        "type": "build",
        "createdDate": "2026-01-05T06:07:08.900Z",
        "project": _pref(pid, pname),
        "process": {"type": 2, "yamlFilename": "azure-pipelines.yml"},
        "variables": {"configuration": {"allowOverride": True}, "password": {"isSecret": True}},
    }
    if repo is not None:
        item["repository"] = {"id": repo[0], "name": repo[1], "type": "TfsGit"}
    item.update(extra)
    return item


def error(
    resource: str,
    project: tuple[str, str] | None,
    status: int | None,
    code: str | None,
    message: str,
    item: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """An entry of ``errors``."""
    return {
        "resource": resource,
        "project": None if project is None else {"id": project[0], "name": project[1]},
        "item": None if item is None else {"id": item[0], "name": item[1]},
        "status": status,
        "code": code,
        "message": message,
    }


def make_snapshot(
    *,
    org: str = ORG,
    projects: list[dict[str, Any]] | None = None,
    repositories: list[dict[str, Any]] | None = None,
    pipelines: list[dict[str, Any]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    auth: str = "job",
    started_at: str = "2026-11-28T01:02:03.456Z",
) -> dict[str, Any]:
    """A schema-v1 snapshot from parts, sorted as the crawler sorts them."""
    projects = sorted(projects or [], key=lambda p: p["id"])
    repositories = sorted(repositories or [], key=lambda r: (r["project"]["id"], r["id"]))
    pipelines = sorted(pipelines or [], key=lambda p: (p["project"]["id"], p["id"]))
    errs = sorted(errors or [], key=lambda e: orjson.dumps(e, option=orjson.OPT_SORT_KEYS))
    return {
        "schema_version": 1,
        "generator": {"name": "ado-inventory", "version": "0.1.0"},
        "organization": {"url": f"https://dev.azure.com/{org}/", "name": org},
        "started_at": started_at,
        "finished_at": "2026-11-28T01:02:09.789Z",
        "complete": not errs,
        "auth": {"kind": auth},
        "resources": ["pipelines", "projects", "repositories"],
        "stats": {
            "requests": 12,
            "pages": 11,
            "retries": 1,
            "throttled": 0,
            "wait_s": 0.5,
            "elapsed_s": 6.33,
            "items": {
                "pipelines": len(pipelines),
                "projects": len(projects),
                "repositories": len(repositories),
            },
        },
        "errors": errs,
        "projects": projects,
        "repositories": repositories,
        "pipelines": pipelines,
    }


def base_snapshot() -> dict[str, Any]:
    """The reference organization: every audit finding appears at least once."""
    return make_snapshot(
        projects=[project(P_A, NAME_A), project(P_B, NAME_B), project(P_C, NAME_C)],
        repositories=[
            repository(1, P_A, NAME_A, "web"),
            repository(2, P_A, NAME_A, "api"),
            repository(3, P_A, NAME_A, "empty-repo", size=0, defaultBranch=None),
            repository(4, P_A, NAME_A, "old", isDisabled=True),
            repository(5, P_C, NAME_C, "tools|<pipes>"),
            repository(6, P_C, NAME_C, "docs", isHidden=True),
        ],
        pipelines=[
            pipeline(1, P_A, NAME_A, "web-ci", (rid(1), "web")),
            pipeline(2, P_A, NAME_A, "legacy", (rid(99), "gone"), queueStatus="disabled"),
            pipeline(3, P_A, NAME_A, "uses-old", (rid(4), "old")),
            pipeline(
                4, P_C, NAME_C, "tools & more", (rid(5), "tools|<pipes>"), queueStatus="paused"
            ),
            pipeline(5, P_C, NAME_C, "docs-ci", (rid(6), "docs"), path="\\Docs\\Site"),
            pipeline(6, P_A, NAME_A, "secret-build", (rid(7), "secret")),
        ],
        errors=[
            error("repositories", (P_B, NAME_B), 401, "TF200016", "TF200016: project not found"),
            error("pipelines", (P_B, NAME_B), 401, "TF200016", "TF200016: project not found"),
            error(
                "repositories",
                (P_A, NAME_A),
                404,
                "TF401019",
                "TF401019: The Git repository with name or identifier secret does not exist",
                item=(rid(7), "secret"),
            ),
        ],
    )


def _drop_nones(doc: dict[str, Any]) -> dict[str, Any]:
    for repo in doc["repositories"]:
        for key in [k for k, v in repo.items() if v is None]:
            del repo[key]
    return doc


def reference() -> dict[str, Any]:
    """``base_snapshot()`` with absent fields really absent (as ADO omits them)."""
    return _drop_nones(base_snapshot())


def changed() -> dict[str, Any]:
    """``reference()`` with KNOWN_CHANGES applied, and different run timings."""
    doc = copy.deepcopy(reference())
    doc["started_at"] = "2026-11-29T01:00:00.000Z"
    doc["finished_at"] = "2026-11-29T01:00:05.000Z"
    doc["stats"]["requests"] = 99
    doc["generator"]["version"] = "0.2.0"
    doc["repositories"] = [r for r in doc["repositories"] if r["name"] != "api"]  # removed
    doc["repositories"].append(repository(8, P_A, NAME_A, "new-repo"))  # added
    for repo in doc["repositories"]:
        if repo["name"] == "web":
            repo["name"] = "website"  # renamed (+ field)
            repo["defaultBranch"] = "refs/heads/trunk"
        if repo["name"] == "empty-repo":
            repo["defaultBranch"] = "refs/heads/main"  # changed: field appears
            repo["size"] = 42
    for pipe in doc["pipelines"]:
        if pipe["name"] == "web-ci":
            pipe["repository"]["name"] = "website"  # nested change
            pipe["process"]["yamlFilename"] = "ci/build.yml"
        if pipe["name"] == "tools & more":
            pipe["queueStatus"] = "enabled"
    doc["repositories"].sort(key=lambda r: (r["project"]["id"], r["id"]))
    doc["errors"] = [e for e in doc["errors"] if e["resource"] != "pipelines"]
    return doc
