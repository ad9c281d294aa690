"""The wider resources in reports: one table definition per resource key, shared by the Markdown,
CSV and HTML renderers, and the pure date and policy helpers the audit findings use.

A table appears only when the snapshot has its resource key (the crawl was asked for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawler.downstream.report.model import Inventory, Item, project_of, text

REQUIRED_REVIEWERS = "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd"
BUILD_VALIDATION = "0609b952-1397-4640-95ec-e00a01b2c241"
PROTECTING_POLICIES = frozenset({REQUIRED_REVIEWERS, BUILD_VALIDATION})


def parse_time(value: Any) -> datetime | None:
    """An ADO or snapshot timestamp (RFC 3339, 'Z' or offset) as aware UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def age_days(value: Any, now: datetime | None) -> int | None:
    """Whole days from ``value`` to ``now`` (the snapshot's finished_at), or None if unknown."""
    when = parse_time(value)
    if when is None or now is None:
        return None
    return (now - when).days


def _get(item: Item, *path: str) -> Any:
    value: Any = item
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def last_run(pipeline: Item) -> str | None:
    """When the pipeline's latest (completed) build finished, else when it was queued."""
    for key in ("latestCompletedBuild", "latestBuild"):
        build = pipeline.get(key)
        if isinstance(build, Mapping):
            for field in ("finishTime", "startTime", "queueTime"):
                if isinstance(build.get(field), str):
                    return str(build[field])
    return None


def has_build_data(pipelines: Sequence[Item]) -> bool:
    """True when the crawl asked for latest builds (some pipeline carries one)."""
    return any(
        isinstance(p.get("latestBuild"), Mapping)
        or isinstance(p.get("latestCompletedBuild"), Mapping)
        for p in pipelines
    )


def _branch_matches(scope: Mapping[str, Any], branch: str) -> bool:
    ref = scope.get("refName")
    if not isinstance(ref, str) or not ref:
        return True  # no branch named: every branch
    if scope.get("matchKind", "exact") == "prefix":
        return branch.startswith(ref)
    return branch == ref


def protects(policy: Item, repo_id: str, branch: str) -> bool:
    """An enabled, blocking required-reviewer or build-validation policy on ``repo_id``'s
    ``branch`` (a scope without repositoryId covers every repository of the project)."""
    type_id = text(_get(policy, "type", "id")).lower()
    if type_id not in PROTECTING_POLICIES:
        return False
    if policy.get("isEnabled") is not True or policy.get("isBlocking") is not True:
        return False
    if policy.get("isDeleted") is True:
        return False
    scopes = _get(policy, "settings", "scope")
    if not isinstance(scopes, list):
        return False
    for scope in scopes:
        if not isinstance(scope, Mapping):
            continue
        repo = scope.get("repositoryId")
        if (repo is None or text(repo).lower() == repo_id.lower()) and _branch_matches(
            scope, branch
        ):
            return True
    return False


def shared_projects(endpoint: Item) -> list[str]:
    """Names (else ids) of the projects a service endpoint is shared with, sorted."""
    names = set()
    refs = endpoint.get("serviceEndpointProjectReferences")
    for ref in refs if isinstance(refs, list) else []:
        project = ref.get("projectReference") if isinstance(ref, Mapping) else None
        if isinstance(project, Mapping):
            names.add(text(project.get("name")) or text(project.get("id")))
    return sorted(names, key=lambda n: (n.casefold(), n))


# -- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a wider-resource table: header, CSV name, numeric, how to read it."""

    header: str
    csv: str
    get: Callable[[Item], Any]
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """The report table of one wider resource key."""

    key: str
    title: str
    columns: tuple[Column, ...]


def _col(header: str, csv: str, *path: str, numeric: bool = False) -> Column:
    return Column(header, csv, lambda item: _get(item, *path), numeric)


def _variable_counts(item: Item) -> tuple[int, int]:
    variables = item.get("variables")
    if not isinstance(variables, Mapping):
        return 0, 0
    secrets = sum(1 for v in variables.values() if isinstance(v, Mapping) and v.get("isSecret"))
    return len(variables), secrets


def _policy_scope(item: Item) -> str:
    scopes = _get(item, "settings", "scope")
    parts = []
    for scope in scopes if isinstance(scopes, list) else []:
        if isinstance(scope, Mapping):
            repo = text(scope.get("repositoryId")) or "(all repositories)"
            parts.append(f"{repo}:{text(scope.get('refName')) or '(all branches)'}")
    return "; ".join(parts)


_PROJECT = Column("Project", "project", lambda item: project_of(item)[1])
_NAME = _col("Name", "name", "name")
_ID = _col("Id", "id", "id")

TABLES: tuple[Table, ...] = (
    Table(
        "release_definitions",
        "Release definitions",
        (
            _PROJECT,
            _ID,
            _NAME,
            _col("Folder", "path", "path"),
            _col("Last release", "last_release", "lastRelease", "name"),
            _col("Last released", "last_release_created_on", "lastRelease", "createdOn"),
            _col("Modified", "modified_on", "modifiedOn"),
        ),
    ),
    Table(
        "variable_groups",
        "Variable groups",
        (
            _PROJECT,
            _ID,
            _NAME,
            _col("Type", "type", "type"),
            _col("Description", "description", "description"),
            Column("Variables", "variables", lambda i: _variable_counts(i)[0], True),
            Column("Secret variables", "secret_variables", lambda i: _variable_counts(i)[1], True),
        ),
    ),
    Table(
        "service_endpoints",
        "Service connections",
        (
            _PROJECT,
            _NAME,
            _col("Type", "type", "type"),
            _col("Owner", "owner", "owner"),
            _col("Scheme", "scheme", "authorization", "scheme"),
            _col("Shared", "is_shared", "isShared"),
            _col("Ready", "is_ready", "isReady"),
            Column("Projects", "projects", lambda i: ", ".join(shared_projects(i))),
            _col("Id", "id", "id"),
        ),
    ),
    Table(
        "environments",
        "Environments",
        (_PROJECT, _ID, _NAME, _col("Modified", "last_modified_on", "lastModifiedOn")),
    ),
    Table(
        "queues",
        "Agent queues",
        (
            _PROJECT,
            _ID,
            _NAME,
            _col("Pool", "pool", "pool", "name"),
            _col("Pool id", "pool_id", "pool", "id", numeric=True),
            _col("Hosted", "is_hosted", "pool", "isHosted"),
        ),
    ),
    Table(
        "policies",
        "Policies",
        (
            _PROJECT,
            _ID,
            _col("Type", "type", "type", "displayName"),
            _col("Enabled", "is_enabled", "isEnabled"),
            _col("Blocking", "is_blocking", "isBlocking"),
            Column("Scope (repository:branch)", "scope", _policy_scope),
        ),
    ),
    Table(
        "repository_activity",
        "Repository activity",
        (
            _PROJECT,
            _NAME,
            _col("Default branch", "default_branch", "defaultBranch"),
            _col("Last commit", "last_commit_date", "lastCommit", "committer", "date"),
            _col("Commit", "last_commit_id", "lastCommit", "commitId"),
            _col("Id", "repository_id", "id"),
        ),
    ),
)


def present_tables(inv: Inventory) -> list[Table]:
    """The tables of the wider resources this inventory has (its crawl asked for them)."""
    return [table for table in TABLES if table.key in inv.items]


def rows(inv: Inventory, table: Table) -> Iterator[list[Any]]:
    """The table's rows (organization first), in the snapshot's order, one item at a time."""
    for item in inv.of(table.key):
        yield [item.get("organization"), *(column.get(item) for column in table.columns)]
