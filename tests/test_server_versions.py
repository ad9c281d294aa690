"""Azure DevOps Server 2019-2022.1 and the cloud: one route discovery, negotiated versions.

Each default crawl of the emulator in every ``--server-version`` mode equals the ground truth,
and the emulator's request log shows no request above that server's highest api-version.
``--resources all`` against Server 2019 records what 2019 lacks as ``not_supported`` and reads
everything else. On the cloud the discovery overlaps the first projects page.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import orjson
import pytest

from crawler.crawl.fanout import crawl_org
from crawler.crawl.plan import CrawlPlan, CrawlState
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.server import RunningEmulator, run_emulator
from crawler.emulator.wider_truth import wider_truth
from crawler.http.client import AdoClient, ClientOptions
from crawler.protocol.errors import CrawlerError
from crawler.protocol.locations import parse_version
from crawler.protocol.resources import REGISTRY
from crawler.snapshot.schema import snapshot_schema
from crawler.snapshot.validate import Validator
from crawler.snapshot.writer import SnapshotWriter
from tests.crawl_helpers import assert_matches_ground_truth, crawl
from tests.wider_helpers import WIDER, expected

# version -> (highest accepted, organization.api_version, organization.deployment)
SERVERS = {
    "services": ((7, 2), "7.1", "services"),
    "2022.1": ((7, 1), "7.1", "server"),
    "2022": ((7, 0), "7.0", "server"),
    "2020": ((6, 0), "6.0", "server"),
    "2019": ((5, 0), "5.0", "server"),
}


def _config(version: str, **sizes: int) -> EmulatorConfig:
    org = "fabrikam" if version == "services" else "DefaultCollection"
    return EmulatorConfig(server_version=version, org=org, seed=11, **sizes)


def _versions_sent(emu: RunningEmulator) -> list[tuple[str, str, str | None]]:
    """(method, path, api-version) of every request the emulator answered."""
    sent = []
    for entry in emu.log.entries:
        version = parse_qs(entry.query).get("api-version", [None])[0]
        sent.append((entry.method, entry.path, version))
    return sent


def _assert_within(emu: RunningEmulator, highest: tuple[int, int]) -> None:
    sent = _versions_sent(emu)
    assert sent[0][0] == "OPTIONS"  # route discovery comes first
    assert sum(1 for method, _, _ in sent if method == "OPTIONS") == 1  # once per run
    for _method, path, version in sent[1:]:
        assert version is not None, path
        number = parse_version(version)
        assert number is not None, version
        assert number <= highest, (path, version)
    assert emu.log.statuses()[400] == 0  # not one VssVersionOutOfRange / preview refusal


@pytest.mark.parametrize("version", sorted(SERVERS))
async def test_default_crawl_of_each_server_equals_the_truth(tmp_path: Path, version: str) -> None:
    highest, api_version, deployment = SERVERS[version]
    async with run_emulator(_config(version, projects=3, page_size=2)) as emu:
        result, snapshot = await crawl(emu, tmp_path, page_size=2)
        truth = emu.ground_truth()
        _assert_within(emu, highest)
    assert result.exit_code == 0, snapshot["errors"]
    assert_matches_ground_truth(snapshot, truth)
    assert snapshot["organization"]["deployment"] == deployment
    assert snapshot["organization"]["api_version"] == api_version
    assert Validator(snapshot_schema()).problems(snapshot) == []
    if version != "services":
        assert snapshot["organization"]["url"].endswith("/tfs/DefaultCollection/")
    # pipeline_settings is in the default set only where the server has it (6.0 on): on
    # 2019 it is left out of the run and the header, said in the summary, and not an error.
    has_settings = version not in ("2019",)
    assert ("pipeline_settings" in snapshot["resources"]) is has_settings
    assert ("Not on this server" in result.summary) is not has_settings
    assert ("pipeline_settings" in snapshot) is has_settings


async def test_all_resources_on_server_2019(tmp_path: Path) -> None:
    config = _config("2019", projects=2)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, resources="all")
        truth = wider_truth(config, emu.url)
        core = emu.ground_truth()
        _assert_within(emu, (5, 0))
        paths = [path.lower() for _, path, _ in _versions_sent(emu)]
    assert result.exit_code == 4
    # What 2019 (5.0) lacks: environments, general settings, pipeline permissions, checks.
    lacking = ("checks", "environments", "pipeline_permissions", "pipeline_settings")
    assert [(e["resource"], e["code"], e["project"]) for e in snapshot["errors"]] == [
        (key, "not_supported", None) for key in lacking
    ]
    assert all("highest API version 5.0" in e["message"] for e in snapshot["errors"])
    assert "environments (all projects) (not_supported)" in result.summary
    assert "lacks some resources" in result.summary
    assert Validator(snapshot_schema()).problems(snapshot) == []
    assert not any("environments" in path for path in paths)  # never asked
    assert snapshot["environments"] == []
    assert_matches_ground_truth(snapshot, core)
    for resource in WIDER:
        if resource not in lacking:
            assert snapshot[resource] == expected(truth, resource), resource


@pytest.mark.parametrize(("kind", "overlaps"), [("cloud", True), ("server", False)])
async def test_discovery_overlaps_the_first_projects_page_on_the_cloud(
    tmp_path: Path, kind: str, overlaps: bool
) -> None:
    latency = 0.2
    config = EmulatorConfig(
        projects=1, repos_per_project=1, pipelines_per_project=1, latency_ms=latency * 1000
    )
    async with run_emulator(config) as emu:
        plan = CrawlPlan(base_url=emu.url + "/", org_kind=kind)
        writer = SnapshotWriter(tmp_path / "out.json", plan.resources)
        options = ClientOptions(rate=1000.0, backoff_base_s=0.01, backoff_max_s=0.05)
        async with AdoClient(options, authorization=f"Bearer {config.token}") as client:
            await crawl_org(client, plan, writer, CrawlState())
        writer.abort()
        arrivals = {e.method + " " + e.path.rsplit("/", 1)[-1]: e.time for e in emu.log.entries}
    gap = arrivals["GET projects"] - arrivals["OPTIONS _apis"]
    if overlaps:
        assert gap < latency / 2  # sent together
    else:
        assert gap >= latency * 0.9  # the projects page waited for the route table


async def test_a_url_that_is_not_a_collection_stops_with_advice(tmp_path: Path) -> None:
    async with run_emulator(_config("2020", projects=1)) as emu:
        wrong = emu.url.replace("DefaultCollection", "NoSuchCollection")
        with pytest.raises(CrawlerError, match="could not learn the API versions") as caught:
            await crawl(emu, tmp_path, org=wrong)
        assert [e.method for e in emu.log.entries] == ["OPTIONS"]  # nothing else was tried
    assert "https://host/tfs/DefaultCollection/" in str(caught.value)
    assert not (tmp_path / "inventory.json").exists()


def test_plan_routes_without_and_with_location_data() -> None:
    from crawler.crawl.discovery import plan_routes
    from crawler.protocol.locations import CONNECTION_DATA, parse_location_data
    from crawler.protocol.resources import REGISTRY

    fallback = plan_routes(None, REGISTRY.values(), "cloud")
    assert (fallback.deployment, fallback.api_version) == ("services", "7.1")
    assert fallback.versions == {}
    assert fallback.unsupported == {}
    body = (Path(__file__).parent / "fixtures" / "options" / "2019.json").read_bytes()
    routes = plan_routes(parse_location_data(orjson.loads(body)), REGISTRY.values(), "server")
    assert (routes.deployment, routes.api_version) == ("server", "5.0")
    assert set(routes.unsupported) == {
        "checks",
        "environments",
        "pipeline_permissions",
        "pipeline_settings",
    }
    assert routes.versions[REGISTRY["projects"].location] == "5.0"
    assert routes.versions[CONNECTION_DATA] == "5.0-preview.1"  # for the identity call


def test_a_registry_entry_sends_the_negotiated_version_or_its_own() -> None:
    checks = REGISTRY["checks"]
    assert checks.query_at(None) == dict(checks.query)  # the entry's own preview version
    negotiated = checks.query_at("6.0-preview.1")
    assert negotiated["api-version"] == "6.0-preview.1"
    assert negotiated["$expand"] == "settings"
    assert checks.query["api-version"] != "6.0-preview.1"  # the entry itself is not changed
