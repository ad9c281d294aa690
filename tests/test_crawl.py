"""Whole crawls of seeded emulated organizations over real loopback HTTP."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.server import run_emulator
from crawler.protocol.errors import AuthError
from crawler.snapshot.schema import snapshot_schema
from crawler.snapshot.validate import Validator
from tests.crawl_helpers import assert_matches_ground_truth, crawl


@pytest.mark.parametrize(
    ("projects", "repos", "pipelines", "page_size", "client_page"),
    [
        (3, 2, 5, 100, 500),  # everything on one page
        (7, 3, 23, 4, 500),  # server caps $top: many short pages
        (12, 1, 0, 5, 3),  # client asks for less than the server allows
        (2, 0, 250, 100, 1000),  # hundreds of definitions per project
    ],
)
async def test_snapshot_equals_ground_truth(
    tmp_path: Path, projects: int, repos: int, pipelines: int, page_size: int, client_page: int
) -> None:
    config = EmulatorConfig(
        seed=projects * 31 + pipelines,
        projects=projects,
        repos_per_project=repos,
        pipelines_per_project=pipelines,
        page_size=page_size,
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, page_size=client_page)
        truth = emu.ground_truth()
    assert result.exit_code == 0
    assert snapshot["complete"] is True
    assert snapshot["errors"] == []
    assert_matches_ground_truth(snapshot, truth)
    assert Validator(snapshot_schema()).problems(snapshot) == []
    assert snapshot["stats"]["items"] == {
        "projects": len(truth["projects"]),
        "repositories": len(truth["repositories"]),
        "pipelines": len(truth["pipelines"]),
        "pipeline_settings": projects,
    }


async def test_two_crawls_differ_only_in_timestamps_and_stats(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=5, projects=6, page_size=3)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with run_emulator(config) as emu:
        _, first = await crawl(emu, tmp_path / "a")
        _, second = await crawl(emu, tmp_path / "b")
    for volatile in ("started_at", "finished_at", "stats"):
        first.pop(volatile)
        second.pop(volatile)
    assert first == second


async def test_pages_are_followed_with_continuation_tokens(tmp_path: Path) -> None:
    config = EmulatorConfig(
        seed=3, projects=9, repos_per_project=1, pipelines_per_project=11, page_size=2
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path)
    # 9 projects at 2 a page = 5 pages; 11 definitions at 2 a page = 6 pages per project.
    assert snapshot["stats"]["pages"] == 5 + 9 * 6 + 9
    assert len(snapshot["pipelines"]) == 99
    assert result.exit_code == 0


async def test_projects_are_crawled_as_soon_as_their_page_arrives(tmp_path: Path) -> None:
    config = EmulatorConfig(
        seed=3, projects=12, pipelines_per_project=1, page_size=3, latency_ms=30
    )
    async with run_emulator(config) as emu:
        await crawl(emu, tmp_path)
        paths = [e.path for e in emu.log.entries]
    project_pages = [i for i, p in enumerate(paths) if p.endswith("/_apis/projects")]
    first_project_work = min(i for i, p in enumerate(paths) if "/_apis/git/" in p)
    assert len(project_pages) == 4
    assert first_project_work < project_pages[-1], "fan-out must not wait for the last page"


async def test_project_filters(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=11, projects=8)
    async with run_emulator(config) as emu:
        names = sorted(p["name"] for p in emu.ground_truth()["projects"])
        keep = names[0]
        _, snapshot = await crawl(emu, tmp_path, projects=(keep[:3] + "*",), exclude_projects=())
    got = {p["name"] for p in snapshot["projects"]}
    assert keep in got
    assert got == {n for n in names if n.lower().startswith(keep[:3].lower())}
    assert {r["project"]["name"] for r in snapshot["repositories"]} <= got


async def test_project_scoped_job_token_reports_exactly_the_other_projects(tmp_path: Path) -> None:
    base = EmulatorConfig(seed=21, projects=5, page_size=4)
    async with run_emulator(base) as probe:
        scoped = probe.ground_truth()["projects"][2]["name"]
    config = replace(base, scoped_project=scoped)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path)
        visible = emu.visible_ground_truth()
    assert result.exit_code == 4
    assert snapshot["complete"] is False
    unreachable = {(u["project"]["id"]) for u in visible["unreachable"] if u["level"] == "project"}
    assert len(unreachable) == 4
    failed = {(e["resource"], e["project"]["id"]) for e in snapshot["errors"]}
    assert failed == {
        (r, pid) for pid in unreachable for r in ("repositories", "pipelines", "pipeline_settings")
    }
    codes = {(e["resource"], e["status"], e["code"]) for e in snapshot["errors"]}
    assert ("repositories", 404, "TF200016") in codes
    # Everything the token can see is present, nothing is reported as absent.
    for resource in ("repositories", "pipelines"):
        assert sorted(i["id"] for i in snapshot[resource]) == sorted(
            i["id"] for i in visible[resource]
        )
    assert len(snapshot["projects"]) == 5


async def test_protected_repositories_are_reported_not_dropped(tmp_path: Path) -> None:
    config = EmulatorConfig(
        seed=8, projects=3, repos_per_project=5, pipelines_per_project=12, reachable_repo_share=0.5
    )
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path)
        visible = emu.visible_ground_truth()
        truth = emu.ground_truth()
    referenced = {p["repository"]["id"] for p in truth["pipelines"] if p.get("repository")}
    hidden = {u["repository"]["id"] for u in visible["unreachable"] if u["level"] == "repository"}
    assert hidden, "the scenario must hide some repositories"
    expected_errors = hidden & referenced
    assert expected_errors
    got = {e["item"]["id"] for e in snapshot["errors"]}
    assert got == expected_errors
    assert {e["code"] for e in snapshot["errors"]} == {"TF401019"}
    assert result.exit_code == 4
    assert sorted(r["id"] for r in snapshot["repositories"]) == sorted(
        r["id"] for r in visible["repositories"]
    )
    assert len(snapshot["pipelines"]) == len(truth["pipelines"])


async def test_wrong_token_is_an_auth_error_naming_the_credential(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(projects=2)) as emu:
        with pytest.raises(AuthError) as exc:
            await crawl(emu, tmp_path, token="not-the-token")
    message = str(exc.value)
    assert "job access token from test" in message
    assert "not-the-token" not in message
    assert not (tmp_path / "inventory.json").exists()


async def test_latest_builds_option_reaches_the_server(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(seed=4, projects=2, pipelines_per_project=8)) as emu:
        _, plain = await crawl(emu, tmp_path)
        _, with_builds = await crawl(emu, tmp_path, latest_builds=True)
        queries = [e.query for e in emu.log.entries if "build/definitions" in e.path]
    assert not any("latestBuild" in p for p in plain["pipelines"])
    assert any("latestBuild" in p for p in with_builds["pipelines"])
    assert sum("includeLatestBuilds=true" in q for q in queries) == 2
