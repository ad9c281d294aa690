"""``diff`` reports exactly the known changes between two snapshots, with documented exit codes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from downstream_data import P_A, Result, changed, make_snapshot, project, reference, rid

from crawler.downstream.diff import diff_snapshots, flatten
from crawler.downstream.diff_changes import ABSENT
from crawler.downstream.diff_render import render_markdown, render_text
from crawler.downstream.merge import merge_snapshots

EXPECTED = {
    ("changed", "pipelines", 1): {
        ("process.yamlFilename", "azure-pipelines.yml", "ci/build.yml"),
        ("repository.name", "web", "website"),
    },
    ("changed", "pipelines", 4): {("queueStatus", "paused", "enabled")},
    ("renamed", "repositories", rid(1)): {
        ("name", "web", "website"),
        ("defaultBranch", "refs/heads/main", "refs/heads/trunk"),
    },
    ("removed", "repositories", rid(2)): set(),
    ("changed", "repositories", rid(3)): {
        ("defaultBranch", ABSENT, "refs/heads/main"),
        ("size", 0, 42),
    },
    ("added", "repositories", rid(8)): set(),
}


def test_diff_reports_exactly_the_known_changes() -> None:
    diff = diff_snapshots(reference(), changed())
    found = {
        (c.kind, c.resource, c.id): {(f.field, f.old, f.new) for f in c.fields} for c in diff.items
    }
    assert found == EXPECTED
    renamed = next(c for c in diff.items if c.kind == "renamed")
    assert (renamed.old_name, renamed.name) == ("web", "website")
    assert diff.summary == {
        "added": 1,
        "removed": 1,
        "renamed": 1,
        "changed": 3,
        "errors_added": 0,
        "errors_removed": 1,
        "not_compared": 3,
    }
    (gone,) = diff.errors
    assert (gone.kind, gone.error["resource"], gone.error["code"]) == (
        "removed",
        "pipelines",
        "TF200016",
    )
    assert diff.run == ()  # run timings, stats and generator are ignored


def test_identical_content_with_new_timings_is_same() -> None:
    later = copy.deepcopy(reference())
    later["started_at"] = "2030-01-01T00:00:00.000Z"
    later["stats"] = {"requests": 1}
    later["generator"]["version"] = "9.9.9"
    assert diff_snapshots(reference(), later).same
    text = render_text(diff_snapshots(reference(), later))
    assert text.endswith(
        "\nno differences in what both snapshots read; 3 scope(s) not compared "
        "(not read, so neither added nor removed)\n"
    )
    complete = copy.deepcopy(later)
    for doc in (complete, before := reference()):
        doc["errors"], doc["complete"] = [], True
    assert render_text(diff_snapshots(before, complete)) == "no differences\n"


def test_complete_and_errors_changes_are_reported() -> None:
    partial = reference()
    fixed = copy.deepcopy(partial)
    fixed["errors"], fixed["complete"] = [], True
    diff = diff_snapshots(partial, fixed)
    assert [(r.field, r.old, r.new) for r in diff.run] == [("complete", False, True)]
    assert sorted(e.kind for e in diff.errors) == ["removed"] * 3
    assert not diff.items


def test_flatten_uses_dotted_paths_and_keeps_lists_whole() -> None:
    assert flatten({"a": {"b": 1, "c": [1, {"d": 2}]}, "e": {}}) == {
        "a.b": 1,
        "a.c": [1, {"d": 2}],
        "e": {},
    }


def test_bool_and_int_are_different_values() -> None:
    old = make_snapshot(projects=[project(P_A, "A", revision=1)])
    new = make_snapshot(projects=[project(P_A, "A", revision=True)])
    (change,) = diff_snapshots(old, new).items
    assert [(f.field, f.old, f.new) for f in change.fields] == [("revision", 1, True)]


def test_multi_org_files_compare_by_organization() -> None:
    a = make_snapshot(org="alpha", projects=[project(P_A, "Same id")])
    b = make_snapshot(org="beta", projects=[project(P_A, "Same id")])
    b2 = copy.deepcopy(b)
    b2["projects"][0]["name"] = "Renamed in beta"
    old = merge_snapshots([("a", a), ("b", b)])
    new = merge_snapshots([("a", a), ("b", b2)])
    diff = diff_snapshots(old, new)
    assert [(c.organization, c.kind, c.id) for c in diff.items] == [("beta", "renamed", P_A)]
    gamma = make_snapshot(org="gamma")
    more = diff_snapshots(old, merge_snapshots([("a", a), ("b", b), ("c", gamma)]))
    assert (more.organizations_added, more.items) == (("gamma",), ())
    assert not more.same


def test_renderers_are_stable_and_escape_markdown() -> None:
    diff = diff_snapshots(reference(), changed())
    md = render_markdown(diff)
    assert md == render_markdown(diff_snapshots(reference(), changed()))
    assert "R\\&D \\<Core>" in md
    assert "| renamed | website (" in md
    text = render_text(diff)
    assert '~ repositories "00000001-1111-4111-8111-000000000001" "website"' in text
    assert 'defaultBranch: (absent) -> "refs/heads/main"' in text


def test_cli_exit_codes_and_json(
    write_doc: Callable[[str, Any], Path], cli: Callable[..., Result]
) -> None:
    old, new = write_doc("old.json", reference()), write_doc("new.json", changed())
    same = cli("diff", old, old)
    assert same.code == 0
    assert same.out.startswith('? not compared: pipelines in project "Team B": not read in either')

    result = cli("diff", "--format", "json", old, new)
    assert result.code == 1
    data = orjson.loads(result.out)
    assert data["same"] is False
    renamed = next(i for i in data["items"] if i["change"] == "renamed")
    assert renamed == {
        "change": "renamed",
        "resource": "repositories",
        "id": rid(1),
        "name": "website",
        "old_name": "web",
        "project": "Team A",
        "fields": [
            {"field": "defaultBranch", "old": "refs/heads/main", "new": "refs/heads/trunk"},
            {"field": "name", "old": "web", "new": "website"},
        ],
    }
    appeared = next(i for i in data["items"] if i["id"] == rid(3))
    assert appeared["fields"][0] == {"field": "defaultBranch", "new": "refs/heads/main"}

    future = write_doc("future.json", {**reference(), "schema_version": 2})
    trouble = cli("diff", old, future)
    assert trouble.code == 2
    assert "future.json: schema_version 2 is not supported" in trouble.err
    broken = write_doc("broken.json", {**reference(), "repositories": [{"id": 1}]})
    assert cli("diff", old, broken).code == 2
    assert cli("diff", "--format", "markdown", old, new).out.startswith("# Inventory diff")
