"""Unread is unknown: diff never calls an item added or removed when a snapshot could not read it.

Crawls of one emulated organization, complete and project-scoped (a job token limited to one
project), compared both ways through the CLI (files read item by item) and in memory.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from test_acceptance_emulated import SIZE, crawl_org, run_cli

from crawler.downstream.diff import diff_files, diff_snapshots
from crawler.downstream.diff_render import diff_to_json
from crawler.emulator import EmulatorConfig, ground_truth
from crawler.protocol.errors import EXIT_OK, EXIT_PARTIAL
from crawler.snapshot.reader import open_snapshot


def _scopes(data: dict[str, Any], side: str) -> set[tuple[str, str]]:
    return {
        (n["resource"], n["project"]["name"])
        for n in data.get("not_compared", [])
        if n[side] is not None and n["project"] is not None
    }


async def test_a_project_scoped_crawl_has_nothing_added_or_removed(tmp_path: Path) -> None:
    config = EmulatorConfig(org="fabrikam", seed=51, **SIZE)
    names = [p["name"] for p in ground_truth(config, "http://x/fabrikam")["projects"]]
    full, full_path, full_code, port = await crawl_org(config, tmp_path, "full")
    scoped_config = replace(config, scoped_project=names[1])
    scoped, scoped_path, scoped_code, _ = await crawl_org(
        scoped_config, tmp_path, "scoped", port=port
    )
    assert (full_code, scoped_code) == (EXIT_OK, EXIT_PARTIAL)
    out_of_reach = set(names) - {names[1]}
    unread = {(r, name) for r in ("repositories", "pipelines") for name in out_of_reach}
    hidden = sum(
        1
        for r in ("repositories", "pipelines")
        for i in full[r]
        if i["project"]["name"] != names[1]
    )
    assert hidden > 0  # what a diff without the rule would call removed

    for old, new, side in ((full_path, scoped_path, "new"), (scoped_path, full_path, "old")):
        proc = run_cli("diff", old, new, "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        data = json.loads(proc.stdout)
        assert (data["summary"]["added"], data["summary"]["removed"]) == (0, 0)
        assert [i for i in data["items"] if i["change"] in ("added", "removed")] == []
        assert _scopes(data, side) == unread
        assert _scopes(data, "old" if side == "new" else "new") == set()
        assert data["summary"]["not_compared"] == len(unread)
        in_memory = diff_snapshots(orjson.loads(old.read_bytes()), orjson.loads(new.read_bytes()))
        assert data == json.loads(json.dumps(diff_to_json(in_memory)))
        text = run_cli("diff", old, new)
        for resource, name in unread:
            assert (
                f'? not compared: {resource} in project "{name}": not read in the {side}'
                in text.stdout
            )
        assert f"; {len(unread)} scope(s) not compared" in text.stdout
        markdown = run_cli("diff", old, new, "--format", "markdown").stdout
        assert "## Not compared" in markdown
        assert f"{len(unread)} scope(s) not compared" in markdown.splitlines()[2]

    # The complete side, compared with itself, still says nothing is unread.
    same = diff_files(open_snapshot(full_path), open_snapshot(full_path))
    assert same.same
    assert same.not_compared == ()
    assert run_cli("diff", full_path, full_path).stdout == "no differences\n"
    assert scoped["errors"]
    assert run_cli("diff", scoped_path, scoped_path).returncode == EXIT_OK
