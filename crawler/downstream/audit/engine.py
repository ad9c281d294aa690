"""The audit engine: runs the rule table over a snapshot's report model, giving findings and
the scopes it could not assess (pure, deterministic, no I/O).

It reads items only by iterating ``Inventory.of(key)``, at most once per resource key (the
model may stream them from disk), keeping only small joins in memory: project names, the check
configurations and policies per project, the names of the small protected resources. A rule
whose data the snapshot lacks (not requested, or not read: ``crawler.snapshot.unread``) yields one
**not assessed** entry per scope, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.downstream.audit.decide import Evidence
from crawler.downstream.audit.rules import RULES, SEVERITIES, Rule
from crawler.downstream.report.model import Inventory, Item, Org, project_of, text
from crawler.downstream.report.wider import parse_time
from crawler.snapshot.unread import Unread

NAMED_LISTINGS = ("service_endpoints", "variable_groups", "queues", "environments", "secure_files")
TYPE_OF = {
    "service_endpoints": "endpoint",
    "variable_groups": "variablegroup",
    "queues": "queue",
    "environments": "environment",
    "secure_files": "securefile",
    "repositories": "repository",
}
KEY_OF = {kind: key for key, kind in TYPE_OF.items()}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that failed on one project or resource."""

    rule: Rule
    organization: str
    project_id: str
    project_name: str
    resource_kind: str
    resource_id: str
    resource_name: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class NotAssessed:
    """A scope a rule could not be decided on, and why (project/item None: wider scope)."""

    rule: Rule
    organization: str
    project_id: str | None
    project_name: str | None
    item_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class AuditResult:
    """Everything one audit found."""

    multi: bool
    orgs: tuple[Org, ...]
    findings: tuple[Finding, ...]
    not_assessed: tuple[NotAssessed, ...]
    rules: tuple[Rule, ...] = field(default=RULES)


@dataclass(slots=True)
class _Org:
    org: Org
    unread: Unread
    projects: dict[str, str] = field(default_factory=dict)  # id -> name
    public: set[str] = field(default_factory=set)
    names: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (type, pid, id)
    checks: dict[tuple[str, str, str], list[Item]] = field(default_factory=dict)
    policies: dict[str, list[Item]] = field(default_factory=dict)
    shared_seen: set[str] = field(default_factory=set)

    def ready(self, rule: Rule) -> bool:
        return all(key in self.org.resources for key in rule.reads)


class _Run:
    def __init__(self, inv: Inventory, rules: Sequence[Rule]) -> None:
        self.inv = inv
        self.rules = tuple(rules)
        self.orgs = {o.name: _Org(o, Unread.from_errors(o.errors)) for o in inv.orgs}
        self.findings: list[Finding] = []
        self.not_assessed: dict[tuple[str, str, str, str], NotAssessed] = {}

    def of(self, key: str) -> Iterable[tuple[_Org, Item]]:
        """Items of ``key`` with their organization's state (one pass)."""
        for item in self.inv.of(key):
            state = self.orgs.get(text(item.get("organization")))
            if state is not None:
                yield state, item

    def family(self, family: str, subject: str | None = None) -> list[Rule]:
        return [
            r
            for r in self.rules
            if r.family == family and (subject is None or r.subject == subject)
        ]

    def add(self, rule: Rule, state: _Org, item: Item, kind: str, evidence: Evidence,
            rid: str | None = None, name: str | None = None) -> None:  # fmt: skip
        pid, pname = project_of(item)
        self.findings.append(
            Finding(
                rule,
                state.org.name,
                pid,
                pname or state.projects.get(pid, ""),
                kind,
                rid if rid is not None else text(item.get("id")),
                name if name is not None else text(item.get("name")),
                evidence,
            )
        )

    def unassessed(self, rule: Rule, state: _Org, pid: str | None, item: str | None,
                   reason: str) -> None:  # fmt: skip
        key = (rule.id, state.org.name, pid or "", item or "")
        if key not in self.not_assessed:
            name = state.projects.get(pid or "") if pid else None
            self.not_assessed[key] = NotAssessed(rule, state.org.name, pid, name, item, reason)


