"""The ground truth of the wider resources: every item as the crawl stores it, with its listing
project, and the newest commit per repository."""

from __future__ import annotations

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.projects import Project, short_ref
from crawler.emulator.seeded import JsonDict
from crawler.emulator.wider import WIDER_KEYS, WIDER_PATHS, project_items
from crawler.emulator.wider_activity import last_commits


def _with_project(item: JsonDict, project: Project) -> JsonDict:
    if isinstance(item.get("project"), dict):
        return item
    return {**item, "project": short_ref(project)}


def wider_truth(
    config: EmulatorConfig,
    base_url: str,
    *,
    visible: bool = False,
    release_expand: bool = False,
) -> dict[str, list[JsonDict]]:
    """Every wider resource as served (minus ``_links``), each item with its listing project's
    ``project`` {id, name} (as the crawl adds it); ``visible`` keeps only what the token reads."""
    org = Org(config)
    base = base_url.rstrip("/")
    projects = [p for p in org.projects() if not visible or org.project_visible(p)]
    out: dict[str, list[JsonDict]] = {key: [] for key in WIDER_KEYS}
    for project in projects:
        for kind in WIDER_PATHS.values():
            if visible and kind == "service_endpoints" and not config.endpoints_readable:
                continue
            items = project_items(org, kind, project, base, expand=release_expand)
            out[kind] += [_with_project(item, project) for item in items]
        for repo in org.repositories(project.index):
            if repo.empty or repo.is_disabled or (visible and not org.repo_reachable(repo)):
                continue
            commits = last_commits(org, repo, base)
            out["repository_activity"].append(
                {
                    "id": repo.id,
                    "name": repo.name,
                    "project": short_ref(project),
                    "defaultBranch": repo.default_branch,
                    "lastCommit": _stored_commit(commits[0]) if commits else None,
                }
            )
    return out


def _stored_commit(commit: JsonDict) -> JsonDict:
    """A commit as the crawl stores it: no ``_links``, no free-text ``comment``."""
    return {k: v for k, v in commit.items() if k not in ("_links", "comment")}
