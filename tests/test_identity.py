"""Who the token is (connectionData → ``identity``) and the posture resources a crawl records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.crawl.posture import batch_check_items
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.posture_checks import PROTECTED_TYPES
from crawler.emulator.server import run_emulator
from crawler.protocol.identity import identity_sentence, parse_identity
from crawler.snapshot.schema import snapshot_schema
from crawler.snapshot.validate import Validator
from tests.crawl_helpers import crawl

PROJECTS = {"fabrikam fiber": {"id": "p-1", "name": "Fabrikam Fiber"}}
PROJECT_ID = "0c6d6e8a-4b2f-4f7e-9c55-5b0b2f3d6a11"


def _answer(name: str, descriptor: str = "") -> dict[str, Any]:
    user = {"id": "u-1", "providerDisplayName": name, "descriptor": descriptor}
    return {"authenticatedUser": user, "authorizedUser": user}


def test_collection_build_service() -> None:
    got = parse_identity(_answer("Project Collection Build Service (contoso)"), "job", PROJECTS)
    assert got == {
        "id": "u-1",
        "display_name": "Project Collection Build Service (contoso)",
        "kind": "build_service",
        "scope": "collection",
        "project": None,
    }


def test_project_build_service_names_its_project_by_name_case_insensitively() -> None:
    got = parse_identity(_answer("FABRIKAM Fiber Build Service (contoso)"), "job", PROJECTS)
    assert (got["kind"], got["scope"]) == ("build_service", "project")
    assert got["project"] == {"id": "p-1", "name": "Fabrikam Fiber"}


def test_project_build_service_not_listed_falls_back_to_its_descriptor() -> None:
    descriptor = f"Microsoft.TeamFoundation.ServiceIdentity;c-1:Build:{PROJECT_ID}"
    got = parse_identity(_answer("Hidden Build Service (contoso)", descriptor), "job", {})
    assert got["project"] == {"id": PROJECT_ID, "name": "Hidden"}
    bare = parse_identity(_answer("Hidden Build Service (contoso)"), "job", {})
    assert bare["project"] == {"id": "", "name": "Hidden"}


def test_a_users_token_is_a_user_of_unknown_scope() -> None:
    for kind in ("pat", "bearer"):
        got = parse_identity(_answer("Ada Lovelace"), kind, PROJECTS)
        assert (got["kind"], got["scope"], got["project"]) == ("user", "unknown", None)
    # A job token whose name is not a build service's: nothing is guessed.
    odd = parse_identity(_answer("Someone Else"), "job", PROJECTS)
    assert (odd["kind"], odd["scope"]) == ("unknown", "unknown")


@given(st.one_of(st.none(), st.text(), st.dictionaries(st.text(), st.text() | st.none())))
def test_any_answer_gives_a_valid_identity(data: Any) -> None:
    got = parse_identity(data, "job", PROJECTS)
    assert set(got) == {"id", "display_name", "kind", "scope", "project"}
    assert got["kind"] in ("build_service", "user", "unknown")
    assert identity_sentence(got).startswith("Crawled as")
    assert "does not record" in identity_sentence(None)


def test_the_sentence_says_who_and_why() -> None:
    scoped = parse_identity(_answer("Fabrikam Fiber Build Service (contoso)"), "job", PROJECTS)
    assert identity_sentence(scoped) == (
        "Crawled as 'Fabrikam Fiber Build Service (contoso)': a job token limited to project "
        "Fabrikam Fiber ('Limit job authorization scope to current project' is on there, or on "
        "the organization)."
    )


async def test_default_crawl_records_identity_and_settings_per_project(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=4, projects=3, repos_per_project=1, pipelines_per_project=1)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path)
        truth = emu.ground_truth()
        paths = [e.path for e in emu.log.entries]
    assert result.exit_code == 0
    assert snapshot["identity"]["display_name"] == "Project Collection Build Service (fabrikam)"
    assert (snapshot["identity"]["kind"], snapshot["identity"]["scope"]) == (
        "build_service",
        "collection",
    )
    assert sum(p.endswith("/_apis/connectionData") for p in paths) == 1
    assert [s["project"]["id"] for s in snapshot["pipeline_settings"]] == sorted(
        p["id"] for p in snapshot["projects"]
    )
    assert snapshot["pipeline_settings"] == sorted(
        truth["pipeline_settings"], key=lambda s: s["id"]
    )
    assert result.summary.startswith("Crawled as 'Project Collection Build Service (fabrikam)'")
    assert Validator(snapshot_schema()).problems(snapshot) == []


async def test_project_scoped_token_names_its_project(tmp_path: Path) -> None:
    base = EmulatorConfig(seed=8, projects=4, repos_per_project=1, pipelines_per_project=1)
    async with run_emulator(base) as probe:
        target = probe.ground_truth()["projects"][2]
    for listed_all in (True, False):
        config = replace(base, scoped_project=target["name"], list_all_projects=listed_all)
        out = tmp_path / str(listed_all)
        out.mkdir()
        async with run_emulator(config) as emu:
            result, snapshot = await crawl(emu, out)
        identity = snapshot["identity"]
        assert (identity["kind"], identity["scope"]) == ("build_service", "project")
        assert identity["project"] == {"id": target["id"], "name": target["name"]}
        assert [s["project"]["id"] for s in snapshot["pipeline_settings"]] == [target["id"]]
        assert snapshot["pipeline_settings"][0]["enforceJobAuthScope"] is True
        assert f"limited to project {target['name']}" in result.summary


async def test_a_pat_is_a_user(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(seed=2, projects=1)) as emu:
        _, snapshot = await crawl(emu, tmp_path, kind="pat")
    assert (snapshot["identity"]["kind"], snapshot["identity"]["scope"]) == ("user", "unknown")
    assert snapshot["identity"]["display_name"]


async def test_all_resources_record_permissions_and_checks_of_every_protected_resource(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(seed=5, projects=3, repos_per_project=2, environments_per_project=4)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="all")
        truth = emu.ground_truth()
        checks_asked = [
            (e.method, e.path.split("/")[2])
            for e in emu.log.entries
            if "/pipelines/checks/" in e.path.lower()
        ]
    assert result.exit_code == 0, snapshot["errors"]
    # The checks of a project's protected resources come in one batched query, not one each.
    assert sorted(checks_asked) == sorted(("POST", p["id"]) for p in snapshot["projects"])
    listed = {
        (p["project"]["id"], p["resource"]["type"], p["resource"]["id"])
        for p in snapshot["pipeline_permissions"]
    }
    expected = set()
    for key, kind in (
        ("service_endpoints", "endpoint"),
        ("variable_groups", "variablegroup"),
        ("queues", "queue"),
        ("environments", "environment"),
        ("secure_files", "securefile"),
    ):
        expected |= {(i["project"]["id"], kind, str(i["id"])) for i in snapshot[key]}
    expected |= {
        (r["project"]["id"], "repository", f"{r['project']['id']}.{r['id']}")
        for r in snapshot["repositories"]
    }
    assert listed == expected
    assert {kind for _, kind, _ in listed} == set(PROTECTED_TYPES)
    for key in ("pipeline_permissions", "checks", "secure_files"):
        want = sorted(truth[key], key=lambda i: (i["project"]["id"], i["id"]))
        assert snapshot[key] == want, key
    assert Validator(snapshot_schema()).problems(snapshot) == []


async def test_unreadable_permissions_are_errors_naming_each_resource(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=5, projects=2, repos_per_project=1, permissions_readable=False)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="pipeline_permissions")
    assert result.exit_code == 4
    assert snapshot["pipeline_permissions"] == []
    failed = [e for e in snapshot["errors"] if e["resource"] == "pipeline_permissions"]
    assert failed
    assert all(e["status"] == 403 and e["item"]["id"].count("/") == 1 for e in failed)


async def test_unreadable_checks_are_errors_naming_each_resource(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=5, projects=2, repos_per_project=1, permissions_readable=False)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="checks,service_endpoints")
    assert result.exit_code == 4
    assert snapshot["checks"] == []
    failed = {e["item"]["id"] for e in snapshot["errors"] if e["resource"] == "checks"}
    endpoints = {f"endpoint/{i['id']}" for i in snapshot["service_endpoints"]}
    assert endpoints
    assert endpoints <= failed  # each resource is not assessed, by name
    assert all(e["status"] == 403 for e in snapshot["errors"] if e["resource"] == "checks")


def test_a_batched_check_is_attributed_to_the_resource_it_names() -> None:
    project = {"id": "p1", "name": "One"}
    refs = [("endpoint", "E1", "prod"), ("queue", "7", "Default")]
    answer = {
        "count": 2,
        "value": [
            {"id": 1, "resource": {"type": "endpoint", "id": "e1"}, "type": {"name": "Approval"}},
            {"id": 2, "resource": {"type": "queue", "id": "7"}, "type": {"name": "Task Check"}},
        ],
    }
    items = batch_check_items(answer, project, refs)
    assert [(i["id"], i["project"]) for i in items] == [(1, project), (2, project)]
    stray = {"count": 1, "value": [{"id": 3, "resource": {"type": "queue", "id": "8"}}]}
    with pytest.raises(ValueError, match="not asked for"):
        batch_check_items(stray, project, refs)
    with pytest.raises(ValueError, match="names no resource"):
        batch_check_items({"count": 1, "value": [{"id": 4}]}, project, refs)
