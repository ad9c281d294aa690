"""The seeded fake organization: projects, repositories, build definitions, and its ground truth.

Every item is a pure function of (seed, project index, kind, item index), so huge
organizations are generated lazily, project by project, and replay byte for byte.
Items carry no ``_links`` (the app adds them when serving) and take the base URL
(``scheme://host:port/org``) they are served under.
"""

from __future__ import annotations

import bisect
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.mutations import MutationPlan, build_plan

JsonDict = dict[str, Any]
T = TypeVar("T")

# Fields of a build definition that the list returns without includeAllProperties=true
# (DefinitionReference + BuildDefinitionReference in ado-spec/build.json).
REFERENCE_FIELDS = (
    "authoredBy",
    "createdDate",
    "drafts",
    "id",
    "name",
    "path",
    "project",
    "quality",
    "queue",
    "queueStatus",
    "revision",
    "type",
    "uri",
    "url",
)

# Names that exercise URL encoding: spaces, non-ASCII, '&' and '%'.
_SPECIAL_PROJECT_NAMES = (
    "Équipe Données",
    "Проект",
    "データ 基盤",
    "R&D Tools",
    "100% Uptime",
    "Fabrikam Fiber",
)
_PROJECT_WORDS_A = ("Contoso", "Northwind", "Tailspin", "Woodgrove", "Adventure", "Litware")
_PROJECT_WORDS_B = ("Web", "Platform", "Mobile", "Data", "Payments", "Identity", "Ops")
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
_FOLDERS = ("\\", "\\", "\\Team", "\\Team\\Sub", "\\Équipe", "\\Release Pipelines")
_PEOPLE = (
    ("Ada Lovelace", "ada@fabrikam.example"),
    ("Grace Hopper", "grace@fabrikam.example"),
    ("Józef Wiśniewski", "jozef@fabrikam.example"),
    ("Анна Петрова", "anna@fabrikam.example"),
    ("山田 太郎", "taro@fabrikam.example"),
    ("Alan Turing", "alan@fabrikam.example"),
)
_TASKS = (
    ("UseDotNet", "2.*"),
    ("DotNetCoreCLI", "2.*"),
    ("PublishBuildArtifacts", "1.*"),
    ("CmdLine", "2.*"),
    ("PowerShell", "2.*"),
    ("NuGetCommand", "2.*"),
)
_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
_TASK_IDS = {task: str(uuid.uuid5(uuid.NAMESPACE_URL, f"task:{task}")) for task, _ in _TASKS}
_OPTION_IDS = tuple(str(uuid.uuid5(uuid.NAMESPACE_URL, f"option:{k}")) for k in range(2))


class Draw:
    """Deterministic draws from a SHA-512 stream of a key: a fast stand-in for random.Random."""

    __slots__ = ("_block", "_key", "_pool")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block = 0
        self._pool = int.from_bytes(hashlib.sha512(key).digest(), "big")

    def _take(self, n: int) -> int:
        if self._pool < (1 << 96):
            self._block += 1
            block = self._key + b"\x1e" + str(self._block).encode()
            self._pool = int.from_bytes(hashlib.sha512(block).digest(), "big")
        self._pool, value = divmod(self._pool, n)
        return value

    def randrange(self, start: int, stop: int | None = None) -> int:
        """A number in ``range(start, stop)`` (or ``range(start)``)."""
        if stop is None:
            start, stop = 0, start
        return start + self._take(stop - start)

    def random(self) -> float:
        """A float in [0, 1)."""
        return self._take(1 << 24) / (1 << 24)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        return options[self._take(len(options))]

    def getrandbits(self, bits: int) -> int:
        """A ``bits``-bit number."""
        return self._take(1 << bits)


def stable_rng(seed: int, *parts: object) -> Draw:
    """Draws keyed by ``seed`` and ``parts``: the same arguments always give the same stream."""
    return Draw("\x1f".join([str(seed), *(str(p) for p in parts)]).encode("utf-8"))


@lru_cache(maxsize=65536)
def quote_segment(text: str) -> str:
    """``text`` percent-encoded as one URL path segment (cached: names repeat a lot)."""
    return quote(text, safe="")


