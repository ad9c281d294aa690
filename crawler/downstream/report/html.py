"""The HTML report: one self-contained page (inline CSS, JS and SVG charts; no external requests).

Tables sort by clicking a header; every value is escaped (names contain ``<``, ``&``, quotes).
A Content-Security-Policy forbids any network fetch. Byte-stable for one input.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence

from crawler.downstream.report.findings import KINDS, compute_findings
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

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
CHART_ROWS = 15

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}
th{background:#eef2f7;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.partial{background:#fff4ce;border:1px solid #e0b000;padding:.5em}
.complete{background:#e7f6e7;border:1px solid #5a5;padding:.5em}
.charts{display:flex;flex-wrap:wrap;gap:2em}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
svg text{font:12px system-ui,sans-serif;fill:#1b1b1b}
"""

SCRIPT = """
(function () {
  "use strict";
  function key(cell, numeric) {
    var raw = cell.getAttribute("data-v");
    var t = raw === null ? cell.textContent : raw;
    if (numeric) { var n = parseFloat(t); return isNaN(n) ? -Infinity : n; }
    return t.toLowerCase();
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.classList.contains("n");
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return {row: row, i: i, k: key(row.cells[index], numeric)};
    });
    rows.sort(function (a, b) {
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return (asc ? c : -c) || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(th.parentNode.children, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable th").forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  });
})();
"""

Column = tuple[str, bool]  # (header, numeric)


def esc(value: object) -> str:
    """Escaped text for HTML content and attribute values."""
    return html.escape(text(value), quote=True)


