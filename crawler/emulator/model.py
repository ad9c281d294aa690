"""The seeded fake organization (``Org``): projects, repositories and build definitions, lazily
generated per project, with the configured mutations applied on top.

Every item is a pure function of (seed, project index, kind, item index), so huge
organizations are generated lazily, project by project, and replay byte for byte.
Items carry no ``_links`` (the app adds them when serving) and take the base URL
(``scheme://host:port/org``) they are served under.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.definitions import build_definition, name_key, pipeline_item
from crawler.emulator.mutations import MutationPlan, build_plan
from crawler.emulator.projects import (
    Project,
    Repository,
    make_project,
    project_name,
    project_ref,
)
from crawler.emulator.seeded import JsonDict, draw_guid, quote_segment, stable_rng

_REPO_WORDS = (
    "api-gateway",
    "web frontend",
    "infra",
    "données-pipeline",
    "shared.libs",
    "docs",
    "mobile_app",
    "ツール",
)
_DEFINITION_TEMPLATES = (
    "{repo} CI {i}",
    "{repo}-nightly-{i}",
    "C++ build {i}",
    "Release #{i}",
    "Déploiement {i}",
    "ビルド {i}",
    "100% coverage {i}",
    "deploy & verify {i}",
)


class Org:
    """Lazy view of one seeded organization; cheap to create, caches per-project orderings."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.seed = config.seed
        self._projects: dict[int, Project] = {}
        self._repos: dict[int, list[Repository]] = {}
        self._def_order: dict[int, tuple[list[str], list[int]]] = {}
        self._def_names: dict[int, list[str]] = {}
        self._build_repos: dict[int, list[Repository]] = {}
        self._generated_repos: dict[int, list[Repository]] = {}
        self.plan = build_plan(config.mutations)

    # -- projects -------------------------------------------------------------------------
    @property
    def project_count(self) -> int:
        """How many projects the organization has."""
        return self.config.projects

    def project(self, p: int) -> Project:
        """Project number ``p`` (listing order)."""
        found = self._projects.get(p)
        if found is None:
            found = self._projects[p] = _mutate_project(self.plan, make_project(self.seed, p))
        return found

    def projects(self) -> Iterator[Project]:
        """Every project, in listing order."""
        for p in range(self.project_count):
            yield self.project(p)

    @cached_property
    def _project_lookup(self) -> dict[str, int]:
        lookup: dict[str, int] = {}
        for proj in self.projects():
            lookup[proj.name.casefold()] = proj.index
            lookup[proj.id.lower()] = proj.index
        return lookup

    def find_project(self, name_or_id: str) -> Project | None:
        """The project named (case-insensitively) or identified by ``name_or_id``."""
        p = self._project_lookup.get(name_or_id.casefold())
        if p is None:
            p = self._project_lookup.get(name_or_id.lower())
        return None if p is None else self.project(p)

    def project_visible(self, project: Project) -> bool:
        """Can the configured token read inside this project?"""
        scoped = self.config.scoped_project
        return scoped is None or scoped.casefold() == project.name.casefold()

    def listed_projects(self) -> list[Project]:
        """The projects ``_apis/projects`` lists to the configured token."""
        every = list(self.projects())
        if self.config.scoped_project is None or self.config.list_all_projects:
            return every
        return [p for p in every if self.project_visible(p)]

    # -- repositories ---------------------------------------------------------------------
    def repositories(self, p: int) -> list[Repository]:
        """Every repository of project ``p`` (hidden included), in listing order (by name)."""
        found = self._repos.get(p)
        if found is None:
            found = self._repos[p] = _mutate_repositories(self.plan, p, self._generated(p))
        return found

    def _generated(self, p: int) -> list[Repository]:
        """The repositories of project ``p`` as generated, before any mutation."""
        found = self._generated_repos.get(p)
        if found is None:
            found = self._generated_repos[p] = self._make_repositories(p)
        return found

    def _make_repositories(self, p: int) -> list[Repository]:
        count = self.config.repos_per_project
        home = project_name(self.seed, p)  # a project rename keeps repository names
        has_wiki = count >= 2 and stable_rng(self.seed, "wiki", p).random() < 0.4
        repos: list[Repository] = []
        for i in range(count):
            rng = stable_rng(self.seed, "repo", p, i)
            rid = draw_guid(rng)
            hidden = has_wiki and i == count - 1
            if i == 0:
                name = home
            elif hidden:
                name = f"{home}.wiki"
            else:
                name = f"{_REPO_WORDS[(i + p) % len(_REPO_WORDS)]}-{i}"
            empty = i > 0 and not hidden and rng.random() < 0.12
            fork = i >= 2 and not hidden and not empty and rng.random() < 0.15
            repos.append(
                Repository(
                    project=p,
                    index=i,
                    id=rid,
                    name=name,
                    hidden=hidden,
                    empty=empty,
                    size=0 if empty else rng.randrange(1_000, 900_000_000),
                    is_disabled=i > 0 and not hidden and rng.random() < 0.08,
                    fork_of=0 if fork else None,
                )
            )
        return sorted(repos, key=lambda r: (r.name.casefold(), r.name))

    def repository_by_index(self, p: int, i: int) -> Repository:
        """Repository number ``i`` (generation order) of project ``p``."""
        for repo in (*self.repositories(p), *self._generated(p)):  # a removed one: as generated
            if repo.index == i:
                return repo
        raise IndexError(i)

    @cached_property
    def _repo_lookup(self) -> dict[str, Repository]:
        return {r.id: r for p in range(self.project_count) for r in self.repositories(p)}

    def find_repository(self, repo_id: str, project: Project | None = None) -> Repository | None:
        """A repository by id (anywhere, or within ``project``) or by name within ``project``."""
        if project is not None:
            for repo in self.repositories(project.index):
                if repo.id == repo_id.lower() or repo.name.casefold() == repo_id.casefold():
                    return repo
            return None
        return self._repo_lookup.get(repo_id.lower())

    def repo_reachable(self, repo: Repository) -> bool:
        """Can the configured token read this repository (scope and protection)?"""
        if not self.project_visible(self.project(repo.project)):
            return False
        share = self.config.reachable_repo_share
        return share is None or repo.index in self._reachable_indices(repo.project, share)

    def _reachable_indices(self, p: int, share: float) -> frozenset[int]:
        repos = sorted(self.repositories(p), key=lambda r: r.index)
        scores = [(stable_rng(self.seed, "reach", p, r.index).random(), r.index) for r in repos]
        chosen = {i for score, i in scores if score < share}
        if share < 1 and len(repos) > 1 and len(chosen) == len(repos):
            chosen.discard(max(scores)[1])
        if share > 0 and not chosen and repos:
            chosen.add(min(scores)[1])
        return frozenset(chosen)

    def repository_item(self, repo: Repository, base: str) -> JsonDict:
        """The GitRepository as served under ``base``."""
        project = self.project(repo.project)
        host = base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        web = f"{base}/{quote_segment(project.name)}/_git/{quote_segment(repo.name)}"
        item: JsonDict = {
            "id": repo.id,
            "name": repo.name,
            "url": f"{base}/{project.id}/_apis/git/repositories/{repo.id}",
            "project": project_ref(project, base),
            "size": repo.size,
            "remoteUrl": web,
            "sshUrl": f"git@ssh.{host}:v3/{quote_segment(self.config.org)}/"
            f"{quote_segment(project.name)}/{quote_segment(repo.name)}",
            "webUrl": web,
            "isDisabled": repo.is_disabled,
            "isInMaintenance": False,
            "isFork": repo.fork_of is not None,
        }
        if not repo.empty:
            item["defaultBranch"] = repo.default_branch
        if repo.fork_of is not None:
            parent = self.repository_by_index(repo.project, repo.fork_of)
            item["parentRepository"] = {
                "id": parent.id,
                "name": parent.name,
                "url": f"{base}/{project.id}/_apis/git/repositories/{parent.id}",
                "project": project_ref(project, base),
                "isFork": False,
            }
        return item

    # -- build definitions and pipelines --------------------------------------------------
    def definition_id(self, p: int, i: int) -> int:
        """The org-unique integer id of definition ``i`` of project ``p``."""
        per = self.config.pipelines_per_project
        if i < per:
            return p * per + i + 1
        return self.config.projects * per + self.plan.added_before(p) + i - per + 1

    def definition_count(self, p: int) -> int:
        """How many definitions project ``p`` has had (generated plus added by mutations)."""
        return self.config.pipelines_per_project + self.plan.added_pipelines.get(p, 0)

    def definition_name(self, p: int, i: int) -> str:
        """The name of definition ``i`` of project ``p`` (unique within the project)."""
        names = self._def_names.get(p)
        if names is None:
            names = self._def_names[p] = [
                self._make_definition_name(p, k) for k in range(self.definition_count(p))
            ]
        return names[i]

    def _make_definition_name(self, p: int, i: int) -> str:
        rng = stable_rng(self.seed, "def-name", p, i)
        template = rng.choice(_DEFINITION_TEMPLATES)
        repo = self._definition_repo(p, i)
        return template.format(repo=repo.name if repo else "build", i=i)

    def _definition_repo(self, p: int, i: int) -> Repository | None:
        candidates = self._build_repos.get(p)
        if candidates is None:
            candidates = self._build_repos[p] = sorted(
                (r for r in self._generated(p) if not r.hidden), key=lambda r: r.index
            )
        return candidates[i % len(candidates)] if candidates else None

    def definition_order(self, p: int) -> tuple[list[str], list[int]]:
        """Sort keys and definition indices of project ``p`` in listing order (by name)."""
        found = self._def_order.get(p)
        if found is None:
            named = sorted(
                (name_key(self.definition_name(p, i)), i)
                for i in range(self.definition_count(p))
                if (p, i) not in self.plan.removed_pipelines
            )
            found = self._def_order[p] = ([k for k, _ in named], [i for _, i in named])
        return found

    def definition_start(self, p: int, token: str) -> int:
        """Listing position of the first definition whose name sorts at or after ``token``."""
        keys, _ = self.definition_order(p)
        return bisect.bisect_left(keys, name_key(token))

    def definition(self, p: int, i: int, base: str) -> JsonDict:
        """The full build definition (includeAllProperties=true) as served under ``base``."""
        repo = self._definition_repo(p, i)
        did, name = self.definition_id(p, i), self.definition_name(p, i)
        item = build_definition(self.seed, self.project(p), i, did, name, repo, base)
        status = self.plan.queue_status.get((p, i))
        if status is not None:
            item["queueStatus"] = status
        return item

    def pipeline(self, p: int, i: int, base: str) -> JsonDict:
        """The Pipelines API view of definition ``i`` of project ``p``."""
        did, name = self.definition_id(p, i), self.definition_name(p, i)
        return pipeline_item(self.seed, self.project(p), i, did, name, base)


# -- mutations (crawler/emulator/mutations.py): known changes on top of the seeded org ------


def _mutate_project(plan: MutationPlan, project: Project) -> Project:
    """``project`` with its rename applied, if ``plan`` renames it."""
    if project.index not in plan.project_names:
        return project
    name = plan.project_names[project.index] or f"{project.name} renamed"
    return replace(project, name=name)


def _mutate_repositories(plan: MutationPlan, p: int, repos: list[Repository]) -> list[Repository]:
    """Project ``p``'s repositories with renames, removals and disables applied, re-sorted."""
    if not plan.touches_repositories(p):
        return repos
    out = []
    for repo in repos:
        key = (p, repo.index)
        if key in plan.removed_repos:
            continue
        if key in plan.repo_names:
            repo = replace(repo, name=plan.repo_names[key] or f"{repo.name}-renamed")
        if key in plan.disabled_repos:
            repo = replace(repo, is_disabled=True)
        out.append(repo)
    return sorted(out, key=lambda r: (r.name.casefold(), r.name))
