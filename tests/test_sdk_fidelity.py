"""The official ``azure-devops`` SDK lists the emulated org and gets exactly its ground truth.

The SDK discovers routes (OPTIONS, ResourceAreas), negotiates versions in the Accept
header, sends the projects token as an int and the others as strings. It does not expose
continuation tokens (7.1.0b4), so each client's ``_send`` is wrapped to keep the last
response; that wraps the SDK, not our crawler. The full build definitions are compared
as raw JSON: the SDK deserialises the list as BuildDefinitionReference and drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.emulator import EmulatorConfig, serve_in_thread
from crawler.protocol.resources import strip_links

pytestmark = [
    # msrest's own deprecation, triggered inside the SDK's ServiceClient construction.
    pytest.mark.filterwarnings("ignore:Creds parameter is deprecated:DeprecationWarning"),
    pytest.mark.timeout(120),
]

MAX_PAGES = 1000


@pytest.fixture
def sdk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A private on-disk SDK cache and empty in-memory location caches for each test."""
    monkeypatch.setenv("AZURE_DEVOPS_CACHE_DIR", str(tmp_path / "sdk-cache"))
    from azure.devops import _file_cache
    from azure.devops.client import Client

    # The cache directory is fixed when the SDK is first imported: repoint both caches.
    for cache, name in (
        (_file_cache.OPTIONS_CACHE, "options"),
        (_file_cache.RESOURCE_CACHE, "res"),
    ):
        monkeypatch.setattr(cache, "file_name", str(tmp_path / f"{name}.json"))
        monkeypatch.setattr(cache, "data", {})
        monkeypatch.setattr(cache, "initial_load_occurred", False)
    Client._locations_cache.clear()
    yield
    Client._locations_cache.clear()


class LastResponse:
    """Wraps one SDK client's ``_send`` to remember the raw last response."""

    def __init__(self, client: Any) -> None:
        self.response: Any = None
        original: Callable[..., Any] = client._send

        def send(*args: Any, **kwargs: Any) -> Any:
            self.response = original(*args, **kwargs)
            return self.response

        client._send = send

    @property
    def token(self) -> str | None:
        token: str | None = self.response.headers.get("x-ms-continuationtoken")
        # http.client decodes header bytes as latin-1; the emulator (like any UTF-8 server)
        # sends definition names as UTF-8, so recover the real text before sending it back.
        return None if token is None else token.encode("latin-1").decode("utf-8")

    def values(self) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = self.response.json()["value"]
        return values


