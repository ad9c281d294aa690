"""Planted secrets in variable groups, service endpoints, release variables, secure file download
tickets and check inputs never reach the snapshot, the crawl's output (with --verbose), any
report format or any audit format."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from crawler.downstream.audit.engine import run_audit
from crawler.downstream.audit.render import render_json, render_markdown, render_text
from crawler.downstream.audit.sarif import render_sarif
from crawler.downstream.report.model import build_inventory
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.posture import secure_files
from crawler.emulator.posture_checks import checks_on, protected_resources
from crawler.emulator.server import run_emulator
from crawler.emulator.wider_truth import wider_truth
from crawler.protocol.resources import REGISTRY
from crawler.snapshot.encode import encode_item, normalize_item
from tests.test_cli_crawl import run_cli
from tests.wider_helpers import crawl_with_options

MARK = "s3cr3t-PLANTED"
CONFIG = EmulatorConfig(
    seed=23, projects=3, repos_per_project=3, variable_groups_per_project=4, planted_secret=MARK
)


def _served_with_marker(truth: dict[str, list[dict[str, object]]]) -> set[str]:
    return {key for key, items in truth.items() if MARK in orjson.dumps(items).decode()}


def _served_posture(base: str) -> dict[str, str]:
    """What the emulator serves for secure files and checks (before the crawl drops anything)."""
    org = Org(CONFIG)
    files = [secure_files(org, p, base) for p in org.projects()]
    checks = [
        checks_on(org, p, kind, rid, base)
        for p in org.projects()
        for kind, rid, _ in protected_resources(org, p, base)
    ]
    return {"secure_files": orjson.dumps(files).decode(), "checks": orjson.dumps(checks).decode()}


async def test_planted_secrets_reach_no_snapshot_log_or_report(tmp_path: Path) -> None:
    async with run_emulator(CONFIG) as emu:
        served = _served_with_marker(wider_truth(CONFIG, emu.url, release_expand=True))
        # The emulator really serves them: in secret and non-secret variable values, in
        # authorization.parameters, in data, in Key Vault details and release variables.
        assert served == {"variable_groups", "service_endpoints", "release_definitions"}
        # Download tickets of secure files and a gate's function key in a check's inputs.
        assert all(MARK in raw for raw in _served_posture(emu.url).values())
        crawled = await run_cli(
            "crawl", "--org", emu.url, "-o", "out.json", "--resources", "all", "--verbose",
            "--rate", "1000", "--progress", "plain",
            env={"SYSTEM_ACCESSTOKEN": emu.config.token}, cwd=tmp_path,
        )  # fmt: skip
        # With the crawl options too (environments and their variables), in process.
        logs = io.StringIO()
        (tmp_path / "expanded").mkdir()
        expanded, _ = await crawl_with_options(
            emu,
            tmp_path / "expanded",
            options=frozenset({"latest_builds", "release_expand"}),
            log_stream=logs,
            resources="all",
        )
    assert crawled.code == 0, crawled.err
    snapshot = (tmp_path / "out.json").read_bytes()
    doc = orjson.loads(snapshot)
    assert doc["variable_groups"]
    assert doc["service_endpoints"]
    assert doc["secure_files"]
    assert any(c["settings"].get("definitionRef") for c in doc["checks"])
    assert any(v.get("isSecret") for g in doc["variable_groups"] for v in g["variables"].values())
    assert all(e["authorization"].keys() == {"scheme"} for e in doc["service_endpoints"])
    assert any(r.get("environments") for r in expanded["release_definitions"])
    outputs = {
        "snapshot": snapshot.decode(),
        "expanded snapshot": orjson.dumps(expanded).decode(),
        "stdout": crawled.out,
        "stderr": crawled.err,
        "log": logs.getvalue(),
    }
    assert "release management host" in logs.getvalue()  # the log really ran at DEBUG
    for fmt in ("markdown", "html"):
        res = await run_cli(
            "report", "out.json", "--format", fmt, "-o", f"report.{fmt}", env={}, cwd=tmp_path
        )
        assert res.code == 0, res.err
        outputs[fmt] = (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")
        outputs[f"{fmt} output"] = res.out + res.err
    res = await run_cli("report", "out.json", "--format", "csv", "-o", "csv", env={}, cwd=tmp_path)
    assert res.code == 0, res.err
    for path in (tmp_path / "csv").iterdir():
        outputs[path.name] = path.read_text(encoding="utf-8-sig")
    audit = run_audit(build_inventory(doc))
    for fmt, render in (("text", render_text), ("markdown", render_markdown),
                        ("json", render_json), ("sarif", render_sarif)):  # fmt: skip
        outputs[f"audit {fmt}"] = render(audit)
    for where, content in outputs.items():
        assert MARK not in content, f"a planted secret leaked into the {where}"
        assert emu.config.token not in content, where
    assert len(outputs) >= 14


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_fast_encoding_equals_full_normalisation(key: str) -> None:
    """The snapshot writer's fast path must honour every entry's allow-list and drops."""
    item = {
        "id": 7,
        "name": "x",
        "project": {"id": "p", "name": "P"},
        "_links": {"self": {"href": "u"}},
        "data": {"password": MARK},
        "providerData": {"vault": MARK},
        "somethingAdoAddsLater": MARK,
        "authorization": {"scheme": "Token", "parameters": {"apitoken": MARK}},
        "variables": {"a": {"value": MARK}, "b": {"value": MARK, "isSecret": True}},
        "variableGroupProjectReferences": [{"name": "g", "variables": {"c": {"value": MARK}}}],
        "environments": [{"id": 1, "variables": {"d": {"value": MARK, "isSecret": False}}}],
    }
    _, data = encode_item(key, item)
    assert data == orjson.dumps(normalize_item(key, item), option=orjson.OPT_SORT_KEYS)
    stored = data.decode()
    doc = orjson.loads(data)
    if key in ("variable_groups", "release_definitions", "pipelines"):
        # Variables keep their names and flags only, a non-secret one too.
        assert doc["variables"] == {"a": {}, "b": {"isSecret": True}}
    if key == "release_definitions":
        assert doc["environments"] == [{"id": 1, "variables": {"d": {"isSecret": False}}}]
    if key in ("variable_groups", "service_endpoints"):
        leaked = [f for f in ("data", "providerData", "parameters") if f'"{f}"' in stored]
        assert not leaked, leaked
    if REGISTRY[key].keep is not None:
        assert MARK not in data.decode()