def _guid(rng: Draw) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_DAYS = tuple((_EPOCH + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(2000))


def _date(rng: Draw, start_days: int = 0, span_days: int = 1500) -> str:
    day = _DAYS[start_days + rng.randrange(span_days)]
    second = rng.randrange(86400)
    millis = rng.randrange(1000)
    return f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.{millis:03d}Z"


@dataclass(frozen=True, slots=True)
class Project:
    """One generated project: its index in the listing and its ADO fields."""

    index: int
    id: str
    name: str
    description: str | None
    revision: int
    visibility: str
    last_update_time: str

    def item(self, base: str) -> JsonDict:
        """The TeamProjectReference as served under ``base``."""
        out: JsonDict = {
            "id": self.id,
            "name": self.name,
            "url": f"{base}/_apis/projects/{self.id}",
            "state": "wellFormed",
            "revision": self.revision,
            "visibility": self.visibility,
            "lastUpdateTime": self.last_update_time,
        }
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class Repository:
    """One generated git repository of a project."""

    project: int
    index: int
    id: str
    name: str
    hidden: bool
    empty: bool
    size: int
    is_disabled: bool
    fork_of: int | None  # index of the parent repository in the same project


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


def _project_name(seed: int, p: int) -> str:
    if p < len(_SPECIAL_PROJECT_NAMES):
        return _SPECIAL_PROJECT_NAMES[(p + seed) % len(_SPECIAL_PROJECT_NAMES)]
    rng = stable_rng(seed, "project-name", p)
    sep = rng.choice((" ", "-", "."))
    return f"{rng.choice(_PROJECT_WORDS_A)}{sep}{rng.choice(_PROJECT_WORDS_B)}{sep}{p:04d}"


def make_project(seed: int, p: int) -> Project:
    """Project ``p`` of the organization seeded with ``seed``."""
    rng = stable_rng(seed, "project", p)
    pid = _guid(rng)
    has_description = rng.random() < 0.7
    return Project(
        index=p,
        id=pid,
        name=_project_name(seed, p),
        description=f"Project number {p}: {rng.choice(_PROJECT_WORDS_B)} work"
        if has_description
        else None,
        revision=rng.randrange(10, 900),
        visibility="public" if rng.random() < 0.15 else "private",
        last_update_time=_date(rng),
    )


def project_ref(project: Project, base: str) -> JsonDict:
    """The project reference embedded in repositories and definitions (no description)."""
    out = project.item(base)
    out.pop("description", None)
    return out


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
        project_name = _project_name(self.seed, p)  # a project rename keeps repository names
        has_wiki = count >= 2 and stable_rng(self.seed, "wiki", p).random() < 0.4
        repos: list[Repository] = []
        for i in range(count):
            rng = stable_rng(self.seed, "repo", p, i)
            rid = _guid(rng)
            hidden = has_wiki and i == count - 1
            if i == 0:
                name = project_name
            elif hidden:
                name = f"{project_name}.wiki"
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
            item["defaultBranch"] = "refs/heads/main" if repo.index % 3 else "refs/heads/master"
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
        item = _build_definition(self, p, i, base)
        status = self.plan.queue_status.get((p, i))
        if status is not None:
            item["queueStatus"] = status
        return item

    def pipeline(self, p: int, i: int, base: str) -> JsonDict:
        """The Pipelines API view of definition ``i`` of project ``p``."""
        project = self.project(p)
        rng = stable_rng(self.seed, "def", p, i)
        did = self.definition_id(p, i)
        revision = rng.randrange(1, 60)
        return {
            "url": f"{base}/{project.id}/_apis/pipelines/{did}?revision={revision}",
            "id": did,
            "revision": revision,
            "name": self.definition_name(p, i),
            "folder": rng.choice(_FOLDERS),
        }


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


def name_key(name: str) -> str:
    """The sort key of definition names (case-insensitive, then exact)."""
    return f"{name.casefold()}\x00{name}"


@lru_cache(maxsize=256)
def _person_id(seed: int, k: int) -> str:
    return _guid(stable_rng(seed, "person", k))


def _identity(seed: int, k: int, base: str) -> JsonDict:
    display, unique = _PEOPLE[k % len(_PEOPLE)]
    ident = _person_id(seed, k)
    return {
        "displayName": display,
        "url": f"{base}/_apis/Identities/{ident}",
        "id": ident,
        "uniqueName": unique,
        "imageUrl": f"{base}/_api/_common/identityImage?id={ident}",
    }


def identity_with_links(identity: JsonDict, base: str) -> JsonDict:
    """An IdentityRef as served: with ``_links.avatar`` (the ground truth has no links)."""
    avatar = f"{base}/_apis/GraphProfile/MemberAvatars/aad.{identity['id']}"
    return {"_links": {"avatar": {"href": avatar}}, **identity}


def _build_definition(org: Org, p: int, i: int, base: str) -> JsonDict:
    rng = stable_rng(org.seed, "def", p, i)
    project = org.project(p)
    did = org.definition_id(p, i)
    revision = rng.randrange(1, 60)
    folder = rng.choice(_FOLDERS)  # drawn in the same order as Org.pipeline
    yaml = rng.random() < 0.7
    queue_kind = rng.randrange(2)
    queue_id = p * 4 + queue_kind + 1
    queue_name, pool_id, pool_name = (
        ("Azure Pipelines", 9, "Azure Pipelines") if queue_kind == 0 else ("Default", 1, "Default")
    )
    repo = org._definition_repo(p, i)
    secret_name = rng.choice(("apiKey", "deployPassword", "sonarToken"))
    variables: JsonDict = {
        "system.debug": {"value": "false", "allowOverride": True},
        "buildConfiguration": {"value": rng.choice(("Release", "Debug"))},
        "dotnetVersion": {"value": rng.choice(("6.x", "7.x", "8.x"))},
        secret_name: {"value": None, "isSecret": True},
    }
    branch_filters = ["+refs/heads/main"] + (
        ["+refs/heads/release/*"] if rng.random() < 0.5 else []
    )
    triggers: list[JsonDict] = [
        {
            "branchFilters": [] if yaml else branch_filters,
            "pathFilters": [] if yaml else ["+/src"],
            "settingsSourceType": 2 if yaml else 1,
            "batchChanges": rng.random() < 0.3,
            "maxConcurrentBuildsPerBranch": 1,
            "triggerType": "continuousIntegration",
        }
    ]
    if rng.random() < 0.3:
        triggers.append(
            {
                "schedules": [
                    {
                        "branchFilters": ["+refs/heads/main"],
                        "timeZoneId": "UTC",
                        "startHours": rng.randrange(24),
                        "startMinutes": 0,
                        "daysToBuild": 31,
                        "scheduleJobId": _guid(rng),
                        "scheduleOnlyWithChanges": True,
                    }
                ],
                "triggerType": "schedule",
            }
        )
    process: JsonDict
    if yaml:
        process = {"yamlFilename": rng.choice(("azure-pipelines.yml", "/ci/build.yml")), "type": 2}
    else:
        steps = []
        for k in range(rng.randrange(2, 5)):
            task, version = _TASKS[(i + k) % len(_TASKS)]
            steps.append(
                {
                    "environment": {},
                    "enabled": True,
                    "continueOnError": False,
                    "alwaysRun": False,
                    "displayName": f"{task} step {k + 1}",
                    "timeoutInMinutes": 0,
                    "retryCountOnTaskFailure": 0,
                    "condition": "succeeded()",
                    "task": {
                        "id": _TASK_IDS[task],
                        "versionSpec": version,
                        "definitionType": "task",
                    },
                    "inputs": {
                        "command": rng.choice(("build", "test", "publish")),
                        "projects": "**/*.csproj",
                        "arguments": "--configuration $(buildConfiguration)",
                        "workingDirectory": "",
                    },
                }
            )
        process = {
            "phases": [
                {
                    "steps": steps,
                    "name": "Agent job 1",
                    "refName": "Job_1",
                    "condition": "succeeded()",
                    "target": {
                        "executionOptions": {"type": 0},
                        "allowScriptsAuthAccessOption": False,
                        "type": 1,
                    },
                    "jobAuthorizationScope": "projectCollection",
                }
            ],
            "target": {"agentSpecification": {"identifier": "ubuntu-latest"}},
            "type": 1,
        }
    item: JsonDict = {
        "options": [
            {
                "enabled": rng.random() < 0.5,
                "definition": {"id": _OPTION_IDS[k]},
                "inputs": {"branchFilters": '["+refs/heads/*"]', "additionalFields": "{}"},
            }
            for k in range(2)
        ],
        "triggers": triggers,
        "variables": variables,
        "properties": {},
        "tags": [],
        "jobAuthorizationScope": "project" if rng.random() < 0.4 else "projectCollection",
        "jobTimeoutInMinutes": rng.choice((60, 60, 120, 0)),
        "jobCancelTimeoutInMinutes": 5,
        "badgeEnabled": rng.random() < 0.3,
        "process": process,
        "queue": {
            "id": queue_id,
            "name": queue_name,
            "url": f"{base}/_apis/build/Queues/{queue_id}",
            "pool": {"id": pool_id, "name": pool_name}
            | ({"isHosted": True} if queue_kind == 0 else {}),
        },
        "id": did,
        "name": org.definition_name(p, i),
        "url": f"{base}/{project.id}/_apis/build/Definitions/{did}?revision={revision}",
        "uri": f"vstfs:///Build/Definition/{did}",
        "path": folder,
        "type": "build",
        "queueStatus": rng.choice(("enabled",) * 6 + ("paused", "disabled")),
        "revision": revision,
        "createdDate": _date(rng, 200),
        "project": project_ref(project, base),
        "quality": "definition",
        "authoredBy": _identity(org.seed, rng.randrange(len(_PEOPLE)), base),
        "drafts": [],
        "buildNumberFormat": "$(date:yyyyMMdd)$(rev:.r)",
    }
    if not yaml:
        item["retentionRules"] = [
            {
                "branches": ["+refs/heads/*"],
                "artifacts": [],
                "artifactTypesToDelete": ["FilePath", "SymbolStore"],
                "daysToKeep": rng.choice((10, 30)),
                "minimumToKeep": 1,
                "deleteBuildRecord": True,
                "deleteTestResults": True,
            }
        ]
    if repo is not None:
        web = f"{base}/{quote_segment(project.name)}/_git/{quote_segment(repo.name)}"
        item["repository"] = {
            "properties": {
                "cleanOptions": "0",
                "labelSources": "0",
                "labelSourcesFormat": "$(build.buildNumber)",
                "reportBuildStatus": "true",
                "fetchDepth": str(rng.choice((0, 1))),
                "gitLfsSupport": "false",
                "skipSyncSource": "false",
                "checkoutNestedSubmodules": "false",
            },
            "id": repo.id,
            "type": "TfsGit",
            "name": repo.name,
            "url": web,
            "defaultBranch": "refs/heads/main",
            "clean": None if yaml else "false",
            "checkoutSubmodules": False,
        }
    return item


def definition_reference(full: JsonDict) -> JsonDict:
    """The list item without includeAllProperties: the reference subset of a full definition."""
    return {k: full[k] for k in REFERENCE_FIELDS if k in full}


# -- ground truth -------------------------------------------------------------------------


def _org_base(base_url: str) -> str:
    return base_url.rstrip("/")


def ground_truth(config: EmulatorConfig, base_url: str) -> JsonDict:
    """The whole organization (hidden repositories included, scopes ignored) as served minus
    ``_links``: keys ``projects``, ``repositories``, ``pipelines`` (full build definitions),
    and the wider resources of :func:`crawler.emulator.wider.wider_truth`."""
    from crawler.emulator.posture_truth import posture_truth  # posture builds on this module
    from crawler.emulator.wider import wider_truth  # wider builds on this module

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
    from crawler.emulator.posture_truth import posture_truth  # posture builds on this module
    from crawler.emulator.wider import wider_truth  # wider builds on this module

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
