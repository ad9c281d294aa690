"""Compare two snapshots and render the result as text, JSON or Markdown.

Items are matched by (resource, id), or (organization, resource, id) when either side is a
multi-organization file. ``started_at``, ``finished_at``, ``stats`` and ``generator`` are ignored.
Field changes use dotted paths (``repository.name``); lists compare as whole values.
``diff_snapshots`` compares loaded documents, ``diff_files`` two files read item by item; both
pair items with the merge-join of :mod:`crawler.diffjoin`. Unread is unknown: an item whose
scope either snapshot lists in ``errors`` is not compared (never added or removed), and the
diff names those scopes (``not_compared``) with why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import orjson

from crawler.diffjoin import ChangeKey, Source, join
from crawler.merge import as_multi, resource_keys
from crawler.schema import is_multi
from crawler.unread import scope_of
from crawler.validate import json_equal

if TYPE_CHECKING:
    from crawler.reader import SnapshotFile


class _Absent:
    """The value of a field that does not exist on one side."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
KINDS = ("added", "removed", "renamed", "changed")
RUN_FIELDS = ("url", "name", "complete", "auth.kind", "resources")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an item (a dotted path) with its old and new value (or ABSENT)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class ItemChange:
    """An item added, removed, renamed (same id, new name; maybe more fields) or changed."""

    kind: str
    resource: str
    id: Any
    name: str | None
    organization: str | None = None
    project: str | None = None
    old_name: str | None = None
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class RunChange:
    """A change to an organization's run facts: url, name, complete, auth.kind, resources."""

    organization: str | None
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class ErrorChange:
    """An entry of an organization's ``errors`` list that appeared or disappeared."""

    kind: str
    organization: str | None
    error: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NotCompared:
    """A scope one snapshot or both could not read: its items were not compared.

    ``old`` and ``new`` are why each side did not read it (``status``, ``code``,
    ``message`` of its ``errors`` entry), or None when that side read it.
    """

    organization: str | None
    resource: str
    project: Mapping[str, Any] | None
    item: Mapping[str, Any] | None
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Diff:
    """Everything that differs between two snapshots, in a stable order."""

    items: tuple[ItemChange, ...] = ()
    run: tuple[RunChange, ...] = ()
    errors: tuple[ErrorChange, ...] = ()
    organizations_added: tuple[str, ...] = ()
    organizations_removed: tuple[str, ...] = ()
    multi: bool = False
    summary: dict[str, int] = field(default_factory=dict)
    not_compared: tuple[NotCompared, ...] = ()

    @property
    def same(self) -> bool:
        """True when nothing compared differs."""
        return not (
            self.items
            or self.run
            or self.errors
            or self.organizations_added
            or self.organizations_removed
        )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as {dotted.path: leaf}; lists and empty objects are leaves."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The fields that differ between two versions of one item, sorted by path."""
    a = flatten({k: v for k, v in old.items() if k != "organization"})
    b = flatten({k: v for k, v in new.items() if k != "organization"})
    changes = []
    for path in sorted(a.keys() | b.keys()):
        before, after = a.get(path, ABSENT), b.get(path, ABSENT)
        if before is ABSENT or after is ABSENT or not json_equal(before, after):
            changes.append(FieldChange(path, before, after))
    return tuple(changes)


def _project_name(item: Mapping[str, Any]) -> str | None:
    project = item.get("project")
    return str(project.get("name")) if isinstance(project, Mapping) else None


def _name(item: Mapping[str, Any]) -> str | None:
    name = item.get("name")
    return None if name is None else str(name)


def _item_change(key: ChangeKey, old: Any, new: Any, keep_org: bool) -> ItemChange | None:
    org, resource = (key[0] if keep_org else None), key[1]
    ident = orjson.loads(key[3])
    if old is None or new is None:
        item = new if old is None else old
        kind = "added" if old is None else "removed"
        return ItemChange(kind, resource, ident, _name(item), org, _project_name(item))
    changes = diff_fields(old, new)
    if not changes:
        return None
    renamed = _name(old) != _name(new)
    return ItemChange(
        "renamed" if renamed else "changed",
        resource,
        ident,
        _name(new),
        org,
        _project_name(new),
        _name(old) if renamed else None,
        changes,
    )


