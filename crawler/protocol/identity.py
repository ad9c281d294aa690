"""Who the token is: one ``connectionData`` request, and the pure derivation of ``identity``.

ADO answers ``GET {org}/_apis/connectionData`` with the authenticated identity (not in the REST
reference; the official SDK's location client, location id ``00d9565f-ed9c-4a06-9a50-00e7896ccab4``,
api-version 7.1-preview.1). A job access token's identity is named after the build service:
``Project Collection Build Service ({org})`` when its job authorization scope is the collection,
``{Project} Build Service ({org})`` when "Limit job authorization scope to current project" is
on (docs: pipelines/process/access-tokens). This module is the pure part (no I/O;
:mod:`crawler.crawl.identity` sends the request): :func:`parse_identity` turns that answer into
the snapshot's ``identity`` (never the token); :func:`identity_sentence` is the line the closing
summary and the Markdown report open with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CONNECTION_DATA_PATH = ("_apis", "connectionData")
CONNECTION_DATA_VERSION = "7.1-preview.1"  # no released version (sdk location client)
CONNECTION_DATA_LOCATION = "00d9565f-ed9c-4a06-9a50-00e7896ccab4"

_COLLECTION = re.compile(r"^Project Collection Build Service \((?P<org>[^()]*)\)$")
_PROJECT = re.compile(r"^(?P<project>.+) Build Service \((?P<org>[^()]*)\)$")
# A build service descriptor ends in ":Build:{collection or project id}" [inferred from the
# descriptors ADO shows for build identities: "Microsoft.TeamFoundation.ServiceIdentity;…"].
_DESCRIPTOR_SCOPE = re.compile(r":Build:(?P<id>[0-9a-fA-F-]{36})$")

UNKNOWN_IDENTITY: dict[str, Any] = {
    "id": "",
    "display_name": "",
    "kind": "unknown",
    "scope": "unknown",
    "project": None,
}


def _user(data: Mapping[str, Any]) -> Mapping[str, Any]:
    user = data.get("authenticatedUser")
    if not isinstance(user, Mapping):
        user = data.get("authorizedUser")
    return user if isinstance(user, Mapping) else {}


def display_name(user: Mapping[str, Any]) -> str:
    """The name ADO shows for an identity: ``customDisplayName`` first, then the provider's."""
    for key in ("customDisplayName", "providerDisplayName"):
        value = user.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def parse_identity(
    data: Any,
    auth_kind: str,
    projects: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The snapshot's ``identity`` from a ``connectionData`` answer (pure).

    ``projects`` maps casefolded project names to the ``{id, name}`` of the listed projects;
    a project-scoped build service names its project, matched there by name (then by the id
    its descriptor ends with). A PAT or an Entra ID token is ``kind: user`` with ``scope:
    unknown``: nothing in the answer says how far a user reaches.
    """
    if not isinstance(data, Mapping):
        return dict(UNKNOWN_IDENTITY)
    user = _user(data)
    name = display_name(user)
    out: dict[str, Any] = {
        "id": str(user.get("id") or ""),
        "display_name": name,
        "kind": "unknown",
        "scope": "unknown",
        "project": None,
    }
    if auth_kind in ("pat", "bearer"):
        out["kind"] = "user"
        return out
    if _COLLECTION.match(name):
        out["kind"], out["scope"] = "build_service", "collection"
        return out
    scoped = _PROJECT.match(name)
    if scoped is None:
        return out
    out["kind"], out["scope"] = "build_service", "project"
    project_name = scoped.group("project")
    known = projects or {}
    ref = known.get(project_name.casefold())
    if ref is None:
        descriptor = user.get("descriptor")
        found = _DESCRIPTOR_SCOPE.search(descriptor) if isinstance(descriptor, str) else None
        if found is not None:
            wanted = found.group("id").lower()
            ref = next((r for r in known.values() if str(r.get("id")).lower() == wanted), None)
            if ref is None:
                ref = {"id": wanted, "name": project_name}
    out["project"] = (
        {"id": str(ref.get("id", "")), "name": str(ref.get("name", ""))}
        if ref is not None
        else {"id": "", "name": project_name}
    )
    return out


def identity_sentence(identity: Mapping[str, Any] | None) -> str:
    """One sentence: who crawled, and how far that identity reaches."""
    if not isinstance(identity, Mapping):
        return "The snapshot does not record which identity crawled (made before identity)."
    if not identity.get("display_name"):
        return "Crawled as an unknown identity (connectionData was not read: see errors)."
    name = identity["display_name"]
    kind, scope = identity.get("kind"), identity.get("scope")
    project = identity.get("project")
    if kind == "build_service" and scope == "project" and isinstance(project, Mapping):
        pname = project.get("name") or project.get("id")
        return (
            f"Crawled as '{name}': a job token limited to project {pname} ('Limit job "
            "authorization scope to current project' is on there, or on the organization)."
        )
    if kind == "build_service" and scope == "collection":
        return (
            f"Crawled as '{name}': a job token scoped to the whole organization (project "
            "collection), limited only by each project's permissions for that identity."
        )
    if kind == "user":
        return (
            f"Crawled as '{name}': a user's token; it reaches what that user may read, "
            "within the token's scopes."
        )
    return f"Crawled as '{name}': an identity whose reach is unknown."
