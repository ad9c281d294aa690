"""Routes, api-version, case-insensitive segments, project names, discovery, auth, latency, log."""

from __future__ import annotations

import base64
import time

import pytest

from crawler.emulator import DEFAULT_TOKEN
from tests.emulator.conftest import EmulatorFactory, project_path


async def test_api_version_in_query_or_accept_header(emulator: EmulatorFactory) -> None:
    async with emulator() as (_, c):
        assert (await c.get("/_apis/projects", version="7.1")).status == 200
        accept = {"Accept": "application/json;api-version=7.1-preview.4", **c_auth()}
        assert (await c.get("/_apis/projects", headers=accept, version=None)).status == 200
        missing = await c.get("/_apis/projects", version=None)
        assert missing.status == 400
        assert missing.json()["typeKey"] == "VssVersionNotSpecifiedException"
        assert "api-version" in missing.json()["message"]
        assert (await c.get("/_apis/projects", version="9.0")).status == 400
        preview = await c.get("/_apis/projects", version="7.2")
        assert preview.status == 400
        assert "-preview" in preview.json()["message"]
        assert (await c.get("/_apis/projects", version="7.2-preview.4")).status == 200


def c_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEFAULT_TOKEN}", "X-TFS-FedAuthRedirect": "Suppress"}


async def test_org_and_api_segments_are_case_insensitive(emulator: EmulatorFactory) -> None:
    async with emulator(projects=2) as (emu, c):
        truth = emu.ground_truth()
        c.base = c.base.replace("/fabrikam", "/FabriKam")
        projects = (await c.get("/_APIS/Projects")).json()["value"]
        assert projects == truth["projects"]  # URLs keep the organization's own spelling
        name = truth["projects"][1]["name"]
        reply = await c.get(f"{project_path(name.upper())}/_Apis/Build/DEFINITIONS")
        assert reply.status == 200
        assert reply.json()["count"] == 6


async def test_projects_by_encoded_name_or_id(emulator: EmulatorFactory) -> None:
    async with emulator(projects=6, pipelines_per_project=2) as (emu, c):
        projects = emu.ground_truth()["projects"]
        names = [p["name"] for p in projects]
        assert any(not n.isascii() for n in names)
        assert any("%" in n for n in names)
        assert any("&" in n for n in names)
        for project in projects:
            by_name = await c.get(f"{project_path(project['name'])}/_apis/git/repositories")
            by_id = await c.get(f"/{project['id']}/_apis/git/repositories")
            assert by_name.status == by_id.status == 200
            assert by_name.body == by_id.body
            assert all(r["project"]["id"] == project["id"] for r in by_id.json()["value"])
            single = await c.get(f"/_apis/projects/{project['id']}")
            assert single.json()["name"] == project["name"]
        unknown = await c.get("/No%20Such%20Project/_apis/build/definitions")
        assert unknown.status == 404
        assert unknown.json()["message"].startswith("TF200016: ")


async def test_repository_by_id_and_items_use_the_request_host(emulator: EmulatorFactory) -> None:
    async with emulator(projects=2) as (emu, c):
        repo = emu.ground_truth()["repositories"][0]
        reply = await c.get(f"/_apis/git/repositories/{repo['id']}")
        assert reply.status == 200
        assert {k: v for k, v in reply.json().items() if k != "_links"} == repo
        c.base = c.base.replace("127.0.0.1", "localhost")
        local = (await c.get(f"/_apis/git/repositories/{repo['id']}")).json()
        assert local["url"].startswith(f"http://localhost:{emu.port}/fabrikam/")


async def test_unknown_routes_are_404(emulator: EmulatorFactory) -> None:
    async with emulator() as (_, c):
        assert (await c.get("/_apis/nothing-here")).status == 404
        c.base = c.base.replace("/fabrikam", "/contoso")
        assert (await c.get("/_apis/projects")).status == 404


