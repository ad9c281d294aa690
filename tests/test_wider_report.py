"""Reports on the wider resources: the new audit findings (relative to the snapshot's own
finished_at) and one table per wider resource, only when the snapshot has it.

The Markdown golden file is tests/golden_wider/report.md; regenerate it with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_wider_report.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crawler.downstream.report.csv import render_csv
from crawler.downstream.report.findings import compute_findings
from crawler.downstream.report.html import render_html
from crawler.downstream.report.markdown import render_markdown
from crawler.downstream.report.model import build_inventory
from tests.downstream.downstream_data import (
    P_A,
    P_B,
    make_snapshot,
    pipeline,
    project,
    repository,
    rid,
)

GOLDEN = Path(__file__).parent / "golden_wider"
REVIEWERS = "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd"
BUILD = "0609b952-1397-4640-95ec-e00a01b2c241"
COMMENTS = "c6a1889d-b943-4856-b76f-9e46bb6b0df2"
A, B = "Team A", "Team B <&>"


def _pref(pid: str, name: str) -> dict[str, str]:
    return {"id": pid, "name": name}


def _policy(
    n: int, pid: str, pname: str, type_id: str, repo: str | None, ref: str | None, **extra: Any
) -> dict[str, Any]:
    scope: dict[str, Any] = {"repositoryId": repo}
    if ref is not None:
        scope |= {"refName": ref, "matchKind": extra.pop("matchKind", "exact")}
    return {
        "id": n,
        "type": {
            "id": type_id,
            "displayName": {REVIEWERS: "Minimum number of reviewers"}.get(
                type_id, "Build" if type_id == BUILD else "Comment requirements"
            ),
        },
        "isEnabled": extra.pop("isEnabled", True),
        "isBlocking": extra.pop("isBlocking", True),
        "isDeleted": False,
        "settings": {"scope": [scope]},
        "project": _pref(pid, pname),
        **extra,
    }


def _build(finish: str) -> dict[str, Any]:
    return {"id": 1, "status": "completed", "result": "succeeded", "finishTime": finish}


def wide_snapshot() -> dict[str, Any]:
    """Two projects; every new finding once, and items that must not raise one."""
    doc = make_snapshot(
        projects=[project(P_A, A), project(P_B, B)],
        repositories=[
            repository(1, P_A, A, "protected"),
            repository(2, P_A, A, "disabled-policy"),
            repository(3, P_A, A, "other-branch"),
            repository(4, P_B, B, "project-wide"),
            repository(5, P_A, A, "empty", size=0),
            repository(6, P_A, A, "prefix-covered", defaultBranch="refs/heads/release/1"),
        ],
        pipelines=[
            pipeline(1, P_A, A, "fresh", None, latestBuild=_build("2026-11-18T00:00:00Z")),
            pipeline(
                2,
                P_A,
                A,
                "stale",
                None,
                latestBuild={"id": 9, "status": "inProgress", "queueTime": "2026-11-27T00:00:00Z"},
                latestCompletedBuild=_build("2025-10-01T12:00:00.5Z"),
            ),
            pipeline(3, P_B, B, "never built", None),
        ],
    )
    doc["resources"] = sorted(
        [*doc["resources"], "policies", "release_definitions", "service_endpoints", "queues"]
    )
    doc["policies"] = [
        _policy(1, P_A, A, REVIEWERS, rid(1), "refs/heads/main"),
        _policy(2, P_A, A, BUILD, rid(2), "refs/heads/main", isEnabled=False),
        _policy(3, P_A, A, REVIEWERS, rid(3), "refs/heads/develop"),
        _policy(4, P_A, A, COMMENTS, rid(3), "refs/heads/main"),
        _policy(5, P_A, A, BUILD, rid(6), "refs/heads/release", matchKind="prefix"),
        _policy(1, P_B, B, BUILD, None, None),
    ]
    doc["release_definitions"] = [
        {"id": 1, "name": "recent", "path": "\\", "project": _pref(P_A, A),
         "lastRelease": {"id": 7, "name": "Release-7", "createdOn": "2026-06-01T00:00:00Z"}},
        {"id": 2, "name": "old", "path": "\\", "project": _pref(P_A, A),
         "lastRelease": {"id": 3, "name": "Release-3", "createdOn": "2024-01-01T00:00:00Z"}},
        {"id": 1, "name": "never", "path": "\\Deploy", "project": _pref(P_B, B)},
    ]  # fmt: skip
    shared_refs = [
        {"projectReference": _pref(P_A, A), "name": "azure"},
        {"projectReference": _pref(P_B, B), "name": "azure"},
    ]
    endpoint = {
        "id": "e1e1e1e1-0000-4000-8000-000000000001",
        "name": "azure",
        "type": "azurerm",
        "owner": "library",
        "authorization": {"scheme": "ServicePrincipal"},
        "isShared": True,
        "isReady": True,
        "serviceEndpointProjectReferences": shared_refs,
    }
    alone = {
        **endpoint,
        "id": "e2e2e2e2-0000-4000-8000-000000000002",
        "name": "=cmd|' /C calc'!A0",
        "isShared": False,
        "serviceEndpointProjectReferences": shared_refs[:1],
    }
    doc["service_endpoints"] = [
        {**endpoint, "project": _pref(P_A, A)},
        {**alone, "project": _pref(P_A, A)},
        {**endpoint, "project": _pref(P_B, B)},
    ]
    doc["queues"] = []
    return doc


def _found(doc: dict[str, Any], **kwargs: Any) -> list[tuple[str, str, str]]:
    new = {"pipeline_not_run", "release_not_released", "repository_unprotected"}
    new |= {"service_endpoint_shared"}
    return [
        (f.kind, f.project, f.item)
        for f in compute_findings(build_inventory(doc), **kwargs)
        if f.kind in new
    ]


def test_the_new_findings() -> None:
    assert _found(wide_snapshot()) == [
        ("pipeline_not_run", A, "stale"),
        ("pipeline_not_run", B, "never built"),
        ("release_not_released", A, "old"),
        ("release_not_released", B, "never"),
        ("repository_unprotected", A, "disabled-policy"),
        ("repository_unprotected", A, "other-branch"),
        ("service_endpoint_shared", A, "azure"),
    ]


def test_stale_days_count_from_the_snapshot_not_the_clock() -> None:
    doc = wide_snapshot()
    assert ("pipeline_not_run", A, "fresh") in _found(doc, stale_days=10)
    assert ("pipeline_not_run", A, "fresh") not in _found(doc, stale_days=11)
    doc["finished_at"] = "2025-10-02T00:00:00.000Z"
    assert ("pipeline_not_run", A, "stale") not in _found(doc)


def test_no_build_data_no_build_findings_and_unread_policies_no_policy_findings() -> None:
    doc = wide_snapshot()
    for p in doc["pipelines"]:
        p.pop("latestBuild", None)
        p.pop("latestCompletedBuild", None)
    doc["errors"] = [
        {"resource": "policies", "project": _pref(P_A, A), "item": None, "status": 401,
         "code": "TF400813", "message": "no"},
    ]  # fmt: skip
    kinds = {kind for kind, _, _ in _found(doc)}
    assert "pipeline_not_run" not in kinds
    assert "repository_unprotected" not in kinds
    doc["resources"].remove("policies")
    doc["errors"] = []
    assert "repository_unprotected" not in {kind for kind, _, _ in _found(doc)}


def test_markdown_golden() -> None:
    actual = render_markdown(build_inventory(wide_snapshot()))
    path = GOLDEN / "report.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert actual == path.read_bytes().decode("utf-8")
    assert "## Service connections (3)" in actual
    assert "## Agent queues (0)" in actual
    assert "## Environments" not in actual  # not crawled: no section


def test_csv_has_one_file_per_wider_resource_present() -> None:
    files = render_csv(build_inventory(wide_snapshot()))
    wider = {"policies.csv", "release_definitions.csv", "service_endpoints.csv", "queues.csv"}
    assert wider <= set(files)
    assert "environments.csv" not in files
    endpoints = files["service_endpoints.csv"].splitlines()
    assert endpoints[0].lstrip("\ufeff").startswith("organization,project,name,type,owner,scheme")
    assert any(",'=cmd|' /C calc'!A0," in line for line in endpoints), "formula defused"
    assert f"{A}, {B}" in files["service_endpoints.csv"]


def test_html_has_escaped_wider_tables() -> None:
    page = render_html(build_inventory(wide_snapshot()))
    assert '<table class="sortable" id="service-endpoints">' in page
    assert "<h2>Policies</h2>" in page
    assert "Team B &lt;&amp;&gt;" in page
    assert "Team B <&>" not in page
    assert 'id="environments"' not in page


def test_stale_days_decides_what_counts_as_not_run() -> None:
    doc = wide_snapshot()
    default = build_inventory(doc)
    strict = build_inventory(doc, stale_days=1)
    idle = {f.item for f in compute_findings(default) if f.kind == "pipeline_not_run"}
    very_idle = {f.item for f in compute_findings(strict) if f.kind == "pipeline_not_run"}
    assert "fresh" not in idle
    assert "fresh" in very_idle
    assert idle < very_idle
