"""The audit as text, Markdown and JSON (pure; byte-stable for one snapshot).

Every format opens with who crawled (``identity``) and the counts, lists findings by rule with
their evidence and remedy, and then what could not be assessed, and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from crawler import NAME, __version__
from crawler.downstream.audit.engine import AuditResult, Finding, NotAssessed, counts, resource_ref
from crawler.downstream.audit.rules import Rule
from crawler.downstream.markdown_cell import md_cell
from crawler.protocol.identity import identity_sentence

MAX_ROWS = 50


def _value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def evidence_text(finding: Finding) -> str:
    """The evidence as ``field=value; …``."""
    return "; ".join(f"{k}={_value(v)}" for k, v in finding.evidence.items())


def see_also_text(rule: Rule) -> str:
    """``PSRule.Rules.AzureDevOps: X; ADOScanner: Y`` (empty when none)."""
    return "; ".join(f"{tool}: {', '.join(names)}" for tool, names in rule.see_also.items())


def _where(f: Finding | NotAssessed, multi: bool) -> str:
    org = f"{f.organization} / " if multi else ""
    if isinstance(f, Finding):
        project = f.project_name or f.project_id
        if f.resource_kind == "project":
            return f"{org}project {project}"
        return f"{org}{project} / {f.resource_kind} {f.resource_name or f.resource_id}"
    unassessed = f.project_name or f.project_id
    where = f"project {unassessed}" if unassessed else "the whole organization"
    item = f" / {f.item_id}" if f.item_id else ""
    return f"{org}{where}{item}"


def _headline(result: AuditResult) -> str:
    c = counts(result)
    found = len(result.findings)
    return (
        f"{found} finding{'s' if found != 1 else ''} ({c['high']} high, {c['medium']} medium, "
        f"{c['low']} low); {c['not_assessed']} scope(s) not assessed."
    )


def _identities(result: AuditResult) -> list[str]:
    out = []
    for org in result.orgs:
        prefix = f"{org.name}: " if result.multi else ""
        out.append(prefix + identity_sentence(org.identity))
    return out


def _by_rule(items: Iterable[Finding | NotAssessed]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for item in items:
        grouped.setdefault(item.rule.id, []).append(item)
    return grouped


def render_text(result: AuditResult) -> str:
    """Plain text for a terminal or a log."""
    names = ", ".join(org.name for org in result.orgs)
    lines = [f"Audit of {names}: {_headline(result)}", *_identities(result)]
    findings = _by_rule(result.findings)
    for rule in result.rules:
        group = findings.get(rule.id, [])
        if not group:
            continue
        lines += ["", f"{rule.severity.upper()} {rule.id}: {rule.title} ({len(group)})"]
        lines += [f"  - {_where(f, result.multi)}: {evidence_text(f)}" for f in group]
        lines.append(f"  Remedy: {rule.remedy}")
        if rule.see_also:
            lines.append(f"  See also: {see_also_text(rule)}")
    if result.not_assessed:
        lines += ["", f"Not assessed ({len(result.not_assessed)}):"]
        lines += [
            f"  - {n.rule.id}: {_where(n, result.multi)}: {n.reason}" for n in result.not_assessed
        ]
    return "\n".join(lines) + "\n"


def render_markdown(result: AuditResult) -> str:
    """Markdown for a pipeline's run summary (long tables cut at ``MAX_ROWS``)."""
    names = ", ".join(md_cell(org.name) for org in result.orgs)
    out = [f"# Security audit: {names}", ""]
    out += [md_cell(s) for s in _identities(result)]
    out += ["", md_cell(_headline(result)), ""]
    findings = _by_rule(result.findings)
    unassessed = _by_rule(result.not_assessed)
    out += ["| Rule | Title | Severity | Findings | Not assessed |", "|---|---|---|---:|---:|"]
    for rule in result.rules:
        found, unknown = len(findings.get(rule.id, [])), len(unassessed.get(rule.id, []))
        row = f"| `{rule.id}` | {md_cell(rule.title)} | {rule.severity} | {found} | {unknown} |"
        out.append(row)
    for rule in result.rules:
        group = findings.get(rule.id, [])
        if not group:
            continue
        out += ["", f"## {md_cell(rule.title)} ({len(group)})", ""]
        out += [f"Severity **{rule.severity}**, rule `{rule.id}`.", ""]
        out += ["| Where | Evidence |", "|---|---|"]
        for f in group[:MAX_ROWS]:
            out.append(f"| {md_cell(_where(f, result.multi))} | {md_cell(evidence_text(f))} |")
        if len(group) > MAX_ROWS:
            out.append(f"| … and {len(group) - MAX_ROWS} more (see the JSON or SARIF output) | |")
        out += ["", f"**Remedy:** {md_cell(rule.remedy)}"]
        if rule.see_also:
            out += ["", f"**See also:** {md_cell(see_also_text(rule))}"]
    if result.not_assessed:
        out += ["", f"## Not assessed ({len(result.not_assessed)})", ""]
        out += ["| Rule | Where | Why |", "|---|---|---|"]
        for n in result.not_assessed[: MAX_ROWS * 4]:
            where, why = md_cell(_where(n, result.multi)), md_cell(n.reason)
            out.append(f"| `{n.rule.id}` | {where} | {why} |")
        if len(result.not_assessed) > MAX_ROWS * 4:
            rest = len(result.not_assessed) - MAX_ROWS * 4
            out.append(f"| … and {rest} more (see the JSON output) | | |")
    return "\n".join(out) + "\n"


def rule_doc(rule: Rule) -> dict[str, Any]:
    """A rule as the JSON output describes it."""
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "reads": list(rule.reads),
        "remedy": rule.remedy,
        "see_also": {tool: list(names) for tool, names in rule.see_also.items()},
    }


def _project(project_id: str | None, name: str | None) -> dict[str, str] | None:
    return None if not project_id else {"id": project_id, "name": name or ""}


def finding_doc(f: Finding) -> dict[str, Any]:
    """One finding as the contract shapes it."""
    return {
        "rule": f.rule.id,
        "title": f.rule.title,
        "severity": f.rule.severity,
        "organization": f.organization,
        "project": _project(f.project_id, f.project_name),
        "resource": resource_ref(f),
        "evidence": f.evidence,
        "remedy": f.rule.remedy,
        "see_also": {tool: list(names) for tool, names in f.rule.see_also.items()},
    }


def render_json(result: AuditResult) -> str:
    """One JSON object: organizations, counts, rules, findings, not_assessed."""
    doc = {
        "generator": {"name": NAME, "version": __version__},
        "organizations": [
            {"name": o.name, "url": o.url, "complete": o.complete, "identity": o.identity}
            for o in result.orgs
        ],
        "summary": counts(result),
        "rules": [rule_doc(r) for r in result.rules],
        "findings": [finding_doc(f) for f in result.findings],
        "not_assessed": [
            {
                "rule": n.rule.id,
                "organization": n.organization,
                "project": _project(n.project_id, n.project_name),
                "item": n.item_id,
                "reason": n.reason,
            }
            for n in result.not_assessed
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
