"""Scopes: a project-scoped job token and protected repositories fail the way ADO fails."""

from __future__ import annotations

from crawler.emulator import EmulatorConfig, unreachable_scopes, visible_ground_truth
from crawler.emulator.model import Org
from tests.emulator.conftest import EmulatorFactory, project_path


async def test_project_scoped_token_fails_per_api_like_ado(emulator: EmulatorFactory) -> None:
    names = [p.name for p in Org(EmulatorConfig(projects=4)).projects()]
    mine, other = names[0], names[1]
    async with emulator(projects=4, scoped_project=mine) as (_emu, c):
        repos = await c.get(f"{project_path(other)}/_apis/git/repositories")
        assert repos.status == 404
        assert repos.json()["message"].startswith(
            f"TF200016: The following project does not exist: {other}."
        )
        defs = await c.get(f"{project_path(other)}/_apis/build/definitions")
        assert defs.status == 401
        assert defs.json()["message"].startswith("TF400813")
        assert (await c.get(f"{project_path(other)}/_apis/pipelines")).status == 403
        for path in ("git/repositories", "build/definitions", "pipelines"):
            assert (await c.get(f"{project_path(mine)}/_apis/{path}")).status == 200
        listed = (await c.get("/_apis/projects")).json()["value"]
        assert [p["name"] for p in listed] == names  # the whole list by default
        org_wide = (await c.get("/_apis/git/repositories")).json()["value"]
        assert {r["project"]["name"] for r in org_wide} == {mine}


async def test_scoped_token_can_hide_other_projects_from_the_list(
    emulator: EmulatorFactory,
) -> None:
    mine_name = Org(EmulatorConfig(projects=4)).project(2).name
    async with emulator(projects=4, scoped_project=mine_name, list_all_projects=False) as (
        emu,
        c,
    ):
        mine = emu.ground_truth()["projects"][2]
        listed = (await c.get("/_apis/projects")).json()["value"]
        assert listed == [mine]
        visible = emu.visible_ground_truth()
        assert visible["projects"] == [mine]
        unreachable = visible["unreachable"]
        assert len(unreachable) == 3
        assert {u["level"] for u in unreachable} == {"project"}


async def test_protected_repositories_are_listed_only_when_reachable(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=4, repos_per_project=4, reachable_repo_share=0.5) as (emu, c):
        truth = emu.ground_truth()
        visible = emu.visible_ground_truth()
        hidden_ids = {u["repository"]["id"] for u in visible["unreachable"]}
        per_project = {p["id"]: 0 for p in truth["projects"]}
        for u in visible["unreachable"]:
            per_project[u["project"]["id"]] += 1
        assert all(n >= 1 for n in per_project.values())
        listed = (await c.get("/_apis/git/repositories", {"includeHidden": "true"})).json()
        assert listed["value"] == visible["repositories"]
        assert not hidden_ids & {r["id"] for r in listed["value"]}
        for repo_id in hidden_ids:
            reply = await c.get(f"/_apis/git/repositories/{repo_id}")
            assert reply.status == 404
            assert reply.json()["message"].startswith(
                f"TF401019: The Git repository with name or identifier {repo_id} does not exist"
            )
        # Build definitions still name the protected repositories.
        referenced = {d["repository"]["id"] for d in visible["pipelines"]}
        assert (
            hidden_ids - referenced
            == {r["id"] for r in truth["repositories"] if r["name"].endswith(".wiki")} & hidden_ids
        )


def test_unreachable_scopes_are_empty_for_a_full_token() -> None:
    assert unreachable_scopes(EmulatorConfig()) == []
    full = visible_ground_truth(EmulatorConfig(), "http://127.0.0.1:1/fabrikam")
    assert full["unreachable"] == []
