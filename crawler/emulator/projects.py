"""The seeded projects and the repository record: names, ids and the references items embed."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.emulator.seeded import JsonDict, draw_date, draw_guid, stable_rng

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

    @property
    def default_branch(self) -> str:
        """The default branch name (of a repository that has commits)."""
        return "refs/heads/main" if self.index % 3 else "refs/heads/master"


def project_name(seed: int, p: int) -> str:
    if p < len(_SPECIAL_PROJECT_NAMES):
        return _SPECIAL_PROJECT_NAMES[(p + seed) % len(_SPECIAL_PROJECT_NAMES)]
    rng = stable_rng(seed, "project-name", p)
    sep = rng.choice((" ", "-", "."))
    return f"{rng.choice(_PROJECT_WORDS_A)}{sep}{rng.choice(_PROJECT_WORDS_B)}{sep}{p:04d}"


def make_project(seed: int, p: int) -> Project:
    """Project ``p`` of the organization seeded with ``seed``."""
    rng = stable_rng(seed, "project", p)
    pid = draw_guid(rng)
    has_description = rng.random() < 0.7
    return Project(
        index=p,
        id=pid,
        name=project_name(seed, p),
        description=f"Project number {p}: {rng.choice(_PROJECT_WORDS_B)} work"
        if has_description
        else None,
        revision=rng.randrange(10, 900),
        visibility="public" if rng.random() < 0.15 else "private",
        last_update_time=draw_date(rng),
    )


def project_ref(project: Project, base: str) -> JsonDict:
    """The project reference embedded in repositories and definitions (no description)."""
    out = project.item(base)
    out.pop("description", None)
    return out


def short_ref(project: Project) -> JsonDict:
    """``{id, name}``: how wider items (and the crawl) name their project."""
    return {"id": project.id, "name": project.name}