def run_audit(inv: Inventory, rules: Sequence[Rule] = RULES) -> AuditResult:
    """Every finding and not-assessed scope of ``inv``, in a stable order."""
    run = _Run(inv, rules)
    for state, project in run.of("projects"):
        pid = text(project.get("id"))
        state.projects[pid] = text(project.get("name"))
        if project.get("visibility") == "public":
            state.public.add(pid)
    for state, check in run.of("checks"):
        resource = check.get("resource")
        if isinstance(resource, Mapping):
            ref = (text(resource.get("type")), project_of(check)[0], text(resource.get("id")))
            state.checks.setdefault(ref, []).append(check)
    for state, policy in run.of("policies"):
        state.policies.setdefault(project_of(policy)[0], []).append(policy)
    _settings(run)
    for key in NAMED_LISTINGS:
        _listing(run, key)
    _permissions(run)
    _repositories(run)
    _pipelines(run)
    for state in run.orgs.values():
        for rule in run.rules:
            _not_assessed(run, rule, state)
    order = {r.id: n for n, r in enumerate(run.rules)}
    findings = sorted(
        run.findings,
        key=lambda f: (
            -SEVERITIES.index(f.rule.severity),
            order[f.rule.id],
            f.organization,
            f.project_name.casefold(),
            f.project_id,
            f.resource_name.casefold(),
            f.resource_id,
        ),
    )
    unassessed = sorted(
        run.not_assessed.values(),
        key=lambda n: (
            order[n.rule.id],
            n.organization,
            (n.project_name or "").casefold(),
            n.project_id or "",
            n.item_id or "",
        ),
    )
    return AuditResult(inv.multi, inv.orgs, tuple(findings), tuple(unassessed), run.rules)


def _settings(run: _Run) -> None:
    rules = run.family("settings")
    seen: set[tuple[str, str]] = set()
    for state, settings in run.of("pipeline_settings"):
        pid, pname = project_of(settings)
        seen.add((state.org.name, pid))
        for rule in rules:
            if rule.id == "job-scope-not-limited" and pid in state.public:
                continue  # public projects are always limited to themselves
            evidence = rule.decide(settings)
            if evidence is not None:
                run.add(rule, state, settings, "project", evidence, pid, pname)
    # A listed project without its settings and without an error saying why: not a pass.
    for state in run.orgs.values():
        if "pipeline_settings" not in state.org.resources:
            continue
        for pid in state.projects:
            if (state.org.name, pid) not in seen and not state.unread.covers(
                "pipeline_settings", pid
            ):
                for rule in rules:
                    run.unassessed(rule, state, pid, None, "no pipeline_settings item recorded")


def _checks_of(state: _Org, kind: str, pid: str, rid: str) -> list[Item] | None:
    """The checks on one resource, or None when the snapshot did not read them."""
    if state.unread.covers("checks", pid, f"{kind}/{rid}"):
        return None
    return state.checks.get((kind, pid, rid), [])


def _listing(run: _Run, key: str) -> None:
    kind = TYPE_OF[key]
    checks_rules = [r for r in run.family("checks", key)]
    item_rules = run.family("item", key)
    for state, item in run.of(key):
        pid, rid = project_of(item)[0], text(item.get("id"))
        state.names[(kind, pid, rid)] = text(item.get("name"))
        for rule in checks_rules:
            if not state.ready(rule):
                continue
            found = _checks_of(state, kind, pid, rid)
            if found is None:
                continue
            evidence = rule.decide(item, found)
            if evidence is not None:
                run.add(rule, state, item, key, evidence)
        for rule in item_rules:
            if rule.id == "endpoint-shared" and rid in state.shared_seen:
                continue
            evidence = rule.decide(item)
            if evidence is not None:
                if rule.id == "endpoint-shared":
                    state.shared_seen.add(rid)
                run.add(rule, state, item, key, evidence)


def _permissions(run: _Run) -> None:
    by_type = {r.resource_type: r for r in run.family("permissions")}
    for state, permission in run.of("pipeline_permissions"):
        resource = permission.get("resource")
        if not isinstance(resource, Mapping):
            continue
        kind, rid = text(resource.get("type")), text(resource.get("id"))
        rule = by_type.get(kind)
        if rule is None:
            continue
        evidence = rule.decide(permission)
        if evidence is None:
            continue
        pid = project_of(permission)[0]
        name = text(resource.get("name")) or state.names.get((kind, pid, rid), "")
        run.add(rule, state, permission, KEY_OF.get(kind, kind), evidence, rid, name)


