"""The Markdown run summary: totals, per-project table, what the token could not see, findings.

Byte-stable for one input: no clock, every list sorted; long finding tables are cut at
``MAX_ROWS`` rows with a count of the rest (the CSV report has them all).
"""

from __future__ import annotations

from collections.abc import Sequence

from crawler.downstream.audit.engine import NotAssessed
from crawler.downstream.markdown_cell import md_cell
from crawler.downstream.report.findings import KINDS, Finding, advice, compute_findings
from crawler.downstream.report.model import Inventory, project_rows, text
from crawler.downstream.report.wider import present_tables, rows
from crawler.protocol.identity import identity_sentence

MAX_ROWS = 50
ACCESS_KINDS = ("project_not_visible", "repository_not_visible", "scope_not_visible")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> list[str]:
    """A Markdown table; the last ``right`` columns are right-aligned (numbers)."""
    align = ["---"] * (len(header) - right) + ["---:"] * right
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _title(inv: Inventory) -> str:
    if inv.multi:
        return f"# Azure DevOps inventory: {len(inv.orgs)} organizations"
    return f"# Azure DevOps inventory: {md_cell(inv.orgs[0].name)}"


def _identity(inv: Inventory) -> list[str]:
    """Who crawled each organization (only for snapshots that recorded it)."""
    out = []
    for org in inv.orgs:
        if org.identity is not None:
            prefix = f"{md_cell(org.name)}: " if inv.multi else ""
            out.append(prefix + md_cell(identity_sentence(org.identity)))
    return out


def _runs(inv: Inventory) -> list[str]:
    rows = [
        [
            md_cell(org.name),
            md_cell(org.url),
            md_cell(org.auth_kind),
            md_cell(org.started_at),
            md_cell(org.finished_at),
            "yes" if org.complete else "**no**",
            str(len(org.errors)),
        ]
        for org in inv.orgs
    ]
    header = ["Organization", "URL", "Auth", "Started", "Finished", "Complete", "Errors"]
    out = _table(header, rows, right=1)
    if inv.complete:
        out += ["", "Complete: every requested scope was read in full."]
    else:
        count = sum(len(org.errors) for org in inv.orgs)
        out += [
            "",
            f"**Partial inventory**: {count} scope(s) could not be read. The numbers below "
            "cover only what the token could see; see *What this token could not see*.",
        ]
    return out


def _totals(inv: Inventory, findings: Sequence[Finding]) -> list[str]:
    rows = [[md_cell(key), str(len(items))] for key, items in sorted(inv.items.items())]
    rows.append(["findings", str(len(findings))])
    return ["## Totals", "", *_table(["Resource", "Items"], rows, right=1)]


def _projects(inv: Inventory) -> list[str]:
    header = ["Project", "State", "Visibility", "Repositories", "Pipelines", "Errors"]
    if inv.multi:
        header.insert(0, "Organization")
    rows = []
    for row in project_rows(inv):
        cells = [md_cell(row.name or row.id), md_cell(row.state), md_cell(row.visibility)]
        cells += [str(row.repositories), str(row.pipelines), str(row.errors)]
        rows.append(([md_cell(row.organization)] if inv.multi else []) + cells)
    if not rows:
        return ["## Projects", "", "No projects in this snapshot."]
    return ["## Projects", "", *_table(header, rows, right=3)]


def _where(f: Finding, inv: Inventory) -> str:
    org = f"{md_cell(f.organization)}: " if inv.multi else ""
    return f"{org}**{md_cell(f.project or f.project_id)}**"


