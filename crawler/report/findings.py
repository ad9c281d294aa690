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
from dataclasses import dataclass
from typing import Any

from crawler.report.model import (
    Inventory,
    Item,
    Org,
    is_empty_repository,
    pipeline_repository,
    project_of,
    text,
)
from crawler.report.wider import (
    age_days,
    has_build_data,
    last_run,
    parse_time,
    protects,
    shared_projects,
)

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
        elif item_id or item or error.get("code") == REPOSITORY_CODE:
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


def activity_findings(inv: Inventory, org: Org, stale_days: int) -> Iterator[Finding]:
    """Pipelines not run and release definitions not released for ``stale_days`` days."""
    now = parse_time(org.finished_at)
    pipelines = [p for p in inv.of("pipelines") if p.get("organization") == org.name]
    if has_build_data(pipelines):
        for pipeline in pipelines:
            when = last_run(pipeline)
            age = age_days(when, now)
            if when is None:
                yield _finding("pipeline_not_run", pipeline, "pipelines", "no build on record")
            elif age is not None and age >= stale_days:
                detail = f"last build {when[:10]}, {age} days before the snapshot"
                yield _finding("pipeline_not_run", pipeline, "pipelines", detail)
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


def policy_findings(inv: Inventory, org: Org) -> Iterator[Finding]:
    """Non-empty, enabled repositories whose default branch no blocking reviewer or build
    policy protects; only where the project's policies were read."""
    if "policies" not in org.resources:
        return
    all_failed, failed_projects = _unreadable(org, "policies")
    if all_failed:
        return
    policies: dict[str, list[Item]] = {}
    for policy in inv.of("policies"):
        if policy.get("organization") == org.name:
            policies.setdefault(project_of(policy)[0], []).append(policy)
    for repo in inv.of("repositories"):
        if repo.get("organization") != org.name or repo.get("isDisabled") is True:
            continue
        if is_empty_repository(repo) or repo.get("isHidden") is True:
            continue
        project_id = project_of(repo)[0]
        if project_id in failed_projects:
            continue
        branch = text(repo.get("defaultBranch"))
        repo_id = text(repo.get("id"))
        if not any(protects(p, repo_id, branch) for p in policies.get(project_id, [])):
            detail = f"{branch}: no enabled, blocking required-reviewer or build-validation policy"
            yield _finding("repository_unprotected", repo, "repositories", detail)


def endpoint_findings(inv: Inventory, org: Org) -> Iterator[Finding]:
    """Service connections shared with more than one project (each endpoint once)."""
    seen: set[str] = set()
    for endpoint in inv.of("service_endpoints"):
        endpoint_id = text(endpoint.get("id"))
        if endpoint.get("organization") != org.name or endpoint_id in seen:
            continue
        projects = shared_projects(endpoint)
        if len(projects) > 1 or endpoint.get("isShared") is True:
            seen.add(endpoint_id)
            detail = f"shared with {len(projects)} projects: {', '.join(projects)}"
            yield _finding("service_endpoint_shared", endpoint, "service_endpoints", detail)


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


def compute_findings(inv: Inventory, *, stale_days: int | None = None) -> list[Finding]:
    """Every finding of the inventory, in a stable order (kind, organization, project, item).

    ``stale_days`` defaults to the inventory's own (``report --stale-days``).
    """
    if stale_days is None:
        stale_days = inv.stale_days
    found: list[Finding] = []
    for org in inv.orgs:
        found.extend(error_findings(org))
        found.extend(pipeline_findings(inv, org))
        found.extend(repository_findings(inv, org))
        found.extend(activity_findings(inv, org, stale_days))
        found.extend(policy_findings(inv, org))
        found.extend(endpoint_findings(inv, org))
    return sorted(found, key=_order)


# ------------------------------------------------------------------ how to grant access

ADVICE_PROJECT = {
    "job": (
        "The pipeline's job access token is limited to its own project. In Project settings > "
        "Pipelines > Settings of the crawling pipeline's project, turn off \"Limit job "
        'authorization scope to current project for non-release pipelines"; when the '
        "organization-level equivalent is on (Organization settings > Pipelines > Settings, "
        "same name), turn it off there first, as it overrides the projects. Public projects are "
        'always limited. Alternatively add the "<project> Build Service (<organization>)" '
        "identity of the crawling project to the Readers group of each project listed."
    ),
    "pat": (
        "Give the personal access token the Code (Read) and Build (Read) scopes (plus Project "
        "and Team (Read)), and make its user a member of each project listed (Readers is enough)."
    ),
    "bearer": (
        "Make the Microsoft Entra identity a member of each project listed (Readers is enough)."
    ),
}
ADVICE_REPOSITORY = {
    "job": (
        '"Protect access to repositories in YAML pipelines" is on: the job access token '
        "reaches only the repositories the pipeline references. Turn it off in Project settings > "
        "Pipelines > Settings (and in Organization settings > Pipelines > Settings, which "
        "overrides it), or reference each repository in the crawling pipeline (resources: "
        "repositories), or grant the build service identity Read on those repositories."
    ),
    "pat": (
        "Give the personal access token the Code (Read) scope, and grant its user Read on "
        "those repositories (Project settings > Repositories > Security)."
    ),
    "bearer": (
        "Grant the Microsoft Entra identity Read on those repositories (Project settings > "
        "Repositories > Security)."
    ),
}
ADVICE_OTHER_CREDENTIALS = (
    "With a personal access token instead: the Code (Read) and Build (Read) scopes, and "
    "membership of each project."
)


def advice(kind: str, auth_kind: str) -> str:
    """How to let the token see what a not-visible finding of ``kind`` names."""
    table = ADVICE_REPOSITORY if kind == "repository_not_visible" else ADVICE_PROJECT
    text_ = table.get(auth_kind, table["pat"])
    if kind != "repository_not_visible" and auth_kind == "job":
        return f"{text_} {ADVICE_OTHER_CREDENTIALS}"
    return text_
