"""`make demo` works for a newcomer: one command, a valid snapshot, a summary saying where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from crawler.snapshot.schema import snapshot_schema
from crawler.snapshot.validate import Validator


@pytest.mark.parametrize(
    ("scenario", "code"), [("full", 0), ("protected-repos", 4), ("server-2019", 4)]
)
def test_demo_crawls_and_explains(tmp_path: Path, scenario: str, code: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "demo", "--scenario", scenario, "--projects", "4",
         "--latency-ms", "0", "-o", "inv.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == code, proc.stderr
    assert str(tmp_path / "inv.json") in proc.stdout
    snapshot = orjson.loads((tmp_path / "inv.json").read_bytes())
    assert Validator(snapshot_schema()).problems(snapshot) == []
    assert len(snapshot["projects"]) == 4
    if scenario == "protected-repos":
        assert "Protect access to repositories" in proc.stdout
    if scenario == "server-2019":
        assert snapshot["organization"]["api_version"] == "5.0"
        # Server 2019 (5.0) has no environments, general settings, pipeline permissions or
        # checks routes: each is one organization-wide not_supported entry, nothing else.
        assert sorted((e["resource"], e["code"]) for e in snapshot["errors"]) == [
            (key, "not_supported")
            for key in ("checks", "environments", "pipeline_permissions", "pipeline_settings")
        ]
        assert "environments (all projects) (not_supported)" in proc.stdout