def _run_facts(org: Mapping[str, Any]) -> dict[str, Any]:
    auth = org.get("auth")
    return {
        "url": org.get("url"),
        "name": org.get("name"),
        "complete": org.get("complete"),
        "auth.kind": auth.get("kind") if isinstance(auth, Mapping) else None,
        "resources": sorted(org.get("resources", [])),
    }


def _error_counter(org: Mapping[str, Any]) -> Counter[bytes]:
    return Counter(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) for e in org.get("errors", []))


def _org_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], keep_org: bool
) -> Iterator[RunChange | ErrorChange]:
    label = str(new.get("name")) if keep_org else None
    a, b = _run_facts(old), _run_facts(new)
    for name in RUN_FIELDS:
        if keep_org and name == "name":
            continue
        if not json_equal(a[name], b[name]):
            yield RunChange(label, name, a[name], b[name])
    before, after = _error_counter(old), _error_counter(new)
    for raw in sorted((before - after).elements()):
        yield ErrorChange("removed", label, orjson.loads(raw))
    for raw in sorted((after - before).elements()):
        yield ErrorChange("added", label, orjson.loads(raw))


def _doc_source(doc: Mapping[str, Any], keep_org: bool) -> tuple[Source, Mapping[str, Any]]:
    multi = as_multi(doc)
    orgs = {str(o["name"]) if keep_org else "": o for o in multi["organizations"]}
    source = Source(orgs, resource_keys(multi), lambda key: multi.get(key, ()), keep_org)
    return source, multi


def _file_source(snapshot: SnapshotFile, keep_org: bool) -> tuple[Source, Mapping[str, Any]]:
    multi = as_multi(snapshot.shell())
    orgs = {str(o["name"]) if keep_org else "": o for o in multi["organizations"]}
    name = None if snapshot.multi or not keep_org else str(multi["organizations"][0]["name"])

    def items(key: str) -> Iterator[dict[str, Any]]:
        for item in snapshot.items(key):
            if name is not None:
                item["organization"] = name
            yield item

    return Source(orgs, snapshot.resource_keys, items, keep_org), multi


