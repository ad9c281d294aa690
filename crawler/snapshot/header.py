"""The snapshot's header: everything but the item arrays (run facts, who crawled, the errors
in a stable order, times in RFC 3339)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from crawler import NAME, __version__
from crawler.snapshot.schema import SCHEMA_VERSION

__all__ = ["build_header", "error_sort_key", "rfc3339"]


def error_sort_key(error: Mapping[str, Any]) -> tuple[str, ...]:
    """Stable position of an ``errors`` entry."""
    project = error.get("project") or {}
    item = error.get("item") or {}
    return (
        str(error.get("resource", "")),
        str(project.get("name", "")),
        str(project.get("id", "")),
        str(item.get("id", "")),
        str(error.get("status", "")),
        str(error.get("code", "")),
        str(error.get("message", "")),
    )


def rfc3339(when: datetime) -> str:
    """UTC time as RFC 3339 with milliseconds and a ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def build_header(
    *,
    org_url: str,
    org_name: str,
    auth_kind: str,
    resources: Iterable[str],
    started_at: datetime,
    finished_at: datetime,
    errors: Iterable[Mapping[str, Any]],
    stats: Mapping[str, Any],
    deployment: str | None = None,
    api_version: str | None = None,
    identity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything in a snapshot but the item arrays; ``complete`` means no errors.

    ``deployment`` (services|server) and ``api_version`` (the server's highest released
    version) come from route discovery; they are left out when it did not run.
    """
    ordered_errors = sorted((dict(e) for e in errors), key=error_sort_key)
    organization: dict[str, str] = {"url": org_url, "name": org_name}
    if deployment is not None:
        organization["deployment"] = deployment
    if api_version is not None:
        organization["api_version"] = api_version
    header: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": NAME, "version": __version__},
        "organization": organization,
        "started_at": rfc3339(started_at),
        "finished_at": rfc3339(finished_at),
        "complete": not ordered_errors,
        "auth": {"kind": auth_kind},
        "resources": sorted(set(resources)),
        "stats": dict(stats),
        "errors": ordered_errors,
    }
    if identity is not None:  # who crawled (crawler.crawl.identity); never the token
        header["identity"] = dict(identity)
    return header
