"""The wider inventory: every resource type of a seeded emulated org crawls complete and equal to
the ground truth; scopes and unreadable resources are reported, never fatal; the release host is
discovered and is the only other host the token goes to; repository activity costs one request
per repository."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from crawler.crawl.negotiation import parse_location_url
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.server import run_emulator
from crawler.emulator.wider_activity import with_latest_builds
from crawler.emulator.wider_truth import wider_truth
from tests.crawl_helpers import crawl
from tests.wider_helpers import WIDER, crawl_with_options, expected

ALL_OPTIONS = frozenset({"latest_builds", "release_expand"})


@pytest.mark.parametrize(
    ("projects", "repos", "page_size", "client_page"),
    [(3, 4, 100, 500), (4, 3, 1, 500), (2, 5, 100, 2)],
)
async def test_every_resource_equals_ground_truth(
    tmp_path: Path, projects: int, repos: int, page_size: int, client_page: int
) -> None:
    config = EmulatorConfig(
        seed=projects * 7 + repos,
        projects=projects,
        repos_per_project=repos,
        pipelines_per_project=5,
        page_size=page_size,
        release_definitions_per_project=3,
        variable_groups_per_project=3,
        environments_per_project=3,
        policies_per_project=4,
    )
    async with run_emulator(config) as emu:
        snapshot, _ = await crawl_with_options(
            emu, tmp_path, options=ALL_OPTIONS, resources="all", page_size=client_page
        )
        truth = wider_truth(config, emu.url, release_expand=True)
        core = emu.ground_truth()
    assert snapshot["errors"] == []
    assert snapshot["complete"] is True
    for resource in WIDER:
        want = expected(truth, resource)
        assert want, f"the scenario must have {resource}"
        assert snapshot[resource] == want, resource
    pipelines = with_latest_builds(Org(config), core["pipelines"], emu.url.rstrip("/"))
    assert snapshot["pipelines"] == expected({"pipelines": pipelines}, "pipelines")
    assert any("latestBuild" in p for p in snapshot["pipelines"])
    assert any("latestBuild" not in p for p in snapshot["pipelines"]), "some never built"
    assert all("environments" in r for r in snapshot["release_definitions"])


async def test_options_off_means_plain_lists(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=4, projects=2)
    async with run_emulator(config) as emu:
        snapshot, _ = await crawl_with_options(emu, tmp_path, resources="all")
        truth = wider_truth(config, emu.url)
    assert snapshot["release_definitions"] == expected(truth, "release_definitions")
    assert not any("environments" in r for r in snapshot["release_definitions"])
    assert not any("latestBuild" in p for p in snapshot["pipelines"])


async def test_default_crawl_reads_the_core_three_and_pipeline_settings(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(seed=6, projects=3)) as emu:
        result, snapshot = await crawl(emu, tmp_path)
        paths = {entry.path for entry in emu.log.entries}
    assert result.exit_code == 0
    assert snapshot["resources"] == ["pipeline_settings", "pipelines", "projects", "repositories"]
    assert len(snapshot["pipeline_settings"]) == len(snapshot["projects"])
    assert not set(WIDER) & set(snapshot)
    assert not any(
        part in path
        for path in paths
        for part in ("resourceAreas", "distributedtask", "serviceendpoint", "policy", "commits")
    )


async def test_unreadable_service_endpoints_are_reported_not_fatal(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=9, projects=3, endpoints_readable=False)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="all")
        truth = wider_truth(config, emu.url, visible=True)
        projects = emu.ground_truth()["projects"]
    assert result.exit_code == 4
    assert snapshot["complete"] is False
    assert {(e["resource"], e["project"]["id"], e["status"]) for e in snapshot["errors"]} == {
        ("service_endpoints", p["id"], 403) for p in projects
    }
    assert snapshot["service_endpoints"] == []
    for resource in WIDER:
        if resource != "service_endpoints":
            assert snapshot[resource] == expected(truth, resource), resource
    assert len(snapshot["pipelines"]) == len(emu.ground_truth()["pipelines"])


async def test_project_scoped_token_reports_each_other_projects_resources(tmp_path: Path) -> None:
    base = EmulatorConfig(seed=12, projects=4, repos_per_project=3)
    async with run_emulator(base) as probe:
        scoped = probe.ground_truth()["projects"][1]
    config = replace(base, scoped_project=scoped["name"])
    async with run_emulator(config) as emu:
        snapshot, _ = await crawl_with_options(emu, tmp_path, resources="all")
        truth = wider_truth(config, emu.url, visible=True)
        others = {p["id"] for p in emu.ground_truth()["projects"]} - {scoped["id"]}
    per_project = (
        "repositories",
        "pipelines",
        "release_definitions",
        "variable_groups",
        "service_endpoints",
        "environments",
        "queues",
        "policies",
        "pipeline_settings",
        "secure_files",
    )
    got = Counter((e["resource"], e["project"]["id"]) for e in snapshot["errors"])
    assert got == Counter((r, pid) for pid in others for r in per_project)
    statuses = {(e["resource"], e["status"], e["code"]) for e in snapshot["errors"]}
    assert ("release_definitions", 401, "TF400813") in statuses
    assert ("variable_groups", 404, "TF200016") in statuses
    for resource in WIDER:
        assert snapshot[resource] == expected(truth, resource), resource
        assert {i["project"]["id"] for i in snapshot[resource]} == {scoped["id"]}


# -- the release management host ---------------------------------------------------------------


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _recorder(seen: list[tuple[str, str, bool]]) -> object:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append((request.url.host or "", request.path, "Authorization" in request.headers))
        return await handler(request)

    return record


async def test_release_host_is_discovered_and_gets_the_token_only_for_releases(
    tmp_path: Path,
) -> None:
    seen: list[tuple[str, str, bool]] = []
    config = EmulatorConfig(seed=3, projects=2, release_host="localhost")
    async with run_emulator(config, middlewares=[_recorder(seen)]) as emu:  # type: ignore[list-item]
        snapshot, _ = await crawl_with_options(emu, tmp_path, resources="release_definitions")
        truth = wider_truth(config, emu.url)
    assert snapshot["errors"] == []
    assert snapshot["release_definitions"] == expected(truth, "release_definitions")
    assert all(
        r["url"].startswith(f"http://localhost:{emu.port}/")
        for r in snapshot["release_definitions"]
    )
    discovery = [s for s in seen if "resourceAreas" in s[1]]
    assert [host for host, _, _ in discovery] == ["127.0.0.1"]
    by_host = {(host, "/release/" in path.lower()) for host, path, _ in seen}
    assert by_host == {("127.0.0.1", False), ("localhost", True)}
    assert all(auth for _, _, auth in seen)


async def test_a_plain_http_release_host_elsewhere_is_refused_and_reported(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(seed=3, projects=2, release_url="http://vsrm.example.invalid/fabrikam/")
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="release_definitions,queues")
        requests = emu.log.count
        truth = wider_truth(config, emu.url)
    assert result.exit_code == 4
    [error] = snapshot["errors"]
    assert error["resource"] == "release_definitions"
    assert error["project"] is None
    assert error["code"] == "bad_response"
    assert "plain http" in error["message"]
    assert snapshot["release_definitions"] == []
    assert snapshot["queues"] == expected(truth, "queues")
    # route discovery (OPTIONS), connectionData, release host discovery, one projects page,
    # one queues list per project: nothing else
    assert requests == 1 + 1 + 1 + 1 + 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://vsrm.dev.azure.com/fabrikam/", None),
        ("https://vsrm.dev.azure.com/fabrikam", None),
        ("http://127.0.0.1:8080/fabrikam/", None),
        ("http://localhost:8080/fabrikam/", None),
        ("http://vsrm.dev.azure.com/fabrikam/", "plain http"),
        ("ftp://vsrm.dev.azure.com/fabrikam/", "absolute"),
        ("/fabrikam/", "absolute"),
        ("https://user:pw@vsrm.dev.azure.com/fabrikam/", "user info"),
        ("https://vsrm.dev.azure.com/fabrikam/?x=1", "query"),
        (None, "no locationUrl"),
        ("", "no locationUrl"),
    ],
)
def test_location_url_rules(value: object, problem: str | None) -> None:
    if problem is None:
        assert parse_location_url(value).endswith("/")
    else:
        with pytest.raises(ValueError, match=problem):
            parse_location_url(value)


# -- repository activity -----------------------------------------------------------------------


async def test_last_commit_costs_one_request_per_nonempty_enabled_repository(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(seed=17, projects=5, repos_per_project=6, pipelines_per_project=1)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="repository_activity")
        commits = [e.path for e in emu.log.entries if e.path.endswith("/commits")]
        repos = emu.ground_truth()["repositories"]
    assert result.exit_code == 0
    worth = [r for r in repos if r.get("defaultBranch") and not r["isDisabled"]]
    assert len(worth) < len(repos), "the scenario needs empty or disabled repositories"
    assert sorted(commits) == sorted(
        f"/{emu.config.org}/{r['project']['id']}/_apis/git/repositories/{r['id']}/commits"
        for r in worth
    )
    assert snapshot["resources"] == ["projects", "repositories", "repository_activity"]
    assert {a["id"] for a in snapshot["repository_activity"]} == {r["id"] for r in worth}
    for activity in snapshot["repository_activity"]:
        assert "comment" not in activity["lastCommit"]
        assert activity["lastCommit"]["committer"]["date"]


async def test_activity_of_an_unreachable_repository_is_not_asked(tmp_path: Path) -> None:
    config = EmulatorConfig(seed=8, projects=2, repos_per_project=5, reachable_repo_share=0.5)
    async with run_emulator(config) as emu:
        snapshot, _ = await crawl_with_options(emu, tmp_path, resources="repository_activity")
        truth = wider_truth(config, emu.url, visible=True)
        statuses = {e.status for e in emu.log.entries}
    assert snapshot["repository_activity"] == expected(truth, "repository_activity")
    assert statuses == {200}


def test_the_seeded_org_is_stable_and_independent_of_the_core() -> None:
    small = EmulatorConfig(projects=3, release_definitions_per_project=0)
    other = replace(small, release_definitions_per_project=4, variable_groups_per_project=5)
    base = "http://127.0.0.1:1/fabrikam"
    a, b = wider_truth(small, base), wider_truth(other, base)
    assert a["service_endpoints"] == b["service_endpoints"]
    assert a["release_definitions"] == []
    assert len(b["release_definitions"]) == 12
