"""The seeded organization: deterministic, lazy, realistic enough to exercise a crawler."""

from __future__ import annotations

import orjson

from crawler.emulator import EmulatorConfig, ground_truth
from crawler.emulator.definitions import definition_reference
from crawler.emulator.model import Org

BASE = "http://127.0.0.1:8080/fabrikam"


def _bytes(config: EmulatorConfig) -> bytes:
    return orjson.dumps(ground_truth(config, BASE), option=orjson.OPT_SORT_KEYS)


def test_same_seed_same_bytes_other_seed_other_org() -> None:
    config = EmulatorConfig(projects=7, repos_per_project=3, pipelines_per_project=5)
    assert _bytes(config) == _bytes(config)
    other = EmulatorConfig(seed=2, projects=7, repos_per_project=3, pipelines_per_project=5)
    assert _bytes(config) != _bytes(other)


def test_items_are_pure_functions_of_their_position() -> None:
    small = Org(EmulatorConfig(projects=3, pipelines_per_project=4))
    large = Org(EmulatorConfig(projects=300, pipelines_per_project=4))
    assert small.project(2) == large.project(2)
    assert small.definition(1, 3, BASE) == large.definition(1, 3, BASE)
    assert small.repositories(2) == large.repositories(2)


def test_names_and_ids_are_unique() -> None:
    config = EmulatorConfig(projects=40, repos_per_project=6, pipelines_per_project=30)
    truth = ground_truth(config, BASE)
    names = [p["name"].casefold() for p in truth["projects"]]
    assert len(set(names)) == len(names)
    assert len({r["id"] for r in truth["repositories"]}) == len(truth["repositories"])
    ids = [d["id"] for d in truth["pipelines"]]
    assert len(set(ids)) == len(ids)
    for project in truth["projects"]:
        defs = [d["name"] for d in truth["pipelines"] if d["project"]["id"] == project["id"]]
        assert len(set(defs)) == len(defs) == 30
        repos = [r["name"] for r in truth["repositories"] if r["project"]["id"] == project["id"]]
        assert len(set(repos)) == len(repos) == 6


def test_definitions_look_like_ado() -> None:
    truth = ground_truth(EmulatorConfig(projects=4, pipelines_per_project=20), BASE)
    definitions = truth["pipelines"]
    repo_ids = {r["id"] for r in truth["repositories"]}
    assert {d["process"]["type"] for d in definitions} == {1, 2}
    assert {d["queueStatus"] for d in definitions} >= {"enabled", "disabled"}
    assert len({d["path"] for d in definitions}) > 2
    for d in definitions:
        assert "_links" not in d
        assert d["uri"] == f"vstfs:///Build/Definition/{d['id']}"
        assert d["repository"]["id"] in repo_ids
        assert d["repository"]["type"] == "TfsGit"
        secrets = [v for v in d["variables"].values() if v.get("isSecret")]
        assert secrets == [{"value": None, "isSecret": True}]
        assert 1500 < len(orjson.dumps(d)) < 12000
        assert "repository" not in definition_reference(d)
        if d["process"]["type"] == 2:
            assert d["process"]["yamlFilename"].endswith(".yml")
        else:
            assert d["process"]["phases"]


def test_repositories_cover_empty_disabled_fork_and_hidden() -> None:
    truth = ground_truth(EmulatorConfig(projects=20, repos_per_project=6), BASE)
    repos = truth["repositories"]
    assert any("defaultBranch" not in r and r["size"] == 0 for r in repos)
    assert any(r["isDisabled"] for r in repos)
    forks = [r for r in repos if r["isFork"]]
    assert forks
    assert all(f["parentRepository"]["project"]["id"] == f["project"]["id"] for f in forks)
    assert any(r["name"].endswith(".wiki") for r in repos)
    assert {p["visibility"] for p in truth["projects"]} == {"private", "public"}
