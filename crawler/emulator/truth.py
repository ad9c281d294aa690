"""The ground truth of the whole emulated organization: every resource as served minus ``_links``,
what a (scoped) token can list, and the scopes it cannot read."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.model import Org
from crawler.emulator.posture_truth import posture_truth
from crawler.emulator.seeded import JsonDict
from crawler.emulator.wider_truth import wider_truth


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A scope the configured token cannot read: a whole project, or one repository."""

    level: str  # "project" | "repository"
    project_id: str
    project_name: str
    repository_id: str | None = None
    repository_name: str | None = None

    def as_dict(self) -> JsonDict:
        """Plain JSON form (sorted-key friendly)."""
        out: JsonDict = {
            "level": self.level,
            "project": {"id": self.project_id, "name": self.project_name},
        }
        if self.repository_id is not None:
            out["repository"] = {"id": self.repository_id, "name": self.repository_name}
        return out


def _org_base(base_url: str) -> str:
    return base_url.rstrip("/")


def ground_truth(config: EmulatorConfig, base_url: str) -> JsonDict:
    """The whole organization (hidden repositories included, scopes ignored) as served minus
    ``_links``: keys ``projects``, ``repositories``, ``pipelines`` (full build definitions),
    and the wider resources of :func:`crawler.emulator.wider_truth.wider_truth`."""

    org = Org(config)
    base = _org_base(base_url)
    projects = list(org.projects())
    return (
        wider_truth(config, base_url)
        | posture_truth(config, base_url)
        | {
            "projects": [p.item(base) for p in projects],
            "repositories": [
                org.repository_item(r, base) for p in projects for r in org.repositories(p.index)
            ],
            "pipelines": [
                org.definition(p.index, i, base)
                for p in projects
                for i in org.definition_order(p.index)[1]
            ],
        }
    )


def visible_ground_truth(config: EmulatorConfig, base_url: str) -> JsonDict:
    """What the configured (possibly scoped) token can list, plus the ``unreachable`` scopes."""

    org = Org(config)
    base = _org_base(base_url)
    inside = [p for p in org.projects() if org.project_visible(p)]
    posture = posture_truth(config, base_url, visible=True)
    return (
        wider_truth(config, base_url, visible=True)
        | posture
        | {
            "projects": [p.item(base) for p in org.listed_projects()],
            "repositories": [
                org.repository_item(r, base)
                for p in inside
                for r in org.repositories(p.index)
                if org.repo_reachable(r)
            ],
            "pipelines": [
                org.definition(p.index, i, base)
                for p in inside
                for i in org.definition_order(p.index)[1]
            ],
            "unreachable": [u.as_dict() for u in unreachable_scopes(config)],
        }
    )


def unreachable_scopes(config: EmulatorConfig) -> list[Unreachable]:
    """Every project and repository the configured token cannot read, in listing order."""
    org = Org(config)
    out: list[Unreachable] = []
    for project in org.projects():
        if not org.project_visible(project):
            out.append(Unreachable("project", project.id, project.name))
            continue
        for repo in org.repositories(project.index):
            if not org.repo_reachable(repo):
                out.append(Unreachable("repository", project.id, project.name, repo.id, repo.name))
    return out
