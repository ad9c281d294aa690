"""Ground truth of the emulated posture: every posture item as the crawl stores it, and the
risks the seed plants, named by the audit rule that must find each (for tests).

The planted risks are derived from the seeding functions of :mod:`crawler.emulator.posture`
and :mod:`crawler.emulator.posture_checks`, not from the audit's code, so a test comparing the
two checks the audit against the emulator.
"""

from __future__ import annotations

from typing import Any

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.posture import general_settings, secure_files
from crawler.emulator.posture_checks import (
    check_kinds,
    checks_on,
    is_production_like,
    open_to_all,
    pipeline_permissions,
    protected_resources,
)
from crawler.emulator.seeded import JsonDict
from crawler.emulator.wider import project_items


def posture_truth(config: EmulatorConfig, base_url: str, *, visible: bool = False) -> JsonDict:
    """Every posture resource as the crawl stores it (``visible``: only what the token reads)."""
    org = Org(config)
    base = base_url.rstrip("/")
    out: dict[str, list[JsonDict]] = {
        "pipeline_settings": [],
        "secure_files": [],
        "pipeline_permissions": [],
        "checks": [],
    }
    for project in org.projects():
        if visible and not org.project_visible(project):
            continue
        ref = {"id": project.id, "name": project.name}
        out["pipeline_settings"].append(
            general_settings(org, project) | {"id": project.id, "project": ref}
        )
        for item in secure_files(org, project, base):
            kept = {k: v for k, v in item.items() if k != "ticket"}
            out["secure_files"].append(kept | {"project": ref})
        for kind, rid, _ in protected_resources(org, project, base):
            if visible and kind == "endpoint" and not config.endpoints_readable:
                continue
            if visible and kind == "repository" and not org.repo_reachable(_repo(org, rid)):
                continue
            perm = pipeline_permissions(org, project, kind, rid, base)
            out["pipeline_permissions"].append(perm | {"id": f"{kind}/{rid}", "project": ref})
            for check in checks_on(org, project, kind, rid, base):
                out["checks"].append(stored_check(check) | {"project": ref})
    return out


def _repo(org: Org, composite: str) -> Any:
    repo = org.find_repository(composite.partition(".")[2])
    assert repo is not None
    return repo


def stored_check(check: JsonDict) -> JsonDict:
    """A check as the crawl stores it: without ``settings.inputs`` (a gate's inputs may hold
    a function key or a header value)."""
    out = dict(check)
    out["settings"] = {k: v for k, v in (out.get("settings") or {}).items() if k != "inputs"}
    return out


def planted_risks(config: EmulatorConfig, base_url: str) -> set[tuple[str, str, str]]:
    """(rule id, project id, resource id) of every risk the seeded posture plants, as an
    audit of a full, unscoped crawl must find them (resource id '' for project settings)."""
    org = Org(config)
    base = base_url.rstrip("/")
    found: set[tuple[str, str, str]] = set()
    settings_rules = {
        "enforceJobAuthScope": "job-scope-not-limited",
        "enforceJobAuthScopeForReleases": "job-scope-not-limited-releases",
        "enforceReferencedRepoScopedToken": "referenced-repos-not-enforced",
        "enforceSettableVar": "settable-variables-not-enforced",
        "statusBadgesArePrivate": "status-badges-public",
    }
    open_rules = {
        "endpoint": "endpoint-open-to-all-pipelines",
        "variablegroup": "variable-group-open-to-all-pipelines",
        "queue": "queue-open-to-all-pipelines",
        "environment": "environment-open-to-all-pipelines",
        "securefile": "secure-file-open-to-all-pipelines",
        "repository": "repository-open-to-all-pipelines",
    }
    for project in org.projects():
        settings = general_settings(org, project)
        for field, rule in settings_rules.items():
            if settings[field] is False:
                found.add((rule, project.id, ""))
        if settings["buildsEnabledForForks"] and (
            not settings["enforceNoAccessToSecretsFromForks"]
            or not settings["enforceJobAuthScopeForForks"]
        ):
            found.add(("fork-builds-unprotected", project.id, ""))
        for kind, rid, name in protected_resources(org, project, base):
            if open_to_all(org, project, kind, rid):
                found.add((open_rules[kind], project.id, rid))
            kinds = check_kinds(org, project, kind, rid, name)
            if kind == "environment" and is_production_like(name) and 0 not in kinds:
                found.add(("production-environment-without-approval", project.id, rid))
            if kind == "endpoint" and not kinds:
                found.add(("endpoint-without-checks", project.id, rid))
    for project in org.projects():
        for group in project_items(org, "variable_groups", project, base):
            secret = any(
                isinstance(v, dict) and v.get("isSecret") for v in group["variables"].values()
            )
            if group["type"] != "AzureKeyVault" and secret:
                found.add(
                    ("variable-group-secrets-outside-key-vault", project.id, str(group["id"]))
                )
    return found