async def test_discovery_needs_no_credentials(emulator: EmulatorFactory) -> None:
    async with emulator() as (_, c):
        areas = await c.get("/_apis/ResourceAreas", headers={}, version=None)
        assert areas.status == 200
        ids = {a["id"] for a in areas.json()["value"]}
        assert "965220d5-5bb9-42cf-8d67-9b146df2a5a4" in ids
        assert "79134c72-4a58-4b42-976c-04e7115f32bf" in ids
        one = await c.get("/_apis/resourceAreas/4E080C62-FA21-4FBC-8FEF-2A10A2B38049", headers={})
        assert one.json()["locationUrl"] == c.base + "/"
        options = await c.get("/_apis", headers={}, version=None, method="OPTIONS")
        locations = options.json()["value"]
        wanted = {"id", "area", "resourceName", "routeTemplate", "resourceVersion"}
        wanted |= {"minVersion", "maxVersion", "releasedVersion"}
        assert all(wanted <= set(loc) for loc in locations)
        assert "603fe2ac-9723-48b9-88ad-09305aa6c6e1" in {loc["id"] for loc in locations}
        git = await c.get("/_apis/Git", headers={}, version=None, method="OPTIONS")
        git_routes = git.json()["value"]
        assert {loc["area"] for loc in git_routes} == {"git"}  # one area only
        assert {"repositories", "commits"} <= {loc["resourceName"] for loc in git_routes}


def _basic(user: str, token: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}", "X-TFS-FedAuthRedirect": "Suppress"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        _basic("", DEFAULT_TOKEN),
        _basic("anyone", DEFAULT_TOKEN),
    ],
)
async def test_bearer_and_pat_are_accepted(
    emulator: EmulatorFactory, headers: dict[str, str]
) -> None:
    async with emulator() as (_, c):
        assert (await c.get("/_apis/projects", headers=headers)).status == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, _basic("", "wrong"), {"Authorization": "Basic !!"}],
)
async def test_bad_credentials_401_json_when_suppressed_else_203_html(
    emulator: EmulatorFactory, headers: dict[str, str]
) -> None:
    async with emulator() as (_, c):
        suppressed = await c.get(
            "/_apis/projects", headers=headers | {"X-TFS-FedAuthRedirect": "Suppress"}
        )
        assert suppressed.status == 401
        assert suppressed.json()["message"].startswith("TF400813")
        plain = {k: v for k, v in headers.items() if k != "X-TFS-FedAuthRedirect"}
        redirected = await c.get("/_apis/projects", headers=plain)
        assert redirected.status == 203
        assert redirected.headers["content-type"].startswith("text/html")
        assert b"Sign in" in redirected.body


async def test_latency_is_injected(emulator: EmulatorFactory) -> None:
    async with emulator(latency_ms=60, jitter_ms=20) as (_, c):
        began = time.monotonic()
        assert (await c.get("/_apis/projects")).status == 200
        assert time.monotonic() - began >= 0.06


async def test_request_log_records_paths_statuses_and_times(emulator: EmulatorFactory) -> None:
    async with emulator(projects=3, page_size=2) as (emu, c):
        await c.list_all("/_apis/projects")
        await c.get("/_apis/projects", headers={})
        log = emu.log
        assert log.count == 3
        assert log.per_path() == {"/fabrikam/_apis/projects": 3}
        assert log.statuses() == {200: 2, 203: 1}
        times = [e.time for e in log.entries]
        assert times == sorted(times)
        assert "continuationToken=2" in log.entries[1].query


async def test_a_top_that_is_not_a_number_is_a_400_on_every_paged_listing(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=1) as (emu, c):
        truth = emu.ground_truth()
        pid = truth["projects"][0]["id"]
        repo = truth["repositories"][0]["id"]
        for path, param in [
            ("/_apis/projects", "$top"),
            (f"/{pid}/_apis/build/definitions", "$top"),
            (f"/{pid}/_apis/pipelines", "$top"),
            (f"/{pid}/_apis/distributedtask/variablegroups", "$top"),
            (f"/{pid}/_apis/git/repositories/{repo}/commits", "searchCriteria.$top"),
        ]:
            reply = await c.get(f"{path}?{param}=many")
            assert reply.status == 400, path
            assert reply.json()["message"] == f"The value of {param} must be an integer."


async def test_a_get_of_the_bare_api_root_is_a_404_not_a_crash(emulator: EmulatorFactory) -> None:
    # OPTIONS {org}/_apis is the route discovery; a GET there (an outage probe once asked for
    # it) has nothing to serve.
    async with emulator() as (_, c):
        answer = await c.get("/_apis", version="7.1")
        assert answer.status == 404
        assert "not found" in answer.json()["message"]