def _access(inv: Inventory, findings: Sequence[Finding]) -> list[str]:
    out = ["## What this token could not see", ""]
    relevant = [f for f in findings if f.kind in ACCESS_KINDS]
    if not relevant:
        return [*out, "Nothing: no scope was refused."]
    for kind in ACCESS_KINDS:
        group = [f for f in relevant if f.kind == kind]
        if not group:
            continue
        out += [f"### {KINDS[kind][1]} ({len(group)})", ""]
        for f in group[:MAX_ROWS]:
            if kind == "project_not_visible":
                out.append(f"- {_where(f, inv)}: {md_cell(f.detail)}")
            elif kind == "repository_not_visible":
                item = md_cell(f.item or f.item_id or "(unnamed)")
                out.append(f"- {_where(f, inv)} / {item}: {md_cell(f.detail)}")
            else:
                prefix = f"{md_cell(f.organization)}: " if inv.multi else ""
                out.append(f"- {prefix}{md_cell(f.detail)}")
        if len(group) > MAX_ROWS:
            out.append(f"- … and {len(group) - MAX_ROWS} more")
        out += ["", "How to grant access:", ""]
        auths = sorted({inv.org(f.organization).auth_kind for f in group})
        for auth in auths:
            label = f"(auth {md_cell(auth)}) " if len(auths) > 1 else ""
            out.append(f"- {label}{md_cell(advice(kind, auth))}")
        out.append("")
    return out[:-1]


def _not_assessed(unknown: Sequence[NotAssessed]) -> list[str]:
    """One line per rule the snapshot could not decide somewhere (unread is unknown)."""
    if not unknown:
        return []
    out = ["", "### Not assessed", ""]
    titles = sorted({n.rule.title for n in unknown})
    for title in titles:
        group = [n for n in unknown if n.rule.title == title]
        reasons = md_cell("; ".join(sorted({n.reason for n in group})))
        out.append(f"- {md_cell(title)}: {len(group)} scope(s) not assessed ({reasons})")
    return out


def _findings(
    inv: Inventory, findings: Sequence[Finding], unknown: Sequence[NotAssessed] = ()
) -> list[str]:
    out = ["## Findings", ""]
    rest = [f for f in findings if f.kind not in ACCESS_KINDS]
    if not rest:
        return [*out, "No findings.", *_not_assessed(unknown)]
    counts = [
        [md_cell(KINDS[kind][1]), kind, KINDS[kind][0], str(sum(f.kind == kind for f in rest))]
        for kind in KINDS
        if kind not in ACCESS_KINDS and any(f.kind == kind for f in rest)
    ]
    out += _table(["Finding", "Kind", "Severity", "Count"], counts, right=1)
    for kind in KINDS:
        group = [f for f in rest if f.kind == kind]
        if not group:
            continue
        header = ["Project", "Item", "Detail"]
        if inv.multi:
            header.insert(0, "Organization")
        rows = []
        for f in group[:MAX_ROWS]:
            cells = [md_cell(f.project), md_cell(f.item or f.item_id), md_cell(f.detail)]
            rows.append(([md_cell(f.organization)] if inv.multi else []) + cells)
        out += ["", f"### {KINDS[kind][1]} ({len(group)})", "", *_table(header, rows)]
        if len(group) > MAX_ROWS:
            out += ["", f"… and {len(group) - MAX_ROWS} more (the CSV report lists them all)."]
    return out + _not_assessed(unknown)


def _wider(inv: Inventory) -> list[str]:
    """One table per wider resource the snapshot has (none: no section at all)."""
    out: list[str] = []
    for table in present_tables(inv):
        header = [c.header for c in table.columns]
        if inv.multi:
            header.insert(0, "Organization")
        body = [
            [md_cell(text(v)) for v in (row if inv.multi else row[1:])] for row in rows(inv, table)
        ]
        out += ["", f"## {table.title} ({len(body)})", ""]
        if not body:
            out.append("None.")
            continue
        right = sum(1 for c in table.columns[-1:] if c.numeric)
        out += _table(header, body[:MAX_ROWS], right=right)
        if len(body) > MAX_ROWS:
            out += ["", f"… and {len(body) - MAX_ROWS} more (the CSV report lists them all)."]
    return out[1:]


def render_markdown(inv: Inventory) -> str:
    """The whole Markdown summary of an inventory."""
    unknown: list[NotAssessed] = []
    findings = compute_findings(inv, not_assessed=unknown)
    parts = [
        [_title(inv), ""],
        _identity(inv),
        _runs(inv),
        _totals(inv, findings),
        _projects(inv),
        _wider(inv),
        _access(inv, findings),
        _findings(inv, findings, unknown),
    ]
    return "\n\n".join("\n".join(p).strip("\n") for p in parts if p) + "\n"
