"""Crawl steps of the posture resources: one settings object per project, and the pipeline
permissions and check configurations of every protected resource a project's listings return.

``pipeline_settings`` is one ``GET {project}/_apis/build/generalsettings`` per project (an object,
not a list). ``pipeline_permissions`` and ``checks`` follow the listings of service endpoints,
variable groups, agent queues, environments, secure files and repositories: one
``GET …/pipelines/pipelinepermissions/{type}/{id}`` per resource, and the checks of up to
``CHECKS_PER_QUERY`` resources in one read-only ``POST …/pipelines/checks/queryconfigurations``
(body ``[{type, id, name}]``), falling back to one ``GET …/checks/configurations?resourceType=
&resourceId=`` per resource where the server refuses the query (docs:
rest/api/azure/devops/approvalsandchecks, api-version 7.1-preview.1). A resource that cannot
be read is an ``errors`` entry naming it (``item``), never "no permissions" or "no checks".
This module does no HTTP itself: it asks the client, and hands items and errors to the
callbacks the crawl gives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from crawler.http.client import AdoClient
from crawler.protocol.ado import build_url, parse_list
from crawler.protocol.errors import AdoError, ProtocolError
from crawler.protocol.resources import PROTECTED_SOURCES, REGISTRY, Resource

# Resources per batched checks query. ADO documents no cap [inferred]; 100 keeps one body
# small and one project with hundreds of resources a handful of requests.
CHECKS_PER_QUERY = 100
CHECKS_QUERY_PATH = ("_apis", "pipelines", "checks", "queryconfigurations")
CHECKS_QUERY_LOCATION = "5f3d0e64-f943-4584-8811-77eb495e831e"

Add = Callable[[str, Mapping[str, Any]], None]
Record = Callable[[str, Mapping[str, Any], AdoError, Mapping[str, Any] | None], None]
PROTECTED_KEYS = frozenset(r.key for r in REGISTRY.values() if r.scope == "protected")


def _ref(obj: Mapping[str, Any]) -> dict[str, str]:
    return {"id": str(obj.get("id", "")), "name": str(obj.get("name", ""))}


def collectors(resources: frozenset[str]) -> dict[str, list[Mapping[str, Any]]]:
    """Empty lists for the listings whose items the protected steps need ({} when none is)."""
    if not resources & PROTECTED_KEYS:
        return {}
    return {key: [] for key, _ in PROTECTED_SOURCES if key in resources}


def protected_refs(
    collected: Mapping[str, Sequence[Mapping[str, Any]]], project: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """(pipeline resource type, id, name) of each listed protected resource (pure).

    A repository's id is ``{projectId}.{repositoryId}``, as the permissions route expects.
    """
    out: list[tuple[str, str, str]] = []
    for key, kind in PROTECTED_SOURCES:
        for item in collected.get(key, ()):
            rid = str(item.get("id", ""))
            if not rid:
                continue
            if kind == "repository":
                rid = f"{project.get('id')}.{rid}"
            out.append((kind, rid, str(item.get("name", ""))))
    return out


def settings_item(data: Any, project: Mapping[str, Any]) -> dict[str, Any]:
    """The ``pipeline_settings`` item: every field ADO returns, keyed by the project."""
    if not isinstance(data, Mapping):
        raise ValueError("the general settings answer is not an object")
    return {**data, "id": str(project.get("id", "")), "project": _ref(project)}


def permissions_item(
    data: Any, project: Mapping[str, Any], kind: str, resource_id: str
) -> dict[str, Any]:
    """The ``pipeline_permissions`` item of one resource (id ``{type}/{resource id}``)."""
    if not isinstance(data, Mapping):
        raise ValueError("the pipeline permissions answer is not an object")
    item = dict(data)
    if not isinstance(item.get("resource"), Mapping):
        item["resource"] = {"type": kind, "id": resource_id}
    item["id"] = f"{kind}/{resource_id}"
    item["project"] = _ref(project)
    return item


def check_items(
    data: Any, project: Mapping[str, Any], kind: str, resource_id: str, name: str
) -> list[dict[str, Any]]:
    """The ``checks`` items of one resource's answer (``{count, value}``)."""
    out = []
    for check in parse_list(data):
        item = dict(check)
        if not isinstance(item.get("resource"), Mapping):
            item["resource"] = {"type": kind, "id": resource_id, "name": name}
        item["project"] = _ref(project)
        out.append(item)
    return out


