"""A diff rendered for people and tools: ``--format text``, ``json`` and ``markdown``.

Every renderer is byte-stable for one diff (the order is the diff's own); ``RENDERERS``
maps a ``--format`` name to its renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from crawler.downstream.diff_changes import ABSENT, Diff, FieldChange, ItemChange, NotCompared
from crawler.downstream.markdown_cell import md_cell

__all__ = ["RENDERERS", "diff_to_json", "render_json", "render_markdown", "render_text"]


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
