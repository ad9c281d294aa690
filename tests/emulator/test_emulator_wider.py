"""The emulator's wider resources: ADO's shapes, paging tokens, scopes and the release host."""

from __future__ import annotations

from crawler.emulator.wider_truth import wider_truth
from tests.emulator.conftest import EmulatorFactory, strip_links


async def test_paged_lists_follow_tokens_to_the_ground_truth(emulator: EmulatorFactory) -> None:
    async with emulator(projects=2, page_size=1, policies_per_project=3) as (emu, client):
        truth = wider_truth(emu.config, emu.url)
        project = emu.ground_truth()["projects"][1]
        paths = {
            "release_definitions": "release/definitions",
            "variable_groups": "distributedtask/variablegroups",
            "environments": "distributedtask/environments",
            "policies": "policy/configurations",
        }
        for key, path in paths.items():
            items, tokens = await client.list_all(f"/{project['id']}/_apis/{path}")
            want = [
                {k: v for k, v in i.items() if k != "project" or key == "environments"}
                for i in truth[key]
                if i["project"]["id"] == project["id"]
            ]
            assert strip_links(items) == want, key
            assert len(tokens) == len(want) - 1, key
        groups, tokens = await client.list_all(
            f"/{project['id']}/_apis/distributedtask/variablegroups"
        )
        assert [g["id"] for g in groups] == sorted((g["id"] for g in groups), reverse=True)
        assert all(t.isdigit() for t in tokens)


async def test_unpaged_lists_and_expand(emulator: EmulatorFactory) -> None:
    async with emulator(projects=2) as (emu, client):
        pid = emu.ground_truth()["projects"][0]["id"]
        queues = await client.get(f"/{pid}/_apis/distributedtask/queues")
        assert queues.token is None
        assert {q["pool"]["name"] for q in queues.json()["value"]} == {"Azure Pipelines", "Default"}
        plain = await client.get(f"/{pid}/_apis/release/definitions")
        assert all("environments" not in r for r in plain.json()["value"])
        expanded = await client.get(
            f"/{pid}/_apis/release/definitions", {"$expand": "environments"}
        )
        assert all(r["environments"] for r in expanded.json()["value"])
        assert all("artifacts" not in r for r in expanded.json()["value"])


async def test_scopes_and_unreadable_endpoints(emulator: EmulatorFactory) -> None:
    async with emulator(projects=3, endpoints_readable=False) as (emu, client):
        pid = emu.ground_truth()["projects"][0]["id"]
        denied = await client.get(f"/{pid}/_apis/serviceendpoint/endpoints")
        assert denied.status == 403
        assert "service connections" in denied.json()["message"]
    async with emulator(projects=3) as (probe, _):
        names = [p["name"] for p in probe.ground_truth()["projects"]]
    async with emulator(projects=3, scoped_project=names[0]) as (emu, client):
        other = emu.ground_truth()["projects"][1]["id"]
        release = await client.get(f"/{other}/_apis/release/definitions")
        groups = await client.get(f"/{other}/_apis/distributedtask/variablegroups")
        assert (release.status, groups.status) == (401, 404)
        assert "TF200016" in groups.json()["message"]


async def test_release_area_location_and_host(emulator: EmulatorFactory) -> None:
    area = "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"
    async with emulator(projects=1, release_host="localhost") as (emu, client):
        reply = await client.get(f"/_apis/resourceAreas/{area}", headers={})
        assert reply.json()["locationUrl"] == f"http://localhost:{emu.port}/{emu.config.org}/"
        pid = emu.ground_truth()["projects"][0]["id"]
        wrong_host = await client.get(f"/{pid}/_apis/release/definitions")
        assert wrong_host.status == 404


async def test_latest_builds_and_commits(emulator: EmulatorFactory) -> None:
    async with emulator(projects=1, pipelines_per_project=12, repos_per_project=4) as (emu, client):
        pid = emu.ground_truth()["projects"][0]["id"]
        plain = await client.get(f"/{pid}/_apis/build/definitions")
        assert all("latestBuild" not in d for d in plain.json()["value"])
        latest = await client.get(
            f"/{pid}/_apis/build/definitions", {"includeLatestBuilds": "true"}
        )
        built = [d for d in latest.json()["value"] if "latestBuild" in d]
        assert 0 < len(built) < 12
        assert all(d["latestCompletedBuild"]["finishTime"] for d in built)
        repo = emu.ground_truth()["repositories"][0]
        commits = await client.get(
            f"/{pid}/_apis/git/repositories/{repo['id']}/commits", {"searchCriteria.$top": "1"}
        )
        [commit] = commits.json()["value"]
        assert len(commit["commitId"]) == 40
        assert commit["committer"]["date"].endswith("Z")
