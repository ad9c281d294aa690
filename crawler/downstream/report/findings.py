"""Audit findings computed from a snapshot alone (pure, deterministic), shared by every format.

Kinds, in report order (``KINDS``): what the token could not see (``project_not_visible``,
``repository_not_visible``, ``scope_not_visible``), reads that failed (``read_failed``), broken
links (``pipeline_repository_missing``, ``pipeline_repository_not_visible``,
``pipeline_repository_disabled``), pipelines switched off (``pipeline_disabled``,
``pipeline_paused``), activity (``pipeline_not_run``, ``release_not_released``: older than
``STALE_DAYS`` before the snapshot's own ``finished_at``, never the wall clock), branch protection
(``repository_unprotected``), sharing (``service_endpoint_shared``) and repository hygiene
(``repository_without_pipeline``, ``repository_disabled``, ``repository_hidden``,
``repository_empty``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from crawler.downstream.audit.engine import NotAssessed, run_audit
from crawler.downstream.audit.rules import RULES_BY_ID
from crawler.downstream.report.model import (
    Inventory,
    Item,
    Org,
    is_empty_repository,
    pipeline_repository,
    project_of,
    text,
)
from crawler.downstream.report.wider import (
    age_days,
    parse_time,
)
from crawler.protocol.advice import advice

__all__ = ["KINDS", "Finding", "advice", "compute_findings", "is_not_visible"]

NOT_VISIBLE_STATUS = frozenset({401, 403, 404})
PROJECT_CODE = "TF200016"
REPOSITORY_CODE = "TF401019"

# kind -> (severity, title used as a section heading)
KINDS: dict[str, tuple[str, str]] = {
    "project_not_visible": ("warning", "Projects this token could not read"),
    "repository_not_visible": ("warning", "Repositories this token could not read"),
    "scope_not_visible": ("warning", "Organization-level lists this token could not read"),
    "read_failed": ("error", "Reads that failed"),
    "pipeline_repository_missing": ("error", "Pipelines whose repository is missing"),
    "pipeline_repository_not_visible": ("warning", "Pipelines whose repository is not visible"),
    "pipeline_repository_disabled": ("warning", "Pipelines whose repository is disabled"),
    "pipeline_disabled": ("info", "Disabled pipelines"),
    "pipeline_paused": ("info", "Paused pipelines"),
    "pipeline_not_run": ("info", "Pipelines not run recently"),
    "release_not_released": ("info", "Release definitions not released recently"),
    "repository_unprotected": (
        "warning",
        "Repositories whose default branch has no required-reviewer or build-validation policy",
    ),
    "service_endpoint_shared": ("warning", "Service connections shared across projects"),
    "repository_without_pipeline": ("info", "Repositories with no pipeline"),
    "repository_disabled": ("info", "Disabled repositories"),
    "repository_hidden": ("info", "Hidden repositories"),
    "repository_empty": ("info", "Empty repositories"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One audit finding about one project, item or scope."""

    kind: str
    organization: str
    project_id: str
    project: str
    resource: str
    item_id: str
    item: str
    detail: str

    @property
    def severity(self) -> str:
        """error, warning or info."""
        return KINDS[self.kind][0]


def _status(error: Mapping[str, Any]) -> str:
    parts = [text(error.get("status")), text(error.get("code"))]
    return " ".join(p for p in parts if p)


def is_not_visible(error: Mapping[str, Any]) -> bool:
    """An error that means 'the token cannot see this', not 'this is broken'."""
    return error.get("status") in NOT_VISIBLE_STATUS or error.get("code") in (
        PROJECT_CODE,
        REPOSITORY_CODE,
    )