def table(table_id: str, columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> str:
    """A sortable table; numeric columns sort as numbers and align right."""
    head = "".join(
        f'<th scope="col"{" class=n" if numeric else ""}>{esc(name)}</th>'
        for name, numeric in columns
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td{' class=n' if numeric else ''}>{esc(value)}</td>"
            for (_, numeric), value in zip(columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}">none</td></tr>')
    return (
        f'<table class="sortable" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    width, label_w, bar_h = 520, 200, 20
    top = max((value for _, value in bars), default=0) or 1
    height = bar_h * max(len(bars), 1) + 10
    parts = [
        f'<figure><figcaption>{esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}">'
    ]
    for i, (label, value) in enumerate(bars):
        y = 5 + i * bar_h
        w = round((width - label_w - 50) * value / top)
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="#3a78c3">'
            f"<title>{esc(label)}: {value}</title></rect>"
            f'<text x="{label_w + w + 4}" y="{y + 14}">{value}</text>'
        )
    if not bars:
        parts.append('<text x="10" y="20">no data</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _charts(inv: Inventory) -> str:
    rows = project_rows(inv)
    busiest = sorted(rows, key=lambda r: (-r.repositories, r.name.casefold(), r.id))[:CHART_ROWS]
    repo_bars = [
        ((f"{r.organization}: " if inv.multi else "") + (r.name or r.id), r.repositories)
        for r in busiest
    ]
    status = Counter(text(p.get("queueStatus")) or "(unknown)" for p in inv.of("pipelines"))
    status_bars = sorted(status.items())
    found = Counter(f.kind for f in compute_findings(inv))
    finding_bars = [(kind, found[kind]) for kind in KINDS if found[kind]]
    return (
        '<div class="charts">'
        + bar_chart(f"Repositories per project (top {CHART_ROWS})", repo_bars)
        + bar_chart("Pipelines by queue status", status_bars)
        + bar_chart("Findings by kind", finding_bars)
        + "</div>"
    )


def _runs(inv: Inventory) -> str:
    columns = [("Organization", False), ("URL", False), ("Auth", False), ("Started", False)]
    columns += [("Finished", False), ("Complete", False), ("Errors", True)]
    rows = [
        [o.name, o.url, o.auth_kind, o.started_at, o.finished_at, o.complete, len(o.errors)]
        for o in inv.orgs
    ]
    if inv.complete:
        banner = '<p class="complete">Complete: every requested scope was read in full.</p>'
    else:
        count = sum(len(o.errors) for o in inv.orgs)
        banner = (
            f'<p class="partial"><strong>Partial inventory</strong>: {count} scope(s) could not '
            "be read; see Findings and Errors.</p>"
        )
    return table("runs", columns, rows) + banner


def _repositories(inv: Inventory) -> str:
    columns = [("Organization", False), ("Project", False), ("Repository", False)]
    columns += [("Default branch", False), ("Size", True), ("Empty", False)]
    columns += [("Disabled", False), ("Fork", False), ("Pipelines", True)]
    built = Counter(
        (text(p.get("organization")), text(pipeline_repository(p).get("id")))
        for p in inv.of("pipelines")
    )
    rows = [
        [
            r.get("organization"),
            project_of(r)[1],
            r.get("name"),
            r.get("defaultBranch"),
            r.get("size"),
            is_empty_repository(r),
            r.get("isDisabled"),
            r.get("isFork"),
            built[(text(r.get("organization")), text(r.get("id")))],
        ]
        for r in inv.of("repositories")
    ]
    return table("repositories", columns, rows)


def _pipelines(inv: Inventory) -> str:
    columns = [("Organization", False), ("Project", False), ("Pipeline", False)]
    columns += [("Folder", False), ("Queue status", False), ("Kind", False)]
    columns += [("Repository", False), ("Id", True)]
    rows = [
        [
            p.get("organization"),
            project_of(p)[1],
            p.get("name"),
            p.get("path"),
            p.get("queueStatus"),
            pipeline_kind(p),
            pipeline_repository(p).get("name"),
            p.get("id"),
        ]
        for p in inv.of("pipelines")
    ]
    return table("pipelines", columns, rows)


def _projects(inv: Inventory) -> str:
    columns = [("Organization", False), ("Project", False), ("State", False)]
    columns += [("Visibility", False), ("Repositories", True), ("Pipelines", True)]
    columns += [("Errors", True)]
    rows = [
        [
            r.organization,
            r.name or r.id,
            r.state,
            r.visibility,
            r.repositories,
            r.pipelines,
            r.errors,
        ]
        for r in project_rows(inv)
    ]
    return table("projects", columns, rows)


def _findings(inv: Inventory) -> str:
    columns = [("Severity", False), ("Finding", False), ("Organization", False)]
    columns += [("Project", False), ("Item", False), ("Detail", False)]
    rows = [
        [f.severity, f.kind, f.organization, f.project, f.item or f.item_id, f.detail]
        for f in compute_findings(inv)
    ]
    return table("findings", columns, rows)


def _errors(inv: Inventory) -> str:
    columns = [("Organization", False), ("Resource", False), ("Project", False)]
    columns += [("Item", False), ("Status", True), ("Code", False), ("Message", False)]
    rows = []
    for org in inv.orgs:
        for e in org.errors:
            project = e.get("project") or {}
            item = e.get("item") or {}
            rows.append(
                [
                    org.name,
                    e.get("resource"),
                    project.get("name"),
                    item.get("name"),
                    e.get("status"),
                    e.get("code"),
                    e.get("message"),
                ]
            )
    return table("errors", columns, rows)


def _wider(inv: Inventory) -> list[tuple[str, str]]:
    """(title, table) of each wider resource the snapshot has."""
    out = []
    for spec in present_tables(inv):
        columns = [("Organization", False), *((c.header, c.numeric) for c in spec.columns)]
        out.append((spec.title, table(spec.key.replace("_", "-"), columns, rows(inv, spec))))
    return out


def render_html(inv: Inventory) -> str:
    """The whole HTML report as one string."""
    if inv.multi:
        title = f"Azure DevOps inventory: {len(inv.orgs)} organizations"
    else:
        title = f"Azure DevOps inventory: {inv.orgs[0].name}"
    sections = [
        ("Runs", _runs(inv)),
        ("Charts", _charts(inv)),
        ("Projects", _projects(inv)),
        ("Repositories", _repositories(inv)),
        ("Pipelines", _pipelines(inv)),
        *_wider(inv),
        ("Findings", _findings(inv)),
        ("Errors", _errors(inv)),
    ]
    body = "\n".join(f"<h2>{esc(name)}</h2>\n{content}" for name, content in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style></head>\n"
        f"<body>\n<h1>{esc(title)}</h1>\n{body}\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
