"""What a person reads while and after a crawl runs: the progress line and the summary."""

from __future__ import annotations

import asyncio
import io

from crawler.crawl.plan import CrawlState
from crawler.http.stats import Stats
from crawler.progress import Progress, format_line, group_errors, summary


def errors() -> list[dict[str, object]]:
    project = {"id": "p1", "name": "Team A"}
    return [
        {"resource": "repositories", "project": project, "item": None, "status": 404,
         "code": "TF200016", "message": "m"},
        {"resource": "repositories", "project": {"id": "p2", "name": "B"}, "item": None,
         "status": 404, "code": "TF200016", "message": "m"},
        {"resource": "repositories", "project": project, "item": {"id": "r", "name": "api"},
         "status": 404, "code": "TF401019", "message": "m"},
    ]  # fmt: skip


def test_progress_line_counts() -> None:
    stats = Stats(requests=1234, retries=2, throttled=1, items={"projects": 3, "pipelines": 40})
    state = CrawlState(projects_seen=7, projects_done=3)
    line = format_line(stats, state, 12.34)
    assert line == (
        "projects 3/7 · items 43 · requests 1,234 · retries 2 · throttled 1 · not visible 0 · 12.3s"
    )


def test_errors_are_grouped_by_what_and_why() -> None:
    assert group_errors(errors()) == [
        "repositories in 2 projects (404 TF200016)",
        "1 of the repositories (404 TF401019)",
    ]


def test_summary_of_a_partial_job_token_crawl_says_what_to_change() -> None:
    text = summary(
        org_name="fabrikam",
        counts={"pipelines": 4, "projects": 2, "repositories": 1},
        stats=Stats(requests=9),
        errors=errors(),
        elapsed=1.0,
        output="/x/inventory.json",
        auth_kind="job",
    )
    assert text.startswith("Crawled fabrikam: 2 projects, 1 repositories, 4 pipelines")
    assert "Limit job authorization scope to current project" in text
    assert "Protect access to repositories in YAML pipelines" in text
    assert "PARTIAL" in text
    assert "/x/inventory.json" in text


def test_summary_of_a_complete_crawl() -> None:
    text = summary(
        org_name="o", counts={"projects": 1}, stats=Stats(), errors=[], elapsed=0.5,
        output="/x/i.json",
    )  # fmt: skip
    assert text.endswith("The snapshot is complete: /x/i.json")


async def test_pipeline_mode_reports_progress_with_logging_commands() -> None:
    out, err = io.StringIO(), io.StringIO()
    state = CrawlState(projects_seen=4, projects_done=1)
    progress = Progress(Stats(), state, mode="pipeline", stream=err, out=out, interval=0.01)
    progress.start()
    await asyncio.sleep(0.05)
    await progress.stop()
    assert "##vso[task.setprogress value=25;]Crawling" in out.getvalue()
    assert "projects 1/4" in err.getvalue()


async def test_tty_mode_redraws_in_place_and_clears_at_the_end() -> None:
    err = io.StringIO()
    progress = Progress(Stats(), CrawlState(), mode="tty", stream=err, interval=0.01)
    progress.start()
    await asyncio.sleep(0.05)
    await progress.stop()
    assert "\n" not in err.getvalue()
    assert err.getvalue().endswith("\r\x1b[2K")
