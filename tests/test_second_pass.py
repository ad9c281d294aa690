"""The second pass: what failed for transient reasons is asked for once more before sealing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from crawler.crawl.plan import CrawlPlan
from crawler.crawl.second_pass import second_pass_jobs
from crawler.emulator.config import EmulatorConfig, FaultConfig
from crawler.emulator.server import run_emulator
from tests.crawl_helpers import assert_matches_ground_truth, crawl

PROJECT = {"id": "p1", "name": "Web"}


def _entry(resource: str, code: str, project: Any = PROJECT, item: Any = None) -> dict[str, Any]:
    return {"resource": resource, "project": project, "item": item, "code": code, "status": 500}


def test_only_transient_failures_of_project_scopes_are_asked_again() -> None:
    plan = CrawlPlan(base_url="http://127.0.0.1:1/o/")
    errors = [
        _entry("pipelines", "retries_exhausted"),
        _entry("repositories", "outage"),
        _entry("repositories", "outage", item={"id": "r1", "name": "api"}),  # a probe
        _entry("pipelines", "TF200016"),  # not visible: asking again changes nothing
        _entry("pipelines", "deadline"),  # no time left
        _entry("projects", "outage", project=None),  # would crawl every project twice
        _entry("variable_groups", "outage"),  # not requested in this plan
    ]
    assert second_pass_jobs(errors, plan) == errors[:3]


async def test_scopes_that_ran_out_of_retries_are_recovered_before_sealing(
    tmp_path: Path,
) -> None:
    # Every URL fails at most twice in a row; with one retry, some listings give up in the
    # first pass, and the second pass (a third ask) always gets them.
    faults = FaultConfig(rate=0.5, kinds=("500",), seed=1, max_consecutive=2)
    config = EmulatorConfig(
        seed=8, projects=8, repos_per_project=2, pipelines_per_project=10, page_size=50
    )
    config = replace(config, faults=faults)
    async with run_emulator(config) as emu:
        result, snapshot = await crawl(emu, tmp_path, max_retries=1)
        truth = emu.ground_truth()
    stats = snapshot["stats"]
    assert stats["second_pass_retried"] > 0, "the scenario must exhaust some retries"
    assert stats["second_pass_recovered"] == stats["second_pass_retried"]
    assert result.exit_code == 0, snapshot["errors"]
    assert snapshot["errors"] == []
    assert_matches_ground_truth(snapshot, truth)
