"""Emulator mutations: two seeded organizations that differ by exactly the changes asked for."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from conftest import EmulatorFactory, project_path

from crawler.emulator import EmulatorConfig, ground_truth
from crawler.emulator.mutations import build_plan, check_mutations, parse_mutation

BASE = "http://127.0.0.1:1/fabrikam"
SIZE = {"projects": 4, "repos_per_project": 5, "pipelines_per_project": 6, "seed": 11}


def _truth(*mutations: str) -> dict[str, Any]:
    return ground_truth(EmulatorConfig(**SIZE, mutations=mutations), BASE)  # type: ignore[arg-type]


def _by_id(items: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {item["id"]: item for item in items}


def _changed(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[Any, set[str]]:
    a, b = _by_id(old), _by_id(new)
    return {
        key: {f for f in a[key].keys() | b[key].keys() if a[key].get(f) != b[key].get(f)}
        for key in a.keys() & b.keys()
        if a[key] != b[key]
    }


def _repo(truth: dict[str, Any], p: int, name: str) -> dict[str, Any]:
    pid = truth["projects"][p]["id"]
    return next(r for r in truth["repositories"] if r["project"]["id"] == pid and r["name"] == name)


def test_no_mutation_is_the_plain_seeded_org() -> None:
    assert _truth() == ground_truth(EmulatorConfig(**SIZE), BASE)  # type: ignore[arg-type]
    assert build_plan(()) == build_plan([])


def test_rename_repo_changes_its_name_and_urls_only() -> None:
    old = _truth()
    new = _truth("rename-repo:1:2:renamed-api")
    changed = _changed(old["repositories"], new["repositories"])
    assert len(changed) == 1
    (rid, fields) = next(iter(changed.items()))
    assert fields == {"name", "remoteUrl", "webUrl", "sshUrl"}
    assert _by_id(new["repositories"])[rid]["name"] == "renamed-api"
    assert old["pipelines"] == new["pipelines"]
    assert old["projects"] == new["projects"]


def test_remove_and_disable_repo() -> None:
    old, new = _truth(), _truth("remove-repo:0:1", "disable-repo:2:3")
    gone = _by_id(old["repositories"]).keys() - _by_id(new["repositories"]).keys()
    assert len(gone) == 1
    assert len(new["repositories"]) == len(old["repositories"]) - 1
    changed = _changed(old["repositories"], new["repositories"])
    assert list(changed.values()) in ([{"isDisabled"}], [])  # [] only if it was disabled already
    assert all(r["isDisabled"] for r in new["repositories"] if r["id"] in changed)
    assert old["pipelines"] == new["pipelines"]  # definitions keep their repository reference


def test_add_pause_and_remove_pipelines() -> None:
    old = _truth()
    new = _truth("add-pipelines:1:3", "add-pipelines:3:1", "disable-pipeline:0:2")
    added = sorted(_by_id(new["pipelines"]).keys() - _by_id(old["pipelines"]).keys())
    assert added == [25, 26, 27, 28]  # after every generated id (4 x 6)
    pid = {p["id"]: i for i, p in enumerate(new["projects"])}
    assert [pid[p["project"]["id"]] for p in new["pipelines"] if p["id"] in added] == [1, 1, 1, 3]
    assert _by_id(new["pipelines"])[3]["queueStatus"] == "disabled"
    assert set(_changed(old["pipelines"], new["pipelines"])) <= {3}
    fewer = _truth("remove-pipeline:2:0")
    assert _by_id(old["pipelines"]).keys() - _by_id(fewer["pipelines"]).keys() == {13}
    paused = _truth("add-pipelines:0:1", "pause-pipeline:0:6")
    assert _by_id(paused["pipelines"])[25]["queueStatus"] == "paused"


def test_rename_project_keeps_ids_and_repository_names() -> None:
    old, new = _truth(), _truth("rename-project:2:Renamed Team")
    assert [p["id"] for p in old["projects"]] == [p["id"] for p in new["projects"]]
    assert _changed(old["projects"], new["projects"]) == {old["projects"][2]["id"]: {"name"}}
    default_repo = _repo(new, 2, old["projects"][2]["name"])  # ADO does not rename it
    assert default_repo["project"]["name"] == "Renamed Team"
    assert "Renamed%20Team" in default_repo["webUrl"]
    for item in new["repositories"] + new["pipelines"]:
        if item["project"]["id"] == old["projects"][2]["id"]:
            assert item["project"]["name"] == "Renamed Team"
    default = _truth("rename-project:0")
    assert default["projects"][0]["name"] == old["projects"][0]["name"] + " renamed"


async def test_served_org_follows_the_mutations(emulator: EmulatorFactory) -> None:
    truth = _truth()
    old_name = truth["projects"][1]["name"]
    removed = _repo(truth, 1, old_name)  # repository 0 carries the project's original name
    before = [r for r in truth["repositories"] if r["project"]["name"] == old_name]
    mutations = ("rename-project:1:Moved", "remove-repo:1:0", "rename-repo:1:1:fresh")
    async with emulator(**SIZE, mutations=mutations) as (_, client):
        assert (await client.get(project_path(old_name) + "/_apis/git/repositories")).status == 404
        items, _ = await client.list_all("/Moved/_apis/git/repositories", {"includeHidden": "true"})
        assert "fresh" in {r["name"] for r in items}
        assert len(items) == len(before) - 1
        assert removed["id"] not in {r["id"] for r in items}
        gone = await client.get(f"/Moved/_apis/git/repositories/{removed['id']}")
        assert gone.status == 404


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus:1", "unknown mutation"),
        ("rename-repo:1", "expected rename-repo:P:R[:NAME]"),
        ("remove-repo:1:2:3", "expected remove-repo:P:R"),
        ("pause-pipeline:x:1", "must be a number"),
        ("add-pipelines:0:0", "N must be 1.."),
        ("rename-project:0:a/b", "NAME must be"),
    ],
)
def test_malformed_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"expected|unknown|must"):
        parse_mutation(spec)
    problems = check_mutations([spec], projects=4, repos_per_project=5, pipelines_per_project=6)
    assert len(problems) == 1
    assert message in problems[0]


def test_indices_are_checked_against_the_org_size() -> None:
    size = {"projects": 4, "repos_per_project": 5, "pipelines_per_project": 6}
    assert check_mutations(["rename-repo:3:4", "pause-pipeline:0:5"], **size) == []
    assert check_mutations(["add-pipelines:0:2", "pause-pipeline:0:7"], **size) == []
    problems = check_mutations(["rename-repo:4:0", "remove-repo:0:5", "pause-pipeline:0:6"], **size)
    assert [p.split(":")[0] for p in problems] == [
        "'rename-repo",
        "'remove-repo",
        "'pause-pipeline",
    ]
    assert "project index 4 is not below 4" in problems[0]


def test_cli_refuses_a_malformed_mutation_with_exit_2() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler",
            "emulator",
            "--mutation",
            "rename-repo:0:1",
            "--mutation",
            "remove-repo:0:zero",
            "--dump-only",
            "--dump-ground-truth",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "--mutation 'remove-repo:0:zero': R (repository index) must be a number" in proc.stderr
    assert proc.stdout == ""
