"""The audit as one SARIF 2.1.0 log (OASIS sarif-v2.1.0), one run (pure).

Findings are about Azure DevOps objects, not files: each result's location is a chain of
``logicalLocations`` (resource, project, organization: the most specific first) with no
physical location. Each rule's
help carries its remedy and equivalent controls; scopes that could not be assessed are
``invocations[0].toolExecutionNotifications`` naming the rule they concern.
"""

from __future__ import annotations

from typing import Any

import orjson

from crawler import NAME, __version__
from crawler.downstream.audit.engine import AuditResult, Finding, NotAssessed
from crawler.downstream.audit.render import evidence_text, see_also_text
from crawler.downstream.audit.rules import Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
RANK = {"high": 90.0, "medium": 50.0, "low": 10.0}


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """The ``reportingDescriptor`` of one rule."""
    see_also = see_also_text(rule)
    help_text = f"{rule.remedy}" + (f" Equivalent controls: {see_also}." if see_also else "")
    return {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} (reads {', '.join(rule.reads)})."},
        "help": {"text": help_text, "markdown": f"**Remedy:** {help_text}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity], "rank": RANK[rule.severity]},
        "properties": {
            "tags": ["security", "azure-devops", rule.family],
            "severity": rule.severity,
            "reads": list(rule.reads),
            "see_also": {tool: list(names) for tool, names in rule.see_also.items()},
        },
    }


def _locations(
    org: str,
    project_id: str | None,
    project: str | None,
    kind: str | None,
    rid: str | None,
    name: str | None,
) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = [{"name": org, "fullyQualifiedName": org, "kind": "namespace"}]
    path = org
    if project_id:
        path = f"{org}/{project or project_id}"
        chain.append(
            {"name": project or project_id, "fullyQualifiedName": path, "kind": "namespace"}
        )
    if kind and kind != "project" and rid:
        label = name or rid
        chain.append(
            {"name": label, "fullyQualifiedName": f"{path}/{kind}/{rid}", "kind": "resource"}
        )
    return [{"logicalLocations": chain[::-1]}]  # the most specific first


def _result(f: Finding, index: int) -> dict[str, Any]:
    where = f.project_name or f.project_id
    if f.resource_kind != "project":
        where += f" / {f.resource_kind} {f.resource_name or f.resource_id}"
    return {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": LEVELS[f.rule.severity],
        "message": {"text": f"{f.rule.title}: {where} ({evidence_text(f)})."},
        "locations": _locations(
            f.organization,
            f.project_id,
            f.project_name,
            f.resource_kind,
            f.resource_id,
            f.resource_name,
        ),
        "partialFingerprints": {
            "adoInventory/v1": f"{f.rule.id}|{f.organization}|{f.project_id}|{f.resource_id}"
        },
        "properties": {
            "organization": f.organization,
            "project": {"id": f.project_id, "name": f.project_name},
            "resource": {"kind": f.resource_kind, "id": f.resource_id, "name": f.resource_name},
            "evidence": f.evidence,
        },
    }


def _notification(n: NotAssessed, index: int) -> dict[str, Any]:
    where = f"project {n.project_name or n.project_id}" if n.project_id else "the organization"
    item = f", {n.item_id}" if n.item_id else ""
    return {
        "level": "note",
        "message": {"text": f"Not assessed: {n.rule.id} in {where}{item}: {n.reason}"},
        "associatedRule": {"id": n.rule.id, "index": index},
        "locations": _locations(
            n.organization, n.project_id, n.project_name, "item", n.item_id, n.item_id
        ),
    }


def render_sarif(result: AuditResult) -> str:
    """The SARIF log as JSON text."""
    index = {rule.id: i for i, rule in enumerate(result.rules)}
    run = {
        "tool": {
            "driver": {
                "name": NAME,
                "version": __version__,
                "informationUri": "https://learn.microsoft.com/azure/devops/pipelines/security/overview",
                "rules": [rule_descriptor(r) for r in result.rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    _notification(n, index[n.rule.id]) for n in result.not_assessed
                ],
            }
        ],
        "results": [_result(f, index[f.rule.id]) for f in result.findings],
        "properties": {
            "organizations": [
                {"name": o.name, "url": o.url, "identity": o.identity} for o in result.orgs
            ]
        },
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return orjson.dumps(log, option=orjson.OPT_INDENT_2).decode() + "\n"