def _repositories(run: _Run) -> None:
    rules = run.family("policy", "repositories")
    for state, repo in run.of("repositories"):
        pid = project_of(repo)[0]
        for rule in rules:
            if not state.ready(rule) or state.unread.covers("policies", pid):
                continue
            evidence = rule.decide(repo, state.policies.get(pid, []))
            if evidence is not None:
                run.add(rule, state, repo, "repositories", evidence)


def _pipelines(run: _Run) -> None:
    rules = run.family("stale", "pipelines")
    if not rules:
        return
    candidates: list[tuple[Rule, _Org, Item, Evidence]] = []
    now = {name: parse_time(s.org.finished_at) for name, s in run.orgs.items()}
    with_builds: set[str] = set()
    for state, pipeline in run.of("pipelines"):
        if isinstance(pipeline.get("latestBuild"), Mapping) or isinstance(
            pipeline.get("latestCompletedBuild"), Mapping
        ):
            with_builds.add(state.org.name)
        for rule in rules:
            evidence = rule.decide(pipeline, now[state.org.name], run.inv.stale_days)
            if evidence is not None:
                # Keep what a finding names, not the whole definition: without build data
                # every pipeline is a candidate, and 100,000 full definitions are ~1 GB.
                slim = {k: pipeline.get(k) for k in ("id", "name", "project")}
                candidates.append((rule, state, slim, evidence))
    for rule, state, pipeline, evidence in candidates:
        if state.org.name in with_builds:
            run.add(rule, state, pipeline, "pipelines", evidence)
    for state in run.orgs.values():
        if state.org.name not in with_builds and "pipelines" in state.org.resources:
            for rule in rules:
                _each_project(run, rule, state, "no build data: crawl with --latest-builds")


def _each_project(run: _Run, rule: Rule, state: _Org, reason: str) -> None:
    if not state.projects:
        run.unassessed(rule, state, None, None, reason)
    for pid in state.projects:
        run.unassessed(rule, state, pid, None, reason)


def _not_assessed(run: _Run, rule: Rule, state: _Org) -> None:
    missing = [key for key in rule.reads if key not in state.org.resources]
    if missing:
        wanted = ",".join(missing)
        _each_project(run, rule, state, f"not in this snapshot: crawl with --resources {wanted}")
        return
    identity = state.org.identity or {}
    scoped = identity.get("project") if identity.get("scope") == "project" else None
    if isinstance(scoped, Mapping):
        reason = (
            f"the token is limited to project {scoped.get('name') or scoped.get('id')}: "
            "projects it could not list were not assessed"
        )
        run.unassessed(rule, state, None, None, reason)
    prefix = f"{rule.resource_type}/" if rule.resource_type else ""
    for scope in state.unread.scopes:
        if scope.resource == "projects" and scope.project_id is None:
            reason = "the project list was cut short: projects beyond it were not assessed"
            run.unassessed(rule, state, None, None, reason)
            continue
        if scope.resource not in rule.reads:
            continue
        reason = f"{scope.resource} not read: {scope.message or scope.code or 'unknown'}"
        if scope.project_id is None:
            run.unassessed(rule, state, None, None, reason)
        elif scope.item_id is None:
            state.projects.setdefault(scope.project_id, scope.project_name or "")
            run.unassessed(rule, state, scope.project_id, None, reason)
        elif scope.resource in ("pipeline_permissions", "checks"):
            if prefix and scope.item_id.startswith(prefix):
                run.unassessed(rule, state, scope.project_id, scope.item_id, reason)
        else:
            run.unassessed(rule, state, scope.project_id, scope.item_id, reason)


def counts(result: AuditResult) -> dict[str, int]:
    """Findings per severity, plus the not-assessed count."""
    out: dict[str, int] = {s: 0 for s in SEVERITIES}
    for finding in result.findings:
        out[finding.rule.severity] += 1
    out["not_assessed"] = len(result.not_assessed)
    return out


def any_at_least(result: AuditResult, threshold: str) -> bool:
    """True when some finding is at or above ``threshold`` (never for 'none')."""
    if threshold == "none":
        return False
    floor = SEVERITIES.index(threshold)
    return any(SEVERITIES.index(f.rule.severity) >= floor for f in result.findings)


def resource_ref(finding: Finding) -> dict[str, Any]:
    """The finding's ``resource {kind, id, name}``."""
    return {"kind": finding.resource_kind, "id": finding.resource_id, "name": finding.resource_name}
