"""The emulator's request paths: which resource a raw path asks for, in which project, for which
item (case-insensitive organization and ``_apis`` segments, URL-decoded names)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from crawler.emulator.posture import parse_posture_path
from crawler.emulator.wider import WIDER_PATHS


@dataclass(frozen=True, slots=True)
class Route:
    """A parsed request path: what is asked for, in which project, and for which item."""

    kind: str  # options | resource_areas | projects | repositories | definitions | pipelines
    project: str | None = None
    item: str | None = None
    area: str | None = None

    @property
    def anonymous(self) -> bool:
        """Route discovery needs no credential."""
        return self.kind in ("options", "resource_areas")


def parse_route(method: str, raw_path: str, org: str, virtual_dir: str = "") -> Route | None:
    """Map a raw (still URL-encoded) path to a Route, or None when nothing lives there.

    ``virtual_dir`` (e.g. ``tfs``) is the first path segment of a server's collection URL.
    """
    segments = [unquote(s) for s in raw_path.split("/") if s]
    for part in virtual_dir.split("/") if virtual_dir else ():
        if not segments or segments[0].casefold() != part.casefold():
            return None
        segments = segments[1:]
    if len(segments) < 2 or segments[0].casefold() != org.casefold():
        return None
    lowered = [s.casefold() for s in segments]
    if lowered[1] == "_apis":
        project, rest, raw_rest = None, lowered[2:], segments[2:]
    elif len(segments) >= 3 and lowered[2] == "_apis":
        project, rest, raw_rest = segments[1], lowered[3:], segments[3:]
    else:
        return None
    if method == "OPTIONS":
        if project is None and len(rest) <= 1:
            return Route("options", area=rest[0] if rest else None)
        return None
    posture = parse_posture_path(method, project, rest, raw_rest)
    if posture is not None:
        return Route(posture[0], project=project, item=posture[1], area=posture[2])
    if method not in ("GET", "HEAD") or not rest:
        return None  # nothing is served at {org}/_apis itself but OPTIONS: a 404
    item = raw_rest[-1]
    if project is None:
        if rest[:1] == ["resourceareas"] and len(rest) <= 2:
            return Route("resource_areas", item=item if len(rest) == 2 else None)
        if rest[:1] == ["projects"] and len(rest) <= 2:
            return Route("projects", item=item if len(rest) == 2 else None)
        if rest[:2] == ["git", "repositories"] and len(rest) <= 3:
            return Route("repositories", item=item if len(rest) == 3 else None)
        return None
    if rest[:2] == ["git", "repositories"] and len(rest) <= 3:
        return Route("repositories", project=project, item=item if len(rest) == 3 else None)
    if rest == ["build", "definitions"]:
        return Route("definitions", project=project)
    if rest == ["pipelines"]:
        return Route("pipelines", project=project)
    wider = WIDER_PATHS.get(tuple(rest))
    if wider is not None:
        return Route(wider, project=project)
    if len(rest) == 4 and rest[:2] == ["git", "repositories"] and rest[3] == "commits":
        return Route("commits", project=project, item=raw_rest[2])
    return None
