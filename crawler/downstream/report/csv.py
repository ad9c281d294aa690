"""The CSV report: one file per table, for spreadsheets and Power BI.

Files: ``projects.csv``, ``repositories.csv``, ``pipelines.csv``, ``findings.csv``,
``errors.csv``, and ``<resource>.csv`` for each wider resource the snapshot has, each with an
``organization`` column so that merged files load as one table.
Encoding: UTF-8 **with a BOM** and CRLF line ends (RFC 4180): Excel opens a BOM-less UTF-8 file
by double-click in the local ANSI code page (mangling non-ASCII names), while Power BI and
Python's ``utf-8-sig`` read the BOM transparently. Booleans are ``true``/``false``, missing values
are empty. Text cells that start with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'``
so that a spreadsheet never runs a name as a formula (numbers are left alone).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from crawler.downstream.report.findings import Finding, compute_findings
from crawler.downstream.report.model import (
    Inventory,
    is_empty_repository,
    pipeline_kind,
    pipeline_repository,
    project_of,
    project_rows,
    text,
)
from crawler.downstream.report.wider import present_tables, rows

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Row = Sequence[object]


def cell(value: object) -> str:
    """One CSV cell: text for JSON values, formula-looking text defused."""
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, int | float):
        return str(value)
    out = str(value)
    return "'" + out if out.startswith(FORMULA_START) else out


def render_table(header: Sequence[str], rows: Iterable[Row]) -> str:
    """A whole CSV file as text: BOM, header, rows, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + buffer.getvalue()


def _projects(inv: Inventory) -> tuple[list[str], list[Row]]:
    header = ["organization", "project_id", "project", "state", "visibility"]
    header += ["repositories", "pipelines", "errors"]
    rows: list[Row] = [
        [r.organization, r.id, r.name, r.state, r.visibility, r.repositories, r.pipelines, r.errors]
        for r in project_rows(inv)
    ]
    return header, rows


def _repositories(inv: Inventory) -> tuple[list[str], list[Row]]:
    header = ["organization", "project_id", "project", "repository_id", "repository"]
    header += ["default_branch", "size", "empty", "is_disabled", "is_fork", "is_in_maintenance"]
    header += ["pipelines", "web_url"]
    built: dict[tuple[str, str], int] = {}
    for p in inv.of("pipelines"):
        key = (text(p.get("organization")), text(pipeline_repository(p).get("id")))
        built[key] = built.get(key, 0) + 1
    rows: list[Row] = []
    for r in inv.of("repositories"):
        org, rid = text(r.get("organization")), text(r.get("id"))
        rows.append(
            [
                org,
                *project_of(r),
                rid,
                r.get("name"),
                r.get("defaultBranch"),
                r.get("size"),
                is_empty_repository(r),
                r.get("isDisabled"),
                r.get("isFork"),
                r.get("isInMaintenance"),
                built.get((org, rid), 0),
                r.get("webUrl"),
            ]
        )
    return header, rows


def _pipelines(inv: Inventory) -> tuple[list[str], Iterable[Row]]:
    header = ["organization", "project_id", "project", "pipeline_id", "pipeline", "path"]
    header += ["queue_status", "kind", "yaml_filename", "repository_type", "repository_id"]
    header += ["repository", "created_date", "latest_build_result", "latest_build_finish_time"]
    return header, _pipeline_rows(inv)


def _pipeline_rows(inv: Inventory) -> Iterator[Row]:
    for p in inv.of("pipelines"):
        repo = pipeline_repository(p)
        process = p.get("process")
        yaml_file = process.get("yamlFilename") if isinstance(process, Mapping) else None
        latest = p.get("latestCompletedBuild") or p.get("latestBuild")
        if not isinstance(latest, Mapping):
            latest = {}
        yield (
            [
                p.get("organization"),
                *project_of(p),
                p.get("id"),
                p.get("name"),
                p.get("path"),
                p.get("queueStatus"),
                pipeline_kind(p),
                yaml_file,
                repo.get("type"),
                repo.get("id"),
                repo.get("name"),
                p.get("createdDate"),
                latest.get("result"),
                latest.get("finishTime"),
            ]
        )


def _findings(findings: Sequence[Finding]) -> tuple[list[str], list[Row]]:
    header = ["organization", "kind", "severity", "project_id", "project", "resource"]
    header += ["item_id", "item", "detail"]
    rows: list[Row] = [
        [
            f.organization,
            f.kind,
            f.severity,
            f.project_id,
            f.project,
            f.resource,
            f.item_id,
            f.item,
            f.detail,
        ]
        for f in findings
    ]
    return header, rows


def _errors(inv: Inventory) -> tuple[list[str], list[Row]]:
    header = ["organization", "resource", "project_id", "project", "item_id", "item"]
    header += ["status", "code", "message"]
    rows: list[Row] = []
    for org in inv.orgs:
        for e in org.errors:
            project = e.get("project") or {}
            item = e.get("item") or {}
            rows.append(
                [
                    org.name,
                    e.get("resource"),
                    project.get("id"),
                    project.get("name"),
                    item.get("id"),
                    item.get("name"),
                    e.get("status"),
                    e.get("code"),
                    e.get("message"),
                ]
            )
    return header, rows


def _tables(inv: Inventory) -> Iterator[tuple[str, Sequence[str], Iterable[Row]]]:
    """(file name, header, rows) of every table; rows are computed as they are consumed."""
    yield ("projects.csv", *_projects(inv))
    yield ("repositories.csv", *_repositories(inv))
    yield ("pipelines.csv", *_pipelines(inv))
    yield ("findings.csv", *_findings(compute_findings(inv)))
    yield ("errors.csv", *_errors(inv))
    for table in present_tables(inv):
        header = ["organization", *(c.csv for c in table.columns)]
        yield f"{table.key}.csv", header, rows(inv, table)


def render_csv(inv: Inventory) -> dict[str, str]:
    """Every CSV file of the report: {file name: content}."""
    return {name: render_table(header, body) for name, header, body in _tables(inv)}


def write_csv(inv: Inventory, directory: Path) -> list[Path]:
    """Write every CSV file into ``directory`` (created if needed), a row at a time; the
    paths written. Same bytes as :func:`render_csv`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, header, body in _tables(inv):
        path = directory / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(BOM)
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header)
            for row in body:
                writer.writerow([cell(v) for v in row])
        written.append(path)
    return written