def batch_check_items(
    data: Any, project: Mapping[str, Any], refs: Sequence[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """The ``checks`` items of one batched answer (pure): each names the resource it is on.

    ValueError when a check names no resource, or one that was not asked for: its owner
    would be unknown, and a check on the wrong resource is worse than an error.
    """
    asked = {(kind.casefold(), rid.casefold()) for kind, rid, _ in refs}
    out = []
    for check in parse_list(data):
        resource = check.get("resource")
        if not isinstance(resource, Mapping):
            raise ValueError("a check configuration in the batched answer names no resource")
        key = (str(resource.get("type", "")).casefold(), str(resource.get("id", "")).casefold())
        if key not in asked:
            raise ValueError(f"the batched answer holds a check on {key}, which was not asked for")
        item = dict(check)
        item["project"] = _ref(project)
        out.append(item)
    return out


async def read_settings(
    client: AdoClient,
    base: str,
    project: Mapping[str, Any],
    resource: Resource,
    add: Add,
    record: Record,
    version: str | None = None,
) -> bool:
    """Read one project's object resource (``pipeline_settings``); True when it was read.

    ``version`` is the api-version route discovery negotiated (None: the entry's own).
    """
    url = build_url(base, [str(project["id"]), *resource.path], resource.query_at(version))
    try:
        outcome = await client.get(url)
        try:
            item = settings_item(outcome.data, project)
        except ValueError as exc:
            raise ProtocolError(str(exc), status=outcome.status, code="bad_response") from None
    except AdoError as exc:
        record(resource.key, project, exc, None)
        return False
    add(resource.key, item)
    return True


async def _one(
    client: AdoClient,
    base: str,
    project: Mapping[str, Any],
    resource: Resource,
    ref: tuple[str, str, str],
    add: Add,
    record: Record,
    version: str | None,
) -> None:
    kind, rid, name = ref
    pid = str(project["id"])
    if resource.key == "checks":
        query = {"resourceType": kind, "resourceId": rid, **resource.query_at(version)}
        url = build_url(base, [pid, *resource.path], query)
    else:
        segments = [
            kind if s == "{resourceType}" else rid if s == "{resourceId}" else s
            for s in resource.path
        ]
        url = build_url(base, [pid, *segments], resource.query_at(version))
    try:
        outcome = await client.get(url)
        try:
            if resource.key == "checks":
                items = check_items(outcome.data, project, kind, rid, name)
            else:
                items = [permissions_item(outcome.data, project, kind, rid)]
        except ValueError as exc:
            raise ProtocolError(
                f"unexpected response shape: {exc}", status=outcome.status, code="bad_response"
            ) from None
    except AdoError as exc:
        record(resource.key, project, exc, {"id": f"{kind}/{rid}", "name": name})
        return
    for item in items:
        add(resource.key, item)


async def crawl_protected(
    client: AdoClient,
    base: str,
    resources: frozenset[str],
    project: Mapping[str, Any],
    collected: Mapping[str, Sequence[Mapping[str, Any]]],
    add: Add,
    record: Record,
    versions: Mapping[str, str] | None = None,
) -> None:
    """Read permissions and checks of every protected resource the project's listings gave.

    ``versions`` maps location ids to the api-versions route discovery negotiated.
    """
    refs = protected_refs(collected, project)
    known = versions or {}
    async with asyncio.TaskGroup() as group:
        for key in sorted(PROTECTED_KEYS & resources):
            resource = REGISTRY[key]
            version = known.get(resource.location) if resource.location else None
            if key == "checks" and (not known or CHECKS_QUERY_LOCATION in known):
                query = resource.query_at(known.get(CHECKS_QUERY_LOCATION))
                for start in range(0, len(refs), CHECKS_PER_QUERY):
                    chunk = refs[start : start + CHECKS_PER_QUERY]
                    group.create_task(
                        _checks_batch(client, base, project, resource, chunk, query, add, record,
                                      version)
                    )  # fmt: skip
                continue
            for ref in refs:
                group.create_task(_one(client, base, project, resource, ref, add, record, version))


async def _checks_batch(
    client: AdoClient,
    base: str,
    project: Mapping[str, Any],
    resource: Resource,
    refs: Sequence[tuple[str, str, str]],
    query: Mapping[str, str | int | bool | None],
    add: Add,
    record: Record,
    version: str | None,
) -> None:
    """The checks of ``refs`` in one query; a refused query falls back to one GET each."""
    pid = str(project["id"])
    body = orjson.dumps([{"type": kind, "id": rid, "name": name} for kind, rid, name in refs])
    url = build_url(base, [pid, *CHECKS_QUERY_PATH], query)
    try:
        outcome = await client.get(url, method="POST", json_body=body)
        try:
            items = batch_check_items(outcome.data, project, refs)
        except ValueError as exc:
            raise ProtocolError(
                f"unexpected response shape: {exc}", status=outcome.status, code="bad_response"
            ) from None
    except AdoError as exc:
        if exc.status in (400, 405, 415):  # this server does not take the query: ask one by one
            for ref in refs:
                await _one(client, base, project, resource, ref, add, record, version)
            return
        for kind, rid, name in refs:  # each resource is not assessed, and says why
            record(resource.key, project, exc, {"id": f"{kind}/{rid}", "name": name})
        return
    for item in items:
        add(resource.key, item)
