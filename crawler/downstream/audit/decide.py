"""The audit's decisions: small pure functions from the fields of one item (and what it is
joined with) to the evidence of a finding, or None for a pass. The rule table
(:mod:`crawler.downstream.audit.rules`) names which rule uses which.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from crawler.downstream.report.model import STALE_DAYS, is_empty_repository, text
from crawler.downstream.report.wider import age_days, last_run, protects, shared_projects

Evidence = dict[str, Any]
APPROVAL_TYPE = "8c6f20a7-a545-4486-9777-f762fafe0d4d"  # check type "Approval"


def setting_off(name: str) -> Callable[[Mapping[str, Any]], Evidence | None]:
    def decide(settings: Mapping[str, Any]) -> Evidence | None:
        return {name: settings[name]} if settings.get(name) is False else None

    decide.__name__ = f"{name}_off"
    return decide


def badges_public(settings: Mapping[str, Any]) -> Evidence | None:
    value = settings.get("statusBadgesArePrivate")
    return {"statusBadgesArePrivate": value} if value is False else None


def fork_builds_unprotected(settings: Mapping[str, Any]) -> Evidence | None:
    if settings.get("buildsEnabledForForks") is not True:
        return None
    secrets = settings.get("enforceNoAccessToSecretsFromForks")
    scoped = settings.get("enforceJobAuthScopeForForks")
    if secrets is False or scoped is False:
        return {
            "buildsEnabledForForks": True,
            "enforceNoAccessToSecretsFromForks": secrets,
            "enforceJobAuthScopeForForks": scoped,
        }
    return None


def open_to_all(permission: Mapping[str, Any]) -> Evidence | None:
    everyone = permission.get("allPipelines")
    if isinstance(everyone, Mapping) and everyone.get("authorized") is True:
        by = everyone.get("authorizedBy")
        who = text(by.get("displayName")) if isinstance(by, Mapping) else text(by)
        return {
            "allPipelines.authorized": True,
            "authorizedBy": who,
            "authorizedOn": everyone.get("authorizedOn"),
        }
    return None


_PRODUCTION = re.compile(r"(?:^|[^a-z0-9])(prod\w*|prd|live)(?:$|[^a-z0-9])", re.IGNORECASE)


def is_production_like(name: str) -> bool:
    """An environment whose name says production (prod, production, prd, live)."""
    return bool(_PRODUCTION.search(name))


def is_approval(check: Mapping[str, Any]) -> bool:
    kind = check.get("type")
    if not isinstance(kind, Mapping) or check.get("isDisabled") is True:
        return False
    return (
        text(kind.get("id")).lower() == APPROVAL_TYPE
        or text(kind.get("name")).casefold() == "approval"
    )


def production_without_approval(
    environment: Mapping[str, Any], checks: Sequence[Mapping[str, Any]]
) -> Evidence | None:
    name = text(environment.get("name"))
    if not is_production_like(name) or any(is_approval(c) for c in checks):
        return None
    return {"name": name, "checks": sorted(text((c.get("type") or {}).get("name")) for c in checks)}


def without_checks(
    _resource: Mapping[str, Any], checks: Sequence[Mapping[str, Any]]
) -> Evidence | None:
    enabled = [c for c in checks if c.get("isDisabled") is not True]
    return None if enabled else {"checks": []}


def secrets_outside_key_vault(group: Mapping[str, Any]) -> Evidence | None:
    if group.get("type") == "AzureKeyVault":
        return None
    variables = group.get("variables")
    names = sorted(
        name
        for name, spec in (variables.items() if isinstance(variables, Mapping) else ())
        if isinstance(spec, Mapping) and spec.get("isSecret") is True
    )
    return {"type": group.get("type"), "secret_variables": names} if names else None


def endpoint_shared(endpoint: Mapping[str, Any]) -> Evidence | None:
    projects = shared_projects(endpoint)
    if len(projects) > 1 or endpoint.get("isShared") is True:
        return {"isShared": endpoint.get("isShared"), "projects": projects}
    return None


def unprotected(repo: Mapping[str, Any], policies: Sequence[Mapping[str, Any]]) -> Evidence | None:
    if repo.get("isDisabled") is True or repo.get("isHidden") is True:
        return None
    if is_empty_repository(repo):
        return None
    branch, repo_id = text(repo.get("defaultBranch")), text(repo.get("id"))
    if any(protects(p, repo_id, branch) for p in policies):
        return None
    return {"defaultBranch": branch, "blocking_policies": 0}


def stale(
    pipeline: Mapping[str, Any], now: datetime | None, stale_days: int = STALE_DAYS
) -> Evidence | None:
    when = last_run(pipeline)
    if when is None:
        return {"last_run": None}
    age = age_days(when, now)
    if age is not None and age >= stale_days:
        return {"last_run": when, "days_before_snapshot": age}
    return None
