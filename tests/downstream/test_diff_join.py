"""The streaming diff (a merge-join of two files) equals a whole-document comparison."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import orjson
from downstream_data import P_A, P_B, P_C, reference, repository
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.downstream.diff import diff_fields, diff_files, diff_snapshots
from crawler.downstream.merge import resource_keys
from crawler.snapshot.layout import write_layout
from crawler.snapshot.reader import open_snapshot

PROJECTS = {P_A: "Team A", P_B: "Team B", P_C: "Other"}


def _complete() -> dict[str, Any]:
    doc = reference()
    doc["errors"], doc["complete"] = [], True
    return doc


def _oracle(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[Any, ...]]:
    """Changes by (resource, id) with both documents loaded, as diff always did."""
    found = set()
    for resource in set(resource_keys(old)) | set(resource_keys(new)):
        a = {json.dumps(i.get("id")): i for i in old.get(resource, [])}
        b = {json.dumps(i.get("id")): i for i in new.get(resource, [])}
        for key in a.keys() | b.keys():
            if key not in b:
                found.add(("removed", resource, key, ()))
            elif key not in a:
                found.add(("added", resource, key, ()))
            elif fields := diff_fields(a[key], b[key]):
                kind = "renamed" if a[key].get("name") != b[key].get("name") else "changed"
                found.add((kind, resource, key, tuple(f.field for f in fields)))
    return found


def _write(path: Path, doc: dict[str, Any], shuffled: random.Random | None) -> Path:
    if shuffled is not None:  # another tool's file: any order, one line
        doc = copy.deepcopy(doc)
        for key in resource_keys(doc):
            shuffled.shuffle(doc[key])
        path.write_bytes(orjson.dumps(doc))
        return path
    arrays = {}
    for key in resource_keys(doc):
        items = sorted(
            doc[key], key=lambda i: (str((i.get("project") or {}).get("id", "")), i["id"])
        )
        arrays[key] = lambda items=items: items
    return write_layout(path, doc, arrays)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), shuffle=st.booleans())
def test_streamed_diff_equals_a_loaded_comparison(tmp_path: Path, seed: int, shuffle: bool) -> None:
    rng = random.Random(seed)
    old, new = _complete(), _complete()
    repos = new["repositories"]
    for repo in rng.sample(repos, rng.randint(0, len(repos))):
        action = rng.choice(["remove", "rename", "move", "field"])
        if action == "remove":
            repos.remove(repo)
        elif action == "rename":
            repo["name"] += "-2"
        elif action == "move":  # another project: the same id, a changed project
            target = rng.choice(sorted(PROJECTS))
            repo["project"] = {"id": target, "name": PROJECTS[target]}
        else:
            repo["size"] = rng.randint(0, 5)
    for n in range(rng.randint(0, 3)):
        repos.append(repository(50 + n, rng.choice([P_A, P_B]), "Team A", f"new-{n}"))
    if rng.random() < 0.3:
        new["pipelines"] = []
    a = _write(tmp_path / "a.json", old, random.Random(seed) if shuffle else None)
    b = _write(tmp_path / "b.json", new, random.Random(seed + 1) if shuffle else None)
    streamed = diff_files(open_snapshot(a), open_snapshot(b))
    got = {
        (c.kind, c.resource, json.dumps(c.id), tuple(f.field for f in c.fields))
        for c in streamed.items
    }
    assert got == _oracle(old, new)
    assert streamed == diff_snapshots(old, new)
    ids = [(c.resource, c.id) for c in streamed.items]
    assert ids == sorted(ids, key=lambda k: (k[0], str(k[1])))


def test_integer_ids_are_per_project_and_guids_move(tmp_path: Path) -> None:
    old = _complete()
    old["release_definitions"] = [
        {"id": 1, "name": f"deploy {p}", "project": {"id": p, "name": PROJECTS[p]}}
        for p in (P_A, P_B)
    ]
    new = copy.deepcopy(old)
    new["release_definitions"][1]["name"] = "deploy B v2"
    moved = new["repositories"][0]
    moved["project"] = {"id": P_C, "name": "Other"}
    a, b = _write(tmp_path / "a.json", old, None), _write(tmp_path / "b.json", new, None)
    diff = diff_files(open_snapshot(a), open_snapshot(b))
    assert [(c.kind, c.resource, c.id, c.project) for c in diff.items] == [
        ("renamed", "release_definitions", 1, "Team B"),
        ("changed", "repositories", moved["id"], "Other"),
    ]
    assert [f.field for f in diff.items[1].fields][:2] == ["project.id", "project.name"]
    assert diff == diff_snapshots(old, new)


def test_a_projects_listing_cut_short_leaves_the_missing_projects_unknown() -> None:
    old, new = _complete(), _complete()
    gone = P_C
    new["projects"] = [p for p in new["projects"] if p["id"] != gone]
    for key in ("repositories", "pipelines"):
        new[key] = [i for i in new[key] if i["project"]["id"] != gone]
    new["repositories"] = [r for r in new["repositories"] if r["name"] != "api"]  # really gone
    cut = {"resource": "projects", "project": None, "item": None, "status": 500, "code": None}
    new["errors"], new["complete"] = [{**cut, "message": "page 2 failed"}], False
    diff = diff_snapshots(old, new)
    assert [(c.kind, c.resource, c.name) for c in diff.items] == [
        ("removed", "repositories", "api")
    ]
    (scope,) = diff.not_compared
    assert (scope.resource, scope.project, scope.old, scope.new) == (
        "projects",
        None,
        None,
        {"status": 500, "code": None, "message": "page 2 failed"},
    )
