"""Paging: continuation tokens lead to exactly every item, in each API's own token style."""

from __future__ import annotations

import base64

import orjson
import pytest

from crawler.emulator import FaultConfig
from tests.emulator.conftest import EmulatorFactory, project_path, strip_links


@pytest.mark.parametrize("page_size", [1, 2, 7, 100])
async def test_following_tokens_yields_exactly_the_ground_truth(
    emulator: EmulatorFactory, page_size: int
) -> None:
    async with emulator(projects=9, pipelines_per_project=11, page_size=page_size) as (emu, c):
        truth = emu.ground_truth()
        projects, _ = await c.list_all("/_apis/projects")
        assert projects == truth["projects"]
        definitions = []
        pipelines = []
        for project in projects:
            path = project_path(project["name"])
            full, _ = await c.list_all(
                f"{path}/_apis/build/definitions", {"includeAllProperties": "true"}
            )
            definitions.extend(full)
            listed, _ = await c.list_all(f"{path}/_apis/pipelines")
            pipelines.extend(listed)
        assert strip_links(definitions) == truth["pipelines"]
        assert [(p["id"], p["name"]) for p in pipelines] == [
            (d["id"], d["name"]) for d in truth["pipelines"]
        ]
        assert all("_links" in d for d in definitions + pipelines)
        # As on ADO, identity and queue references carry links of their own.
        assert all("avatar" in d["authoredBy"]["_links"] for d in definitions)
        assert all("self" in d["queue"]["_links"] for d in definitions)


async def test_token_styles_differ_per_api(emulator: EmulatorFactory) -> None:
    async with emulator(projects=5, pipelines_per_project=8, page_size=2) as (emu, c):
        _, project_tokens = await c.list_all("/_apis/projects")
        assert project_tokens == ["2", "4"]  # numeric skip counts
        name = emu.ground_truth()["projects"][0]["name"]
        definitions, def_tokens = await c.list_all(f"{project_path(name)}/_apis/build/definitions")
        names = [d["name"] for d in definitions]
        assert def_tokens == names[2::2]  # the name of the next definition
        _, pipe_tokens = await c.list_all(f"{project_path(name)}/_apis/pipelines")
        assert len(pipe_tokens) == 3
        for token in pipe_tokens:
            assert not token.isdigit()
            orjson.loads(base64.b64decode(token))  # opaque, base64 of something


async def test_definition_tokens_with_spaces_and_non_ascii_round_trip(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=3, pipelines_per_project=40, page_size=1) as (emu, c):
        name = emu.ground_truth()["projects"][0]["name"]
        _, tokens = await c.list_all(f"{project_path(name)}/_apis/build/definitions")
        assert any(" " in t for t in tokens)
        assert any(not t.isascii() for t in tokens)
        assert any("#" in t or "&" in t or "+" in t or "%" in t for t in tokens)


async def test_top_is_capped_at_the_page_size_and_defaults_to_it(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=6, page_size=4) as (_, c):
        capped = await c.get("/_apis/projects", {"$top": "1000"})
        assert capped.json()["count"] == 4
        assert capped.token == "4"
        default = await c.get("/_apis/projects")
        assert default.json()["count"] == 4
        small = await c.get("/_apis/projects", {"$top": "2"})
        assert small.json()["count"] == 2
        assert small.token == "2"
        skipped = await c.get("/_apis/projects", {"$skip": "5"})
        assert skipped.json()["count"] == 1
        assert skipped.token is None
        assert (await c.get("/_apis/projects", {"$top": "many"})).status == 400


async def test_the_envelope_has_count_and_value_and_no_token_in_the_body(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=3, page_size=2) as (_, c):
        reply = await c.get("/_apis/projects")
        body = reply.json()
        assert set(body) == {"count", "value"}
        assert body["count"] == len(body["value"]) == 2
        assert reply.headers["content-type"].startswith("application/json")


async def test_repositories_are_unpaged_and_hidden_only_on_request(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=6, repos_per_project=5, page_size=1) as (emu, c):
        truth = emu.ground_truth()["repositories"]
        everything = await c.get("/_apis/git/repositories", {"includeHidden": "true"})
        assert everything.token is None
        assert everything.json()["value"] == truth
        plain = (await c.get("/_apis/git/repositories")).json()["value"]
        hidden = [r for r in truth if r not in plain]
        assert hidden, "the seeded org has at least one hidden (wiki) repository"
        assert all(r["name"].endswith(".wiki") for r in hidden)
        project = truth[0]["project"]
        mine = await c.get(f"/{project['id']}/_apis/git/repositories", {"includeHidden": "true"})
        assert mine.json()["value"] == [r for r in truth if r["project"]["id"] == project["id"]]


async def test_definitions_without_include_all_properties_are_references(
    emulator: EmulatorFactory,
) -> None:
    async with emulator(projects=1, pipelines_per_project=3) as (emu, c):
        name = emu.ground_truth()["projects"][0]["name"]
        refs = (await c.get(f"{project_path(name)}/_apis/build/definitions")).json()["value"]
        for ref in refs:
            assert {"id", "name", "path", "queueStatus", "uri", "project"} <= set(ref)
            assert not {"repository", "process", "triggers", "variables"} & set(ref)


@pytest.mark.parametrize("resource", ["projects", "definitions", "pipelines"])
async def test_loop_token_repeats_the_same_page_forever(
    emulator: EmulatorFactory, resource: str
) -> None:
    faults = FaultConfig(loop_token=(resource,))
    async with emulator(projects=4, pipelines_per_project=5, page_size=2, faults=faults) as (
        emu,
        c,
    ):
        name = emu.ground_truth()["projects"][0]["name"]
        path = {
            "projects": "/_apis/projects",
            "definitions": f"{project_path(name)}/_apis/build/definitions",
            "pipelines": f"{project_path(name)}/_apis/pipelines",
        }[resource]
        first = await c.get(path)
        assert first.token is not None
        reply = first
        for _ in range(3):
            reply = await c.get(path, {"continuationToken": reply.token or ""})
            assert reply.token == first.token
            assert reply.body == first.body
