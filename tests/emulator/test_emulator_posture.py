"""The emulator's posture routes: connectionData per credential, general settings, secure files,
pipeline permissions and checks, and the errors ADO answers out of scope."""

from __future__ import annotations

import base64

from crawler.emulator import DEFAULT_TOKEN
from tests.emulator.conftest import EmulatorFactory

PREVIEW = "7.1-preview.1"


async def test_connection_data_names_the_caller(emulator: EmulatorFactory) -> None:
    async with emulator(projects=3) as (emu, client):
        scoped_name = emu.ground_truth()["projects"][1]["name"]
        job = await client.get("/_apis/connectionData", version=PREVIEW)
        basic = base64.b64encode(f":{DEFAULT_TOKEN}".encode()).decode()
        pat = await client.get(
            "/_apis/connectionData",
            headers={"Authorization": f"Basic {basic}", "X-TFS-FedAuthRedirect": "Suppress"},
            version=PREVIEW,
        )
        anonymous = await client.get("/_apis/connectionData", headers={}, version=PREVIEW)
    user = job.json()["authenticatedUser"]
    assert user["providerDisplayName"] == "Project Collection Build Service (fabrikam)"
    assert ":Build:" in user["descriptor"]
    assert "Build Service" not in pat.json()["authenticatedUser"]["providerDisplayName"]
    assert anonymous.status == 203  # the sign-in page, as for every other route
    async with emulator(projects=3, scoped_project=scoped_name) as (emu, client):
        scoped = await client.get("/_apis/connectionData", version=PREVIEW)
        pid = emu.ground_truth()["projects"][1]["id"]
    name = scoped.json()["authenticatedUser"]["providerDisplayName"]
    assert name == f"{scoped_name} Build Service (fabrikam)"
    assert scoped.json()["authenticatedUser"]["descriptor"].endswith(f":Build:{pid}")


async def test_out_of_scope_projects_answer_as_ado_does(emulator: EmulatorFactory) -> None:
    async with emulator(projects=3) as (emu, _):
        projects = emu.ground_truth()["projects"]
    async with emulator(projects=3, scoped_project=projects[0]["name"]) as (emu, client):
        other, mine = projects[2]["id"], projects[0]["id"]
        settings = await client.get(f"/{other}/_apis/build/generalsettings")
        files = await client.get(f"/{other}/_apis/distributedtask/securefiles", version=PREVIEW)
        own = await client.get(f"/{mine}/_apis/build/generalsettings")
        permissions = await client.get(
            f"/{other}/_apis/pipelines/pipelinepermissions/queue/1", version=PREVIEW
        )
    assert settings.status == 401
    assert files.status == 404
    assert b"TF200016" in files.body
    assert own.status == 200
    assert own.json()["enforceJobAuthScope"] is True  # why the token is scoped
    assert permissions.status == 404
    assert b"TF200016" in permissions.body


async def test_permissions_and_checks_of_a_resource(emulator: EmulatorFactory) -> None:
    async with emulator(projects=2, environments_per_project=4) as (emu, client):
        truth = emu.ground_truth()
        item = truth["pipeline_permissions"][0]
        pid, kind, rid = item["project"]["id"], item["resource"]["type"], item["resource"]["id"]
        got = await client.get(
            f"/{pid}/_apis/pipelines/pipelinepermissions/{kind}/{rid}", version=PREVIEW
        )
        bad_type = await client.get(
            f"/{pid}/_apis/pipelines/pipelinepermissions/bogus/{rid}", version=PREVIEW
        )
        unknown = await client.get(
            f"/{pid}/_apis/pipelines/pipelinepermissions/{kind}/nope", version=PREVIEW
        )
        env = next(e for e in truth["environments"] if e["name"] == "production")
        params = {"resourceType": "environment", "resourceId": str(env["id"])}
        bare = await client.get(
            f"/{env['project']['id']}/_apis/pipelines/checks/configurations",
            params,
            version=PREVIEW,
        )
        expanded = await client.get(
            f"/{env['project']['id']}/_apis/pipelines/checks/configurations",
            {**params, "$expand": "settings"},
            version=PREVIEW,
        )
    assert got.status == 200
    assert got.json() == {k: v for k, v in item.items() if k not in ("id", "project")}
    assert bad_type.status == 400
    assert unknown.status == 404
    assert bare.status == expanded.status == 200
    assert all("settings" not in c for c in bare.json()["value"])
    assert all("settings" in c for c in expanded.json()["value"])


async def test_unreadable_permissions_answer_403(emulator: EmulatorFactory) -> None:
    async with emulator(projects=1, permissions_readable=False) as (emu, client):
        item = emu.ground_truth()["pipeline_permissions"][0]
        pid, kind, rid = item["project"]["id"], item["resource"]["type"], item["resource"]["id"]
        got = await client.get(
            f"/{pid}/_apis/pipelines/pipelinepermissions/{kind}/{rid}", version=PREVIEW
        )
    assert got.status == 403
    assert b"AccessCheckException" in got.body
