"""Acceptance: diff, merge and report on real crawls of seeded emulated organizations.

Two organizations that differ by known emulator mutations must diff to exactly those changes;
three organizations merge into one valid file; a scoped job token's summary says what it could
not see and which setting to change. Golden reports live in tests/downstream/golden/emulated/;
regenerate them with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/downstream`` and review the diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import downstream_data
import jsonschema
import orjson
from downstream_data import Result

from crawler.downstream.diff import diff_snapshots
from crawler.downstream.diff_render import diff_to_json
from crawler.downstream.markdown_cell import md_cell
from crawler.downstream.report.csv import render_csv
from crawler.downstream.report.markdown import render_markdown
from crawler.downstream.report.model import build_inventory
from crawler.emulator import EmulatorConfig, ground_truth, run_emulator
from crawler.emulator.model import Org
from crawler.protocol.errors import EXIT_OK, EXIT_PARTIAL
from crawler.snapshot.schema import multi_schema
from crawler.snapshot.validate import Validator
from tests.crawl_helpers import crawl

CORE = "projects,repositories,pipelines"
SIZE: dict[str, Any] = {"projects": 4, "repos_per_project": 4, "pipelines_per_project": 5}
URL_FIELDS = {"remoteUrl", "sshUrl", "webUrl"}


async def crawl_org(
    config: EmulatorConfig, tmp_path: Path, name: str, *, port: int = 0
) -> tuple[dict[str, Any], Path, int, int]:
    """Crawl ``config`` served on ``port``: (snapshot, its path, exit code, the port used)."""
    out = tmp_path / name
    out.mkdir()
    async with run_emulator(config, port=port) as emu:
        result, snapshot = await crawl(emu, out, resources=CORE)
        return snapshot, result.output, result.exit_code, emu.port


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``ado-inventory ARGS`` in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_golden(name: str, actual: str) -> None:
    """Compare with golden/emulated/NAME (UPDATE_GOLDEN=1 rewrites it)."""
    downstream_data.check_golden(f"emulated/{name}", actual)


# ---------------------------------------------------------------- diff: known changes


def _targets(config: EmulatorConfig) -> dict[str, Any]:
    """Items of the seeded org to mutate, chosen so each mutation is a real change."""
    org = Org(config)
    base = "http://127.0.0.1/x"
    disable = next(r for r in (org.repository_by_index(2, i) for i in (1, 2)) if not r.is_disabled)
    pause = next(i for i in range(5) if org.definition(0, i, base)["queueStatus"] == "enabled")
    return {
        "renamed": org.repository_by_index(1, 2),
        "removed": org.repository_by_index(0, 1),
        "disabled": disable,
        "paused": pause,
        "paused_id": org.definition_id(0, pause),
        "mutations": (
            "rename-repo:1:2:renamed-repo",
            "remove-repo:0:1",
            f"disable-repo:2:{disable.index}",
            "add-pipelines:1:2",
            f"pause-pipeline:0:{pause}",
        ),
    }


async def test_diff_reports_exactly_the_mutations(tmp_path: Path) -> None:
    base = EmulatorConfig(org="fabrikam", seed=21, **SIZE)
    t = _targets(base)
    old, old_path, old_code, port = await crawl_org(base, tmp_path, "old")
    changed = replace(base, mutations=t["mutations"])
    new, new_path, new_code, _ = await crawl_org(changed, tmp_path, "new", port=port)
    assert old_code == EXIT_OK
    # The removed repository is still used by a pipeline: the crawl asks for it, gets 404,
    # and says so (it cannot tell deleted from hidden), so the new snapshot is partial.
    assert new_code == EXIT_PARTIAL

    diff = diff_snapshots(old, new)
    got = {(c.kind, c.resource, c.id): tuple(f.field for f in c.fields) for c in diff.items}
    added = 4 * 5  # new definitions get ids after every generated one
    # Deleted or hidden, the 404 cannot tell: unread is unknown, so not "removed".
    assert [(n.resource, n.item, n.old, n.new and n.new["status"]) for n in diff.not_compared] == [
        ("repositories", {"id": t["removed"].id, "name": t["removed"].name}, None, 404)
    ]
    assert got == {
        ("renamed", "repositories", t["renamed"].id): ("name", "remoteUrl", "sshUrl", "webUrl"),
        ("changed", "repositories", t["disabled"].id): ("isDisabled",),
        ("added", "pipelines", added + 1): (),
        ("added", "pipelines", added + 2): (),
        ("changed", "pipelines", t["paused_id"]): ("queueStatus",),
    }
    by_key = {(c.kind, c.id): c for c in diff.items}
    rename = by_key["renamed", t["renamed"].id]
    assert (rename.old_name, rename.name) == (t["renamed"].name, "renamed-repo")
    (disabled,) = by_key["changed", t["disabled"].id].fields
    assert (disabled.old, disabled.new) == (False, True)
    (paused,) = by_key["changed", t["paused_id"]].fields
    assert (paused.old, paused.new) == ("enabled", "paused")
    assert [(r.field, r.old, r.new) for r in diff.run] == [("complete", True, False)]
    assert [(e.kind, e.error["item"]["id"], e.error["status"]) for e in diff.errors] == [
        ("added", t["removed"].id, 404)
    ]

    proc = run_cli("diff", old_path, new_path, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == json.loads(json.dumps(diff_to_json(diff)))
    text = run_cli("diff", old_path, new_path)
    assert text.returncode == 1
    assert f'(renamed from "{t["renamed"].name}")' in text.stdout
    assert text.stdout.endswith(
        "2 added, 0 removed, 1 renamed, 2 changed; errors 1 new, 0 gone; "
        "1 scope(s) not compared (not read, so neither added nor removed)\n"
    )


async def test_a_project_rename_changes_the_project_and_the_references_to_it(
    tmp_path: Path,
) -> None:
    base = EmulatorConfig(org="fabrikam", seed=22, **SIZE)
    old, _, _, port = await crawl_org(base, tmp_path, "old")
    renamed = replace(base, mutations=("rename-project:2:Renamed Team",))
    new, _, code, _ = await crawl_org(renamed, tmp_path, "new", port=port)
    assert code == EXIT_OK
    target = Org(base).project(2)
    diff = diff_snapshots(old, new)
    (project,) = [c for c in diff.items if c.resource == "projects"]
    assert (project.kind, project.id, project.old_name, project.name) == (
        "renamed",
        target.id,
        target.name,
        "Renamed Team",
    )
    assert [f.field for f in project.fields] == ["name"]
    inside = {
        (resource, item["id"])
        for resource in ("repositories", "pipelines")
        for item in old[resource]
        if item["project"]["id"] == target.id
    }
    others = [c for c in diff.items if c.resource != "projects"]
    assert {(c.resource, c.id) for c in others} == inside
    allowed = {"project.name", "repository.url", "parentRepository.project.name", *URL_FIELDS}
    for change in others:
        assert change.kind == "changed"
        assert {f.field for f in change.fields} <= allowed
        assert ("project.name", target.name, "Renamed Team") in [
            (f.field, f.old, f.new) for f in change.fields
        ]
    assert diff.run == ()
    assert diff.errors == ()


async def test_the_same_org_crawled_twice_has_no_differences(tmp_path: Path) -> None:
    config = EmulatorConfig(org="fabrikam", seed=23, **SIZE)
    async with run_emulator(config) as emu:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first, a = await crawl(emu, tmp_path / "a", resources=CORE)
        second, b = await crawl(emu, tmp_path / "b", resources=CORE)
    assert diff_snapshots(a, b).same
    proc = run_cli("diff", first.output, second.output)
    assert (proc.returncode, proc.stdout) == (0, "no differences\n")


# ---------------------------------------------------------------- merge: three organizations


async def test_merge_of_three_emulated_organizations(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    names = [
        p["name"] for p in ground_truth(EmulatorConfig(seed=32, **SIZE), "http://x/o")["projects"]
    ]
    configs = [
        EmulatorConfig(org="contoso", seed=31, **SIZE),
        EmulatorConfig(org="fabrikam", seed=32, **SIZE, scoped_project=names[1]),
        EmulatorConfig(org="northwind", seed=33, **SIZE, reachable_repo_share=0.5),
    ]
    snapshots, paths, codes = {}, [], []
    for config in configs:
        snapshot, path, code, _ = await crawl_org(config, tmp_path, config.org)
        snapshots[config.org] = snapshot
        paths.append(path)
        codes.append(code)
    assert codes == [EXIT_OK, EXIT_PARTIAL, EXIT_PARTIAL]

    out = tmp_path / "all.json"
    result = cli("merge", "-o", out, *reversed(paths))
    assert result.code == EXIT_OK, result.err
    merged = orjson.loads(out.read_bytes())
    jsonschema.validate(merged, multi_schema())
    assert Validator(multi_schema()).problems(merged) == []
    assert cli("validate", out).code == EXIT_OK
    assert merged["complete"] is False
    assert [o["name"] for o in merged["organizations"]] == ["contoso", "fabrikam", "northwind"]
    for org in merged["organizations"]:
        snapshot = snapshots[org["name"]]
        assert org["url"] == snapshot["organization"]["url"]
        for key in ("complete", "errors", "auth", "resources", "started_at", "stats"):
            assert org[key] == snapshot[key], (org["name"], key)
        for resource in ("projects", "repositories", "pipelines"):
            mine = [i for i in merged[resource] if i["organization"] == org["name"]]
            assert len(mine) == len(snapshot[resource])
    assert merged["organizations"][1]["errors"]
    assert {e["project"]["name"] for e in merged["organizations"][1]["errors"]} == set(names) - {
        names[1]
    }


# ---------------------------------------------------------------- what the token could not see


def _access_section(markdown: str) -> str:
    return markdown[
        markdown.index("## What this token could not see") : markdown.index("## Findings")
    ]


async def test_summary_of_a_project_scoped_crawl_names_projects_and_the_setting(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(org="fabrikam", seed=41, **SIZE)
    names = [p["name"] for p in ground_truth(config, "http://x/fabrikam")["projects"]]
    scoped = replace(config, scoped_project=names[2])
    snapshot, path, code, _ = await crawl_org(scoped, tmp_path, "scoped")
    assert code == EXIT_PARTIAL
    markdown = render_markdown(build_inventory(snapshot))
    section = _access_section(markdown)
    assert f"### Projects this token could not read ({len(names) - 1})" in section
    for name in names:
        assert (f"- **{md_cell(name)}**:" in section) is (name != names[2]), name
    assert '"Limit job authorization scope to current project for non-release pipelines"' in section
    assert "Organization settings > Pipelines > Settings" in section
    assert "**Partial inventory**" in markdown
    proc = run_cli("report", path, "--format", "markdown")
    assert (proc.returncode, proc.stdout) == (0, markdown)


async def test_summary_of_protected_repositories_names_them_and_the_setting(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(org="fabrikam", seed=42, **SIZE, reachable_repo_share=0.5)
    snapshot, _, code, _ = await crawl_org(config, tmp_path, "protected")
    assert code == EXIT_PARTIAL
    section = _access_section(render_markdown(build_inventory(snapshot)))
    hidden = [e["item"]["name"] for e in snapshot["errors"] if e.get("item")]
    assert hidden
    assert f"### Repositories this token could not read ({len(hidden)})" in section
    for name in hidden:
        assert f" / {md_cell(name)}: 404 TF401019" in section
    assert '"Protect access to repositories in YAML pipelines" is on' in section


# ---------------------------------------------------------------- golden reports


def normalised(snapshot: dict[str, Any], port: int) -> dict[str, Any]:
    """The snapshot with the emulator's port and the run's clock replaced by fixed values."""
    text = orjson.dumps(snapshot).decode().replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
    doc: dict[str, Any] = orjson.loads(text)
    doc["started_at"] = "2026-01-01T03:00:00.000Z"
    doc["finished_at"] = "2026-01-01T03:00:05.000Z"
    doc["stats"] = {"requests": 0, "pages": 0, "retries": 0, "throttled": 0, "elapsed_s": 0.0}
    return doc


async def test_reports_of_a_seeded_emulated_org_match_their_goldens(tmp_path: Path) -> None:
    config = EmulatorConfig(
        org="contoso-golden",
        seed=7,
        projects=3,
        repos_per_project=4,
        pipelines_per_project=4,
        mutations=("remove-repo:1:2", "disable-repo:2:1", "pause-pipeline:0:1"),
    )
    snapshot, _, code, port = await crawl_org(config, tmp_path, "golden")
    assert code == EXIT_PARTIAL  # the removed repository is still used by a pipeline
    doc = normalised(snapshot, port)
    assert str(port) not in orjson.dumps({k: doc[k] for k in ("projects", "repositories")}).decode()
    inv = build_inventory(doc)
    markdown = render_markdown(inv)
    assert "2026-01-01T03:00:05.000Z" in markdown
    check_golden("report.md", markdown)
    files = render_csv(inv)
    assert sorted(files) == [
        "errors.csv",
        "findings.csv",
        "pipelines.csv",
        "projects.csv",
        "repositories.csv",
    ]
    for name, content in files.items():
        check_golden(f"csv/{name}", content)
