"""What a diff of two snapshots is made of: item, run and error changes, the scopes not
compared, and the ``Diff`` that holds them (built by :mod:`crawler.downstream.diff`, rendered by
:mod:`crawler.downstream.diff_render`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "ABSENT",
    "KINDS",
    "Diff",
    "ErrorChange",
    "FieldChange",
    "ItemChange",
    "NotCompared",
    "RunChange",
]


class _Absent:
    """The value of a field that does not exist on one side."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
KINDS = ("added", "removed", "renamed", "changed")


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