def _paged(last: LastResponse, call: Callable[[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
    """Follow tokens: (SDK objects, raw JSON items) of every page."""
    objects: list[Any] = []
    raw: list[Any] = []
    token: Any = None
    for _ in range(MAX_PAGES):
        objects.extend(call(token))
        raw.extend(last.values())
        if last.token is None:
            return objects, raw
        token = last.token
    raise AssertionError("the SDK never reached the last page")


def _no_links(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [strip_links(item) for item in items]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.usefixtures("sdk_cache")
@pytest.mark.parametrize(
    ("org", "page_size", "projects", "pipelines"),
    [
        ("fabrikam", 1, 7, 3),
        ("FabrikamFiber", 4, 9, 10),
        ("fabrikam", 100, 2, 260),
    ],
)
def test_sdk_lists_exactly_the_ground_truth(
    org: str, page_size: int, projects: int, pipelines: int
) -> None:
    from azure.devops.connection import Connection
    from msrest.authentication import BasicAuthentication

    config = EmulatorConfig(
        org=org,
        projects=projects,
        repos_per_project=3,
        pipelines_per_project=pipelines,
        page_size=page_size,
    )
    with serve_in_thread(config) as emu:
        truth = emu.ground_truth()
        connection = Connection(base_url=emu.url, creds=BasicAuthentication("", config.token))
        core = connection.clients_v7_1.get_core_client()
        git = connection.clients_v7_1.get_git_client()
        build = connection.clients_v7_1.get_build_client()
        pipes = connection.clients_v7_1.get_pipelines_client()
        core_last, git_last = LastResponse(core), LastResponse(git)
        build_last, pipes_last = LastResponse(build), LastResponse(pipes)

        sdk_projects, raw_projects = _paged(
            core_last, lambda t: core.get_projects(continuation_token=t and int(t))
        )
        assert raw_projects == truth["projects"]
        assert [(p.id, p.name, p.state, p.revision) for p in sdk_projects] == [
            (p["id"], p["name"], p["state"], p["revision"]) for p in truth["projects"]
        ]
        assert [p.last_update_time for p in sdk_projects] == [
            _when(p["lastUpdateTime"]) for p in truth["projects"]
        ]

        repos: list[Any] = []
        raw_repos: list[Any] = []
        definitions: list[Any] = []
        raw_definitions: list[Any] = []
        pipeline_names: list[tuple[int, str, str]] = []
        for project in sdk_projects:
            repos.extend(git.get_repositories(project=project.name, include_hidden=True))
            raw_repos.extend(git_last.values())
            found, raw = _paged(
                build_last,
                lambda t, name=project.name: build.get_definitions(
                    project=name, include_all_properties=True, continuation_token=t
                ),
            )
            definitions.extend(found)
            raw_definitions.extend(raw)
            listed, _ = _paged(
                pipes_last,
                lambda t, name=project.name: pipes.list_pipelines(
                    project=name, continuation_token=t
                ),
            )
            pipeline_names.extend((p.id, p.name, p.folder) for p in listed)

        assert raw_repos == truth["repositories"]
        assert [(r.id, r.name, r.default_branch, r.project.id) for r in repos] == [
            (r["id"], r["name"], r.get("defaultBranch"), r["project"]["id"])
            for r in truth["repositories"]
        ]
        assert _no_links(raw_definitions) == truth["pipelines"]
        assert [(d.id, d.name, d.path, d.queue_status) for d in definitions] == [
            (d["id"], d["name"], d["path"], d["queueStatus"]) for d in truth["pipelines"]
        ]
        assert pipeline_names == [(d["id"], d["name"], d["path"]) for d in truth["pipelines"]]
        discovery = emu.log.per_path()
        assert discovery[f"/{org.lower()}/_apis"] >= 1  # the SDK asked OPTIONS for its routes


@pytest.mark.usefixtures("sdk_cache")
def test_sdk_reads_the_emulator_errors_as_ado_errors() -> None:
    from azure.devops.connection import Connection
    from azure.devops.exceptions import AzureDevOpsServiceError
    from msrest.authentication import BasicAuthentication, BasicTokenAuthentication

    names = [p["name"] for p in _project_names(4)]
    config = EmulatorConfig(projects=4, scoped_project=names[0], reachable_repo_share=0.5)
    with serve_in_thread(config) as emu:
        bearer = BasicTokenAuthentication({"access_token": config.token})
        connection = Connection(base_url=emu.url, creds=bearer)
        git = connection.clients_v7_1.get_git_client()
        build = connection.clients_v7_1.get_build_client()
        with pytest.raises(AzureDevOpsServiceError, match=r"^TF200016: "):
            git.get_repositories(project=names[1])
        with pytest.raises(AzureDevOpsServiceError, match=r"^TF400813: "):
            build.get_definitions(project=names[1])
        unreachable = emu.visible_ground_truth()["unreachable"]
        hidden = next(u["repository"]["id"] for u in unreachable if u["level"] == "repository")
        with pytest.raises(AzureDevOpsServiceError, match=r"^TF401019: "):
            git.get_repository(hidden, project=names[0])
        visible = git.get_repositories(project=names[0], include_hidden=True)
        assert [r.id for r in visible] == [
            r["id"] for r in emu.visible_ground_truth()["repositories"]
        ]

        wrong = Connection(base_url=emu.url, creds=BasicAuthentication("", "not-the-token"))
        with pytest.raises(AzureDevOpsServiceError, match="TF400813"):
            wrong.clients_v7_1.get_core_client().get_projects()


def _project_names(count: int) -> list[dict[str, Any]]:
    """The projects of a default org with ``count`` projects (names are seed-stable)."""
    from crawler.emulator import ground_truth

    projects: list[dict[str, Any]] = ground_truth(
        EmulatorConfig(projects=count, repos_per_project=0, pipelines_per_project=0),
        "http://127.0.0.1:1/fabrikam",
    )["projects"]
    return projects


@pytest.mark.usefixtures("sdk_cache")
def test_sdk_reads_identity_settings_permissions_and_checks() -> None:
    """The SDK's location, build, pipeline permissions and checks clients get the ground truth
    (connectionData, general settings, permissions of every protected resource, checks single
    and batched)."""
    from azure.devops.connection import Connection
    from msrest.authentication import BasicAuthentication, BasicTokenAuthentication

    config = EmulatorConfig(projects=2, repos_per_project=1, environments_per_project=4)
    with serve_in_thread(config) as emu:
        truth = emu.ground_truth()
        job = Connection(
            base_url=emu.url, creds=BasicTokenAuthentication({"access_token": config.token})
        )
        data = job.clients_v7_1.get_location_client().get_connection_data()
        assert data.authenticated_user.provider_display_name == (
            "Project Collection Build Service (fabrikam)"
        )
        pat = Connection(base_url=emu.url, creds=BasicAuthentication("", config.token))
        user = pat.clients_v7_1.get_location_client().get_connection_data().authenticated_user
        assert "Build Service" not in user.provider_display_name

        build = job.clients_v7_1.get_build_client()
        last = LastResponse(build)
        for settings in truth["pipeline_settings"]:
            got = build.get_build_general_settings(settings["project"]["id"]).serialize()
            want = {k: v for k, v in settings.items() if k not in ("id", "project")}
            assert "enforceJobAuthScope" in got  # the SDK's model knows 8 of the 19 fields
            assert got == {k: want[k] for k in got}
            assert last.response.json() == want

        permissions = job.clients_v7_1.get_pipeline_permissions_client()
        for item in truth["pipeline_permissions"]:
            resource = item["resource"]
            got = permissions.get_pipeline_permissions_for_resource(
                item["project"]["id"], resource["type"], resource["id"]
            )
            assert (got.resource.type, got.resource.id) == (resource["type"], resource["id"])
            assert got.all_pipelines.authorized is item["allPipelines"]["authorized"]
            assert [p.id for p in got.pipelines] == [p["id"] for p in item["pipelines"]]

        checks = job.clients_v7_1.get_pipelines_checks_client()
        checks_last = LastResponse(checks)
        want_by_resource: dict[tuple[str, str, str], set[int]] = {}
        for check in truth["checks"]:
            key = (check["project"]["id"], check["resource"]["type"], check["resource"]["id"])
            want_by_resource.setdefault(key, set()).add(check["id"])
        for item in truth["pipeline_permissions"]:  # every protected resource
            project, resource = item["project"]["id"], item["resource"]
            got = checks.get_check_configurations_on_resource(
                project,
                resource_type=resource["type"],
                resource_id=resource["id"],
                expand="settings",
            )
            key = (project, resource["type"], resource["id"])
            assert {c.id for c in got} == want_by_resource.get(key, set())
            # The SDK's CheckConfiguration model has no settings; $expand=settings sends them.
            assert all("settings" in raw for raw in checks_last.values())
        from azure.devops.v7_1.pipelines_checks.models import Resource

        project = truth["projects"][0]["id"]
        mine = [
            i["resource"] for i in truth["pipeline_permissions"] if i["project"]["id"] == project
        ]
        batched = checks.query_check_configurations_on_resources(
            [Resource(id=r["id"], type=r["type"]) for r in mine], project, expand="settings"
        )
        assert {c.id for c in batched} == {
            i for key, ids in want_by_resource.items() if key[0] == project for i in ids
        }
