"""--server-version: each deployment's collection URL, api-versions, routes and resource areas."""

from __future__ import annotations

import pytest

from crawler.emulator.versions import PROFILES, SERVER_VERSIONS
from tests.emulator.conftest import AUTH, EmulatorFactory, project_path

HIGHEST = {"services": "7.2", "2022.1": "7.1", "2022": "7.0", "2020": "6.0", "2019": "5.0"}
ABOVE = {"services": "7.3", "2022.1": "7.2", "2022": "7.1", "2020": "6.1", "2019": "5.1"}


@pytest.mark.parametrize("version", SERVER_VERSIONS)
async def test_each_version_caps_the_api_version(emulator: EmulatorFactory, version: str) -> None:
    org = "fabrikam" if version == "services" else "DefaultCollection"
    async with emulator(server_version=version, org=org, projects=2) as (emu, c):
        if version == "services":
            assert emu.url.endswith("/fabrikam")
        else:
            assert emu.url.endswith("/tfs/DefaultCollection")
        released = HIGHEST[version] if version != "services" else "7.1"
        ok = await c.get("/_apis/projects", version=released)
        assert ok.status == 200
        assert ok.json()["value"] == emu.ground_truth()["projects"]
        too_new = await c.get("/_apis/projects", version=ABOVE[version])
        assert too_new.status == 400
        assert too_new.json()["typeKey"] == "VssVersionOutOfRangeException"
        assert too_new.json()["message"].endswith(
            f"The latest REST API version this server supports is {HIGHEST[version]}."
        )
        options = await c.get("/_apis", headers={}, version=None, method="OPTIONS")
        assert {loc["maxVersion"] for loc in options.json()["value"]} == {HIGHEST[version]}


async def test_server_2019_lacks_newer_routes_and_areas(emulator: EmulatorFactory) -> None:
    async with emulator(server_version="2019", org="DefaultCollection", projects=1) as (emu, c):
        project = project_path(emu.ground_truth()["projects"][0]["name"])
        options = (await c.get("/_apis", headers={}, version=None, method="OPTIONS")).json()
        ids = {loc["id"] for loc in options["value"]}
        assert "8572b1fc-2482-47fa-8f74-7e3ed53ee54b" not in ids  # environments: 6.0
        assert "28e1305e-2afe-47bf-abaf-cbb0e6a91988" not in ids  # Pipelines API: 5.1
        assert "dbeaf647-6167-421a-bda9-c9327b25e2e6" in ids  # build definitions
        gone = await c.get(f"{project}/_apis/distributedtask/environments", version="5.0-preview.1")
        assert gone.status == 404
        assert (await c.get(f"{project}/_apis/pipelines", version="5.0-preview.1")).status == 404
        # Variable groups are preview-only on 2019: a released number is refused.
        groups = f"{project}/_apis/distributedtask/variablegroups"
        refused = await c.get(groups, version="5.0")
        assert refused.json()["typeKey"] == "VssInvalidPreviewVersionException"
        assert (await c.get(groups, version="5.0-preview.1")).status == 200
        areas = (await c.get("/_apis/ResourceAreas", headers={}, version=None)).json()["value"]
        assert "2e0bf237-8973-4ec9-a581-9c3d679d1776" not in {a["id"] for a in areas}
        release = next(a for a in areas if a["name"] == "release")
        assert release["locationUrl"] == emu.url + "/"  # release management on the same host


async def test_the_collection_path_is_required(emulator: EmulatorFactory) -> None:
    async with emulator(server_version="2020", org="DefaultCollection") as (emu, c):
        c.base = emu.url.replace("/tfs/", "/")
        assert (await c.get("/_apis/projects", version="6.0")).status == 404
        c.base = emu.url.replace("/tfs/", "/TFS/")
        assert (await c.get("/_apis/projects", version="6.0", headers=AUTH)).status == 200


def test_profiles_go_down_in_version() -> None:
    highest = [PROFILES[name].highest for name in SERVER_VERSIONS]
    assert highest == sorted(highest, reverse=True)


def test_server_version_flag_defaults_to_default_collection() -> None:
    import argparse

    from crawler.commands.emulator import add_arguments, build_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = build_config(parser.parse_args(["--server-version", "2019"]))
    assert (config.server_version, config.base_path) == ("2019", "tfs/DefaultCollection")
    assert build_config(parser.parse_args([])).base_path == "fabrikam"
    with pytest.raises(SystemExit):
        parser.parse_args(["--server-version", "2018"])