def _ref(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return text(value.get("id")), text(value.get("name"))
    return "", ""


def error_findings(org: Org) -> Iterator[Finding]:
    """Findings from one organization's ``errors`` (not-visible scopes grouped per project)."""
    per_project: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for error in org.errors:
        project_id, project = _ref(error.get("project"))
        item_id, item = _ref(error.get("item"))
        resource = text(error.get("resource"))
        message = text(error.get("message"))
        if not is_not_visible(error):
            detail = f"{resource}: {_status(error) or 'failed'}: {message}".strip()
            yield Finding(
                "read_failed", org.name, project_id, project, resource, item_id, item, detail
            )
        elif (item_id or item or error.get("code") == REPOSITORY_CODE) and resource not in (
            "pipeline_permissions",
            "checks",
        ):
            detail = f"{_status(error)}: {message}"
            yield Finding(
                "repository_not_visible",
                org.name,
                project_id,
                project,
                resource,
                item_id,
                item,
                detail,
            )
        elif project_id or project:
            per_project.setdefault((project_id, project), []).append(error)
        else:
            detail = f"{resource}: {_status(error)}: {message}"
            yield Finding("scope_not_visible", org.name, "", "", resource, "", "", detail)
    for (project_id, project), errors in per_project.items():
        resources = sorted({text(e.get("resource")) for e in errors})
        statuses = sorted({_status(e) for e in errors})
        detail = f"{', '.join(resources)}: {'; '.join(statuses)}"
        yield Finding(
            "project_not_visible",
            org.name,
            project_id,
            project,
            ", ".join(resources),
            "",
            "",
            detail,
        )


def _finding(kind: str, item: Item, resource: str, detail: str) -> Finding:
    project_id, project = project_of(item)
    return Finding(
        kind,
        text(item.get("organization")),
        project_id,
        project,
        resource,
        text(item.get("id")),
        text(item.get("name")),
        detail,
    )


def _unreadable(org: Org, resource: str) -> tuple[bool, set[str]]:
    """(whole-organization list failed, project ids whose list failed) for ``resource``."""
    org_level = False
    projects: set[str] = set()
    for error in org.errors:
        if error.get("resource") != resource or error.get("item"):
            continue
        project_id, _ = _ref(error.get("project"))
        if project_id:
            projects.add(project_id)
        else:
            org_level = True
    return org_level, projects


def pipeline_findings(inv: Inventory, org: Org) -> Iterator[Finding]:
    """Disabled/paused pipelines and pipelines whose git repository is missing or disabled."""
    repos = {
        text(r.get("id")): r for r in inv.of("repositories") if r.get("organization") == org.name
    }
    hidden_ids = {_ref(e.get("item"))[0] for e in org.errors if e.get("resource") == "repositories"}
    all_failed, failed_projects = _unreadable(org, "repositories")
    for pipeline in inv.of("pipelines"):
        if pipeline.get("organization") != org.name:
            continue
        status = pipeline.get("queueStatus")
        if status == "disabled":
            yield _finding("pipeline_disabled", pipeline, "pipelines", "queueStatus: disabled")
        elif status == "paused":
            yield _finding("pipeline_paused", pipeline, "pipelines", "queueStatus: paused")
        repo = pipeline_repository(pipeline)
        if repo.get("type") != "TfsGit" or "repositories" not in org.resources:
            continue
        repo_id, repo_name = text(repo.get("id")), text(repo.get("name"))
        if repo_id in repos:
            if repos[repo_id].get("isDisabled") is True:
                detail = f"repository {repo_name} is disabled"
                yield _finding("pipeline_repository_disabled", pipeline, "pipelines", detail)
        elif repo_id in hidden_ids or all_failed or project_of(pipeline)[0] in failed_projects:
            detail = f"repository {repo_name} ({repo_id}) is not in the inventory: not visible"
            yield _finding("pipeline_repository_not_visible", pipeline, "pipelines", detail)
        else:
            maybe = " or in a project this token could not read" if failed_projects else ""
            detail = f"repository {repo_name} ({repo_id}) is not in the inventory (deleted{maybe})"
            yield _finding("pipeline_repository_missing", pipeline, "pipelines", detail)


def repository_findings(inv: Inventory, org: Org) -> Iterator[Finding]:
    """Disabled, hidden and empty repositories, and enabled ones that no pipeline builds."""
    used = {
        text(pipeline_repository(p).get("id"))
        for p in inv.of("pipelines")
        if p.get("organization") == org.name
    }
    all_failed, failed_projects = _unreadable(org, "pipelines")
    pipelines_known = "pipelines" in org.resources and not all_failed
    for repo in inv.of("repositories"):
        if repo.get("organization") != org.name:
            continue
        if repo.get("isDisabled") is True:
            yield _finding("repository_disabled", repo, "repositories", "isDisabled: true")
            continue
        if repo.get("isHidden") is True:
            yield _finding("repository_hidden", repo, "repositories", "isHidden: true")
        if is_empty_repository(repo):
            yield _finding("repository_empty", repo, "repositories", "no default branch / size 0")
            continue
        project_id, _ = project_of(repo)
        if (
            pipelines_known
            and project_id not in failed_projects
            and text(repo.get("id")) not in used
        ):
            detail = "no pipeline in the inventory builds this repository"
            yield _finding("repository_without_pipeline", repo, "repositories", detail)


def release_findings(inv: Inventory, org: Org, stale_days: int) -> Iterator[Finding]:
    """Release definitions not released for ``stale_days`` days (or never)."""
    now = parse_time(org.finished_at)
    for release in inv.of("release_definitions"):
        if release.get("organization") != org.name:
            continue
        last = release.get("lastRelease")
        created = last.get("createdOn") if isinstance(last, Mapping) else None
        age = age_days(created, now)
        if created is None:
            detail = "never released"
        elif age is not None and age >= stale_days:
            detail = f"last release {text(created)[:10]}, {age} days before the snapshot"
        else:
            continue
        yield _finding("release_not_released", release, "release_definitions", detail)


# The findings the audit's rule engine decides (crawler.downstream.audit): the decision and its
# advice live
# there once; the report shows them under its own kinds and wording.
ENGINE_KINDS = {
    "repository-unprotected": "repository_unprotected",
    "pipeline-stale": "pipeline_not_run",
    "endpoint-shared": "service_endpoint_shared",
}


def _engine_detail(kind: str, evidence: Mapping[str, Any]) -> str:
    if kind == "repository_unprotected":
        branch = text(evidence.get("defaultBranch"))
        return f"{branch}: no enabled, blocking required-reviewer or build-validation policy"
    if kind == "pipeline_not_run":
        when = evidence.get("last_run")
        if when is None:
            return "no build on record"
        days = evidence.get("days_before_snapshot")
        return f"last build {text(when)[:10]}, {days} days before the snapshot"
    projects = [text(p) for p in evidence.get("projects") or ()]
    return f"shared with {len(projects)} projects: {', '.join(projects)}"


def engine_findings(
    inv: Inventory, stale_days: int, not_assessed: list[NotAssessed] | None = None
) -> Iterator[Finding]:
    """Unprotected default branches, stale pipelines and shared service connections; what
    the snapshot cannot decide for them goes to ``not_assessed`` (never a finding, never a pass).
    """
    rules = [RULES_BY_ID[rule] for rule in ENGINE_KINDS]
    result = run_audit(replace(inv, stale_days=stale_days), rules)
    if not_assessed is not None:
        not_assessed.extend(result.not_assessed)
    for f in result.findings:
        kind = ENGINE_KINDS[f.rule.id]
        yield Finding(
            kind,
            f.organization,
            f.project_id,
            f.project_name,
            f.resource_kind,
            f.resource_id,
            f.resource_name,
            _engine_detail(kind, f.evidence),
        )


def _order(f: Finding) -> tuple[int, str, str, str, str, str, str]:
    return (
        list(KINDS).index(f.kind),
        f.organization,
        f.project.casefold(),
        f.project_id,
        f.item.casefold(),
        f.item_id,
        f.detail,
    )


def compute_findings(
    inv: Inventory,
    *,
    stale_days: int | None = None,
    not_assessed: list[NotAssessed] | None = None,
) -> list[Finding]:
    """Every finding of the inventory, in a stable order (kind, organization, project, item).

    ``stale_days`` defaults to the inventory's own (``report --stale-days``); the scopes the
    rule engine could not decide are added to ``not_assessed`` when a list is given.
    """
    if stale_days is None:
        stale_days = inv.stale_days
    found: list[Finding] = []
    for org in inv.orgs:
        found.extend(error_findings(org))
        found.extend(pipeline_findings(inv, org))
        found.extend(repository_findings(inv, org))
        found.extend(release_findings(inv, org, stale_days))
    found.extend(engine_findings(inv, stale_days, not_assessed))
    return sorted(found, key=_order)
