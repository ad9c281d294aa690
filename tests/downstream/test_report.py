"""Reports: the audit findings, the Markdown summary, CSV tables and the HTML page.

Golden files live in tests/downstream/golden/; regenerate them with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/downstream`` and review the diff before committing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from downstream_data import (
    NAME_B,
    NAME_C,
    P_A,
    P_B,
    P_C,
    Result,
    changed,
    check_golden,
    error,
    make_snapshot,
    project,
    reference,
    repository,
)

from crawler.downstream.diff import diff_snapshots
from crawler.downstream.diff_render import render_json, render_markdown, render_text
from crawler.downstream.merge import merge_snapshots
from crawler.downstream.report.csv import render_csv
from crawler.downstream.report.findings import compute_findings
from crawler.downstream.report.html import render_html
from crawler.downstream.report.markdown import render_markdown as report_markdown
from crawler.downstream.report.model import build_inventory


def test_findings_of_the_reference_org() -> None:
    found = [(f.kind, f.project, f.item) for f in compute_findings(build_inventory(reference()))]
    assert found == [
        ("project_not_visible", "Team B", ""),
        ("repository_not_visible", "Team A", "secret"),
        ("pipeline_repository_missing", "Team A", "legacy"),
        ("pipeline_repository_not_visible", "Team A", "secret-build"),
        ("pipeline_repository_disabled", "Team A", "uses-old"),
        ("pipeline_disabled", "Team A", "legacy"),
        ("pipeline_paused", NAME_C, "tools & more"),
        ("repository_without_pipeline", "Team A", "api"),
        ("repository_disabled", "Team A", "old"),
        ("repository_hidden", NAME_C, "docs"),
        ("repository_empty", "Team A", "empty-repo"),
    ]


def test_no_pipeline_finding_when_pipelines_were_not_read() -> None:
    doc = make_snapshot(
        projects=[project(P_A, "A")],
        repositories=[repository(1, P_A, "A", "lonely")],
        errors=[error("pipelines", (P_A, "A"), 500, None, "boom")],
    )
    kinds = [f.kind for f in compute_findings(build_inventory(doc))]
    assert kinds == ["read_failed"]


def _project_scoped(auth: str) -> dict[str, Any]:
    """A job token limited to project A: the other projects answer 401 TF200016."""
    errors = [
        error(
            res,
            (pid, name),
            401,
            "TF200016",
            f"TF200016: The following project does not exist: {name}",
        )
        for pid, name in ((P_B, NAME_B), (P_C, NAME_C))
        for res in ("pipelines", "repositories")
    ]
    errors.append(
        error(
            "repositories",
            (P_A, "Team A"),
            404,
            "TF401019",
            "TF401019: no repo",
            item=("r", "shared"),
        )
    )
    return make_snapshot(
        auth=auth,
        projects=[project(P_A, "Team A"), project(P_B, NAME_B), project(P_C, NAME_C)],
        repositories=[repository(1, P_A, "Team A", "web")],
        errors=errors,
    )


def test_project_scoped_summary_names_projects_and_settings() -> None:
    md = report_markdown(build_inventory(_project_scoped("job")))
    section = md[md.index("## What this token could not see") : md.index("## Findings")]
    assert "- **Team B**: pipelines, repositories: 401 TF200016" in section
    assert '- **R\\&D \\<Core> "Équipe" \\| ü**: pipelines, repositories' in section
    assert "Limit job authorization scope to current project for non-release pipelines" in section
    assert "Project settings > Pipelines > Settings" in section
    assert "Organization settings > Pipelines > Settings" in section
    assert "Protect access to repositories in YAML pipelines" in section
    assert "shared" in section
    assert "Code (Read) and Build (Read)" in section
    assert "**Partial inventory**" in md


def test_pat_summary_gives_pat_advice() -> None:
    md = report_markdown(build_inventory(_project_scoped("pat")))
    assert "Code (Read) and Build (Read) scopes" in md
    assert "member of each project" in md
    assert "Limit job authorization scope" not in md


def test_markdown_golden_and_stable() -> None:
    md = report_markdown(build_inventory(reference()))
    assert md == report_markdown(build_inventory(reference()))
    check_golden("report.md", md)
    check_golden(
        "report-project-scoped.md", report_markdown(build_inventory(_project_scoped("job")))
    )


def test_markdown_of_a_multi_org_file() -> None:
    other = make_snapshot(org="contoso", projects=[project(P_A, "Team A")])
    md = report_markdown(build_inventory(merge_snapshots([("a", reference()), ("b", other)])))
    assert md.startswith("# Azure DevOps inventory: 2 organizations\n")
    assert "| Organization | Project | State |" in md
    assert "| contoso | Team A |" in md


def test_csv_files_golden_and_spreadsheet_safe() -> None:
    doc = reference()
    doc["repositories"][0]["name"] = '=HYPERLINK("x")'
    files = render_csv(build_inventory(doc))
    assert sorted(files) == [
        "errors.csv",
        "findings.csv",
        "pipelines.csv",
        "projects.csv",
        "repositories.csv",
    ]
    for content in files.values():
        assert content.startswith("\ufeff")
        assert "\r\n" in content
        assert "\n" not in content.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(files["repositories.csv"].removeprefix("\ufeff"))))
    assert len(rows) == len(doc["repositories"])
    assert rows[0]["repository"] == '\'=HYPERLINK("x")'
    projects = list(csv.DictReader(io.StringIO(files["projects.csv"].removeprefix("\ufeff"))))
    assert [p["project"] for p in projects] == [NAME_C, "Team A", "Team B"]
    for name, content in render_csv(build_inventory(reference())).items():
        check_golden(f"csv/{name}", content)


def test_diff_goldens() -> None:
    diff = diff_snapshots(reference(), changed())
    check_golden("diff.txt", render_text(diff))
    check_golden("diff.md", render_markdown(diff))
    check_golden("diff.json", render_json(diff))


def test_html_is_self_contained_escaped_and_stable() -> None:
    page = render_html(build_inventory(reference()))
    assert page == render_html(build_inventory(reference()))
    assert not re.search(r"""\b(src|href)\s*=""", page, re.IGNORECASE)
    assert "@import" not in page
    assert "url(" not in page
    assert "<Core>" not in page
    assert "R&amp;D &lt;Core&gt; &quot;Équipe&quot; | ü" in page
    body = page[page.index('id="repositories"') :]
    body = body[: body.index("</table>")]
    assert body.count("<tr>") == 1 + len(reference()["repositories"])


def test_cli_report_formats(
    write_doc: Callable[[str, Any], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    snap = write_doc("inv.json", reference())
    md = cli("report", snap)
    assert md.code == 0
    assert md.out == report_markdown(build_inventory(reference()))
    out = tmp_path / "report.html"
    assert cli("report", snap, "--format", "html", "-o", out).code == 0
    assert out.read_text(encoding="utf-8") == render_html(build_inventory(reference()))
    missing_dir = cli("report", snap, "--format", "csv")
    assert missing_dir.code == 2
    assert "-o DIRECTORY" in missing_dir.err
    csv_dir = tmp_path / "csv"
    assert cli("report", snap, "--format", "csv", "-o", csv_dir).code == 0
    assert sorted(p.name for p in csv_dir.iterdir()) == [
        "errors.csv",
        "findings.csv",
        "pipelines.csv",
        "projects.csv",
        "repositories.csv",
    ]


@pytest.mark.parametrize("content", [b"[]", b"not json", b'{"schema_version": 3}'])
def test_cli_report_refuses_unreadable_input(
    tmp_path: Path, cli: Callable[..., Result], content: bytes
) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    result = cli("report", path)
    assert result.code == 2
    assert str(path) in result.err
