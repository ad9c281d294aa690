"""Known changes on top of a seeded organization, so two emulated orgs differ predictably.

``EmulatorConfig.mutations`` (and the emulator's repeatable ``--mutation``) holds specs
``KIND:ARGS``; indices are 0-based in *generation* order (not listing order):

    rename-project:P[:NAME]   project P is called NAME (default "<name> renamed"); same id
    rename-repo:P:R[:NAME]    repository R of project P is called NAME (default "<name>-renamed")
    remove-repo:P:R           repository R of project P is gone (lists skip it; reads 404)
    disable-repo:P:R          repository R of project P has isDisabled: true
    add-pipelines:P:N         N more build definitions in project P, after the generated ones,
                              with ids above every generated id
    remove-pipeline:P:I       build definition I of project P is gone
    pause-pipeline:P:I        build definition I of project P has queueStatus "paused"
    disable-pipeline:P:I      build definition I of project P has queueStatus "disabled"

Definitions keep the repository reference they were generated with (ADO stores the name in the
definition), and a project rename does not rename its default repository (nor does ADO), so each
mutation changes only the items it names, with two cascades that ADO has too: a project rename
changes the project reference (and web URLs) in that project's repositories and definitions, and
renaming repository 0 (every fork's parent) changes the forks' ``parentRepository.name``.
Later specs win over earlier ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MAX_ADDED_PIPELINES = 10_000
_ARG_NAMES = {"R": "R (repository index)", "I": "I (definition index)", "N": "N (how many)"}

# kind -> (argument names after P, whether a trailing NAME is allowed)
KINDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "rename-project": ((), True),
    "rename-repo": (("R",), True),
    "remove-repo": (("R",), False),
    "disable-repo": (("R",), False),
    "add-pipelines": (("N",), False),
    "remove-pipeline": (("I",), False),
    "pause-pipeline": (("I",), False),
    "disable-pipeline": (("I",), False),
}


@dataclass(frozen=True, slots=True)
class Mutation:
    """One parsed spec: its kind, project index, item index or count, and optional new name."""

    kind: str
    project: int
    number: int | None = None  # R, I or N
    name: str | None = None


def usage(kind: str) -> str:
    """The spec syntax of ``kind``, e.g. ``rename-repo:P:R[:NAME]``."""
    args, named = KINDS[kind]
    return ":".join((kind, "P", *args)) + ("[:NAME]" if named else "")


def _number(text: str, what: str, spec: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{spec!r}: {what} must be a number 0 or more, got {text!r}")
    return int(text)


def parse_mutation(spec: str) -> Mutation:
    """Parse one ``KIND:ARGS`` spec; ValueError says what is wrong and shows the syntax."""
    kind, _, rest = spec.strip().partition(":")
    if kind not in KINDS:
        raise ValueError(f"{spec!r}: unknown mutation {kind!r}; choose from {', '.join(KINDS)}")
    args, named = KINDS[kind]
    parts = rest.split(":", len(args) + 1) if rest else []
    if len(parts) < 1 + len(args) or (len(parts) > 1 + len(args) and not named):
        raise ValueError(f"{spec!r}: expected {usage(kind)}")
    project = _number(parts[0], "P (project index)", spec)
    number = _number(parts[1], _ARG_NAMES[args[0]], spec) if args else None
    name = parts[1 + len(args)].strip() if len(parts) > 1 + len(args) else None
    if name is not None and (not name or "/" in name or "\\" in name):
        raise ValueError(f"{spec!r}: NAME must be non-empty, without '/' or '\\'")
    if kind == "add-pipelines" and not 1 <= (number or 0) <= MAX_ADDED_PIPELINES:
        raise ValueError(f"{spec!r}: N must be 1..{MAX_ADDED_PIPELINES}, got {number}")
    return Mutation(kind, project, number, name)


@dataclass(frozen=True, slots=True)
class MutationPlan:
    """Every mutation of one organization, indexed for the model's lookups."""

    project_names: Mapping[int, str | None] = field(default_factory=dict)
    repo_names: Mapping[tuple[int, int], str | None] = field(default_factory=dict)
    removed_repos: frozenset[tuple[int, int]] = frozenset()
    disabled_repos: frozenset[tuple[int, int]] = frozenset()
    added_pipelines: Mapping[int, int] = field(default_factory=dict)
    removed_pipelines: frozenset[tuple[int, int]] = frozenset()
    queue_status: Mapping[tuple[int, int], str] = field(default_factory=dict)

    def touches_repositories(self, p: int) -> bool:
        """Does any mutation change the repositories of project ``p``?"""
        keys = (*self.repo_names, *self.removed_repos, *self.disabled_repos)
        return any(key[0] == p for key in keys)

    def added_before(self, p: int) -> int:
        """How many definitions were added to the projects before ``p``."""
        return sum(n for q, n in self.added_pipelines.items() if q < p)


def build_plan(specs: Iterable[str]) -> MutationPlan:
    """Parse every spec into one plan (ValueError on the first bad one)."""
    project_names: dict[int, str | None] = {}
    repo_names: dict[tuple[int, int], str | None] = {}
    removed_repos: set[tuple[int, int]] = set()
    disabled_repos: set[tuple[int, int]] = set()
    added: dict[int, int] = {}
    removed_pipelines: set[tuple[int, int]] = set()
    status: dict[tuple[int, int], str] = {}
    for spec in specs:
        m = parse_mutation(spec)
        key = (m.project, m.number if m.number is not None else 0)
        if m.kind == "rename-project":
            project_names[m.project] = m.name
        elif m.kind == "rename-repo":
            repo_names[key] = m.name
        elif m.kind == "remove-repo":
            removed_repos.add(key)
        elif m.kind == "disable-repo":
            disabled_repos.add(key)
        elif m.kind == "add-pipelines":
            added[m.project] = added.get(m.project, 0) + key[1]
        elif m.kind == "remove-pipeline":
            removed_pipelines.add(key)
        else:
            status[key] = "paused" if m.kind == "pause-pipeline" else "disabled"
    return MutationPlan(
        project_names,
        repo_names,
        frozenset(removed_repos),
        frozenset(disabled_repos),
        added,
        frozenset(removed_pipelines),
        status,
    )


def check_mutations(
    specs: Iterable[str], *, projects: int, repos_per_project: int, pipelines_per_project: int
) -> list[str]:
    """Problems with ``specs`` for an organization of this size (empty when all are valid)."""
    problems: list[str] = []
    parsed: list[tuple[str, Mutation]] = []
    for spec in specs:
        try:
            parsed.append((spec, parse_mutation(spec)))
        except ValueError as exc:
            problems.append(str(exc))
    added: dict[int, int] = {}
    for _, m in parsed:
        if m.kind == "add-pipelines" and m.number is not None:
            added[m.project] = added.get(m.project, 0) + m.number
    for spec, m in parsed:
        if m.project >= projects:
            problems.append(f"{spec!r}: project index {m.project} is not below {projects}")
            continue
        if m.kind.endswith("-repo") and m.number is not None and m.number >= repos_per_project:
            problems.append(
                f"{spec!r}: repository index {m.number} is not below {repos_per_project}"
            )
        if m.kind.endswith("-pipeline") and m.number is not None:
            count = pipelines_per_project + added.get(m.project, 0)
            if m.number >= count:
                problems.append(f"{spec!r}: definition index {m.number} is not below {count}")
    return problems