def diff_snapshots(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> Diff:
    """Diff two loaded snapshots (single- or multi-organization, in any combination)."""
    keep_org = is_multi(old_doc) or is_multi(new_doc)
    (old, old_multi), (new, new_multi) = (
        _doc_source(old_doc, keep_org),
        _doc_source(new_doc, keep_org),
    )
    return _compare(old, new, old_multi, new_multi, keep_org)


def diff_files(old_file: SnapshotFile, new_file: SnapshotFile) -> Diff:
    """Diff two snapshot files read item by item (one resource at a time from each)."""
    keep_org = old_file.multi or new_file.multi
    (old, old_multi), (new, new_multi) = (
        _file_source(old_file, keep_org),
        _file_source(new_file, keep_org),
    )
    return _compare(old, new, old_multi, new_multi, keep_org)


def _compare(
    old: Source,
    new: Source,
    old_multi: Mapping[str, Any],
    new_multi: Mapping[str, Any],
    keep_org: bool,
) -> Diff:
    found: list[tuple[ChangeKey, ItemChange]] = []
    for resource in sorted(set(old.resource_keys) | set(new.resource_keys)):
        found.extend(join(old, new, resource, lambda key, a, b: _item_change(key, a, b, keep_org)))
    found.sort(key=lambda pair: pair[0])
    changes = [change for _, change in found]
    old_orgs = {str(o["name"]): o for o in old_multi["organizations"]}
    new_orgs = {str(o["name"]): o for o in new_multi["organizations"]}
    if not keep_org:
        old_orgs = {"": old_multi["organizations"][0]}
        new_orgs = {"": new_multi["organizations"][0]}
    run: list[RunChange] = []
    errors: list[ErrorChange] = []
    for name in sorted(old_orgs.keys() & new_orgs.keys()):
        for found_change in _org_changes(old_orgs[name], new_orgs[name], keep_org):
            if isinstance(found_change, RunChange):
                run.append(found_change)
            else:
                errors.append(found_change)
    counts = Counter(change.kind for change in changes)
    summary = {kind: counts.get(kind, 0) for kind in KINDS}
    summary["errors_added"] = sum(1 for e in errors if e.kind == "added")
    summary["errors_removed"] = sum(1 for e in errors if e.kind == "removed")
    unread = not_compared(old_orgs, new_orgs, keep_org)
    if unread:
        summary["not_compared"] = len(unread)
    return Diff(
        items=tuple(changes),
        run=tuple(run),
        errors=tuple(errors),
        organizations_added=tuple(sorted(new_orgs.keys() - old_orgs.keys())),
        organizations_removed=tuple(sorted(old_orgs.keys() - new_orgs.keys())),
        multi=keep_org,
        summary=summary,
        not_compared=unread,
    )


def _why(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("status", "code", "message")}


def not_compared(
    old_orgs: Mapping[str, Mapping[str, Any]],
    new_orgs: Mapping[str, Mapping[str, Any]],
    keep_org: bool,
) -> tuple[NotCompared, ...]:
    """Every scope either side lists in ``errors`` (once, with both sides' reasons)."""
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for side, orgs in (("old", old_orgs), ("new", new_orgs)):
        for label, org in orgs.items():
            for entry in org.get("errors", []):
                scope = scope_of(entry)
                key = (label, scope.resource, scope.project_id or "", scope.item_id or "")
                slot = found.setdefault(
                    key,
                    {
                        "organization": label if keep_org else None,
                        "resource": scope.resource,
                        "project": entry.get("project") or None,
                        "item": entry.get("item") or None,
                        "old": None,
                        "new": None,
                    },
                )
                if slot[side] is None:
                    slot[side] = _why(entry)
    return tuple(NotCompared(**found[key]) for key in sorted(found, key=_scope_order(found)))


def _scope_order(
    found: Mapping[tuple[str, str, str, str], Mapping[str, Any]],
) -> Any:
    def order(key: tuple[str, str, str, str]) -> tuple[str, ...]:
        project = found[key]["project"] or {}
        return (key[0], key[1], str(project.get("name", "")), key[2], key[3])

    return order


# ---------------------------------------------------------------- rendering


def _value(value: Any) -> Any:
    return None if value is ABSENT else value


def _field_json(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"field": change.field}
    if change.old is not ABSENT:
        out["old"] = change.old
    if change.new is not ABSENT:
        out["new"] = change.new
    return out


def diff_to_json(diff: Diff) -> dict[str, Any]:
    """The diff as a JSON-ready dict (the ``--format json`` document)."""
    items = []
    for change in diff.items:
        entry: dict[str, Any] = {
            "change": change.kind,
            "resource": change.resource,
            "id": change.id,
            "name": change.name,
        }
        if diff.multi:
            entry["organization"] = change.organization
        if change.project is not None:
            entry["project"] = change.project
        if change.old_name is not None:
            entry["old_name"] = change.old_name
        if change.kind in ("renamed", "changed"):
            entry["fields"] = [_field_json(f) for f in change.fields]
        items.append(entry)
    run = []
    for rc in diff.run:
        row: dict[str, Any] = {"field": rc.field, "old": rc.old, "new": rc.new}
        if diff.multi:
            row["organization"] = rc.organization
        run.append(row)
    errors: dict[str, list[Any]] = {"added": [], "removed": []}
    for ec in diff.errors:
        errors[ec.kind].append(
            {**ec.error, "organization": ec.organization} if diff.multi else ec.error
        )
    out: dict[str, Any] = {
        "format": "ado-inventory-diff",
        "version": 1,
        "same": diff.same,
        "summary": diff.summary,
        "items": items,
        "run": run,
        "errors": errors,
        "organizations": {
            "added": list(diff.organizations_added),
            "removed": list(diff.organizations_removed),
        },
    }
    if diff.not_compared:  # only then: a diff of two complete snapshots is as it was
        out["not_compared"] = [_not_compared_json(nc, diff.multi) for nc in diff.not_compared]
    return out


def _not_compared_json(scope: NotCompared, multi: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": scope.resource,
        "project": scope.project,
        "item": scope.item,
        "old": scope.old,
        "new": scope.new,
    }
    if multi:
        entry["organization"] = scope.organization
    return entry


def _scope_text(scope: NotCompared) -> str:
    """``repositories in project "Team B"``: what was not compared."""
    text = scope.resource
    if scope.project:
        text += f" in project {_show(scope.project.get('name'))}"
    if scope.item:
        text += f", item {_show(scope.item.get('name'))}"
    return text


def _why_text(scope: NotCompared) -> str:
    """``not read in the new snapshot (401 TF200016)``: why it was not compared."""
    sides = [(name, why) for name, why in (("old", scope.old), ("new", scope.new)) if why]
    where = "either snapshot" if len(sides) == 2 else f"the {sides[0][0]} snapshot"
    status = " ".join(
        str(x) for x in (sides[0][1].get("status"), sides[0][1].get("code")) if x is not None
    )
    return f"not read in {where}" + (f" ({status})" if status else "")


def render_json(diff: Diff) -> str:
    """``--format json``: indented, keys sorted, newline-terminated."""
    data = orjson.dumps(diff_to_json(diff), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    return data.decode() + "\n"


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _label(change: ItemChange, multi: bool) -> str:
    where = f"[{change.organization}] " if multi else ""
    project = f" in project {_show(change.project)}" if change.project is not None else ""
    return f"{where}{change.resource} {_show(change.id)} {_show(change.name)}{project}"


def _error_text(error: Mapping[str, Any]) -> str:
    project = error.get("project") or {}
    item = error.get("item") or {}
    parts = [str(error.get("resource"))]
    if project:
        parts.append(f"project {_show(project.get('name'))}")
    if item:
        parts.append(f"item {_show(item.get('name'))}")
    status = " ".join(str(x) for x in (error.get("status"), error.get("code")) if x is not None)
    if status:
        parts.append(status)
    return ", ".join(parts) + f": {error.get('message', '')}"


def render_text(diff: Diff) -> str:
    """``--format text``: one line per change, field changes indented below their item."""
    if diff.same and not diff.not_compared:
        return "no differences\n"
    lines = []
    for org in diff.organizations_added:
        lines.append(f"+ organization {_show(org)}")
    for org in diff.organizations_removed:
        lines.append(f"- organization {_show(org)}")
    for rc in diff.run:
        where = f"[{rc.organization}] " if diff.multi else ""
        lines.append(f"~ {where}{rc.field}: {_show(rc.old)} -> {_show(rc.new)}")
    for ec in diff.errors:
        where = f"[{ec.organization}] " if diff.multi else ""
        sign = "+" if ec.kind == "added" else "-"
        lines.append(f"{sign} {where}error: {_error_text(ec.error)}")
    signs = {"added": "+", "removed": "-", "renamed": "~", "changed": "~"}
    for change in diff.items:
        suffix = f" (renamed from {_show(change.old_name)})" if change.old_name is not None else ""
        lines.append(f"{signs[change.kind]} {_label(change, diff.multi)}{suffix}")
        for fc in change.fields:
            lines.append(f"    {fc.field}: {_show(fc.old)} -> {_show(fc.new)}")
    for nc in diff.not_compared:
        where = f"[{nc.organization}] " if diff.multi else ""
        lines.append(f"? {where}not compared: {_scope_text(nc)}: {_why_text(nc)}")
    s = diff.summary
    if diff.same:
        lines.append(f"no differences in what both snapshots read; {_unread_count(diff)}")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{s['added']} added, {s['removed']} removed, {s['renamed']} renamed, "
        f"{s['changed']} changed; errors {s['errors_added']} new, {s['errors_removed']} gone"
        + (f"; {_unread_count(diff)}" if diff.not_compared else "")
    )
    return "\n".join(lines) + "\n"


def _unread_count(diff: Diff) -> str:
    return (
        f"{len(diff.not_compared)} scope(s) not compared (not read, so neither added nor removed)"
    )


def md_cell(text: str) -> str:
    """Text made safe for one Markdown table cell (no markup, no line breaks)."""
    out = " ".join(text.split())
    for ch in "\\`*_[]<|&~#":
        out = out.replace(ch, "\\" + ch)
    return out


def _md_value(value: Any) -> str:
    if value is ABSENT:
        return "*(absent)*"
    code = _show(value).replace("`", "'").replace("|", "\\|")
    return f"`{code}`"


def render_markdown(diff: Diff) -> str:
    """``--format markdown``: a summary table, then one table of changes per resource."""
    if diff.same and not diff.not_compared:
        return "# Inventory diff\n\nNo differences.\n"
    s = diff.summary
    unread = (
        f" {_unread_count(diff)[0].upper()}{_unread_count(diff)[1:]}." if diff.not_compared else ""
    )
    if diff.same:
        summary = f"No differences in what both snapshots read.{unread}"
    else:
        summary = (
            f"{s['added']} added, {s['removed']} removed, {s['renamed']} renamed, {s['changed']} "
            f"changed; {s['errors_added']} new errors, {s['errors_removed']} errors gone.{unread}"
        )
    out = ["# Inventory diff", "", summary, ""]
    if diff.organizations_added or diff.organizations_removed or diff.run:
        out += ["## Runs", "", "| Organization | Field | Old | New |", "|---|---|---|---|"]
        for org in diff.organizations_added:
            out.append(f"| {md_cell(org)} | organization | *(absent)* | added |")
        for org in diff.organizations_removed:
            out.append(f"| {md_cell(org)} | organization | removed | *(absent)* |")
        for rc in diff.run:
            org = md_cell(rc.organization or "")
            out.append(f"| {org} | {rc.field} | {_md_value(rc.old)} | {_md_value(rc.new)} |")
        out.append("")
    if diff.errors:
        out += ["## Errors", ""]
        if diff.multi:
            out += ["| Change | Organization | Error |", "|---|---|---|"]
        else:
            out += ["| Change | Error |", "|---|---|"]
        for ec in diff.errors:
            org = f" {md_cell(ec.organization or '')} |" if diff.multi else ""
            out.append(f"| {ec.kind} |{org} {md_cell(_error_text(ec.error))} |")
        out.append("")
    resources = sorted({c.resource for c in diff.items})
    for resource in resources:
        out += [f"## {md_cell(resource)}", ""]
        out += ["| Change | Item | Project | Field | Old | New |", "|---|---|---|---|---|---|"]
        for change in (c for c in diff.items if c.resource == resource):
            name = md_cell(change.name or "")
            prefix = (
                f"{md_cell(change.organization)}: " if diff.multi and change.organization else ""
            )
            item = f"{prefix}{name} ({md_cell(str(change.id))})"
            project = md_cell(change.project or "")
            if not change.fields:
                out.append(f"| {change.kind} | {item} | {project} |  |  |  |")
            for fc in change.fields:
                old, new = _md_value(fc.old), _md_value(fc.new)
                out.append(f"| {change.kind} | {item} | {project} | {fc.field} | {old} | {new} |")
        out.append("")
    if diff.not_compared:
        out += _markdown_not_compared(diff)
    return "\n".join(out)


def _markdown_not_compared(diff: Diff) -> list[str]:
    out = ["## Not compared", ""]
    out.append(
        "Scopes one snapshot or both could not read: their items are unknown there, so they "
        "are neither added nor removed."
    )
    out.append("")
    org_head, org_rule = ("Organization | ", "---|") if diff.multi else ("", "")
    out += [f"| {org_head}Scope | Why |", f"|{org_rule}---|---|"]
    for nc in diff.not_compared:
        org = f"{md_cell(nc.organization or '')} | " if diff.multi else ""
        out.append(f"| {org}{md_cell(_scope_text(nc))} | {md_cell(_why_text(nc))} |")
    out.append("")
    return out


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
