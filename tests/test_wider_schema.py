"""The snapshot schema knows the wider resources: a crawl of every resource validates, merged
too, and a stored secret (a variable value, endpoint credentials) makes a file invalid."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import jsonschema
import pytest

from crawler.downstream.merge import merge_snapshots
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.server import run_emulator
from crawler.snapshot.schema import multi_schema, snapshot_schema
from crawler.snapshot.validate import Validator
from tests.wider_helpers import WIDER, crawl_with_options


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with run_emulator(EmulatorConfig(seed=31, projects=3)) as emu:
            doc, _ = await crawl_with_options(
                emu,
                tmp_path_factory.mktemp("wide"),
                options=frozenset({"latest_builds", "release_expand"}),
                resources="all",
            )
        return doc

    return asyncio.run(go())


def _problems(schema: dict[str, Any], doc: Any) -> tuple[list[str], list[str]]:
    ours = [str(p) for p in Validator(schema).problems(doc)]
    theirs = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    return ours, theirs


def test_a_crawl_of_every_resource_is_valid_single_and_merged(wide: dict[str, Any]) -> None:
    assert all(wide[key] for key in WIDER)
    assert _problems(snapshot_schema(), wide) == ([], [])
    other = copy.deepcopy(wide)
    other["organization"] = {"url": "https://dev.azure.com/other/", "name": "other"}
    merged = merge_snapshots([("a.json", wide), ("b.json", other)])
    assert _problems(multi_schema(), merged) == ([], [])


@pytest.mark.parametrize(
    ("resource", "path", "value"),
    [
        ("variable_groups", ("variables",), {"password": {"value": "x", "isSecret": True}}),
        ("variable_groups", ("providerData",), {"vault": "kv"}),
        ("service_endpoints", ("data",), {"accessToken": "x"}),
        ("service_endpoints", ("authorization",), {"scheme": "Token", "parameters": {}}),
        ("release_definitions", ("environments",), [{"variables": {"a": {"value": "x"}}}]),
        ("repository_activity", ("lastCommit",), {"commitId": "abc", "comment": "msg"}),
        ("queues", ("_links",), {}),
    ],
)
def test_a_stored_secret_or_link_is_invalid(
    wide: dict[str, Any], resource: str, path: tuple[str, ...], value: Any
) -> None:
    doc = copy.deepcopy(wide)
    doc[resource][0][path[0]] = value
    ours, theirs = _problems(snapshot_schema(), doc)
    assert ours
    assert theirs
    assert any(p.startswith(f"$.{resource}[0]") for p in ours), ours
