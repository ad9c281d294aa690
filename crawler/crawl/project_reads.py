"""The reads of one project's project-scope resources: each listing, paged into one batch, and
each settings object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crawler.crawl import posture
from crawler.crawl.plan import CrawlPlan, CrawlState, Sink, ref_of
from crawler.http.client import AdoClient
from crawler.protocol.errors import AdoError
from crawler.protocol.resources import Resource


def recorder(state: CrawlState) -> posture.Record:
    """``state.record`` in the shape the protected-resource steps of :mod:`crawler.crawl.posture`
    call."""

    def record(
        resource: str, project: Mapping[str, Any], exc: AdoError, item: Mapping[str, Any] | None
    ) -> None:
        state.record(resource, project, exc, item=item)

    return record


async def read_object(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
    resource: Resource,
) -> None:
    """Read one project's settings object (``shape == "object"``); note it read in full."""
    base = plan.base_for(resource.host)
    version = plan.version(resource.location)
    if await posture.read_settings(
        client, base, project, resource, sink.add, recorder(state), version
    ):
        state.listed.add((resource.key, str(project["id"])))


async def list_project_resource(
    client: AdoClient,
    plan: CrawlPlan,
    sink: Sink,
    state: CrawlState,
    project: Mapping[str, Any],
    resource: Resource,
    collect: list[Mapping[str, Any]] | None = None,
) -> None:
    """List one project-scope resource of ``project`` into one batch (and into ``collect``)."""
    pid = str(project["id"])
    query = resource.query_at(plan.version(resource.location))
    for option, extra in resource.options.items():
        if option in plan.options:
            query.update(extra)
    if resource.paged:
        query["$top"] = plan.page_size
    ref = ref_of(project) if resource.add_project else None
    try:
        # One batch per listing: the writer sorts a project's items together, so the
        # snapshot is mostly whole blocks copied in place (see crawler.snapshot.writer).
        with sink.batch(resource.key) as batch:
            async for page in client.paginate(
                plan.base_for(resource.host), [pid, *resource.path], query
            ):
                items: Sequence[Mapping[str, Any]] = page
                if ref is not None:
                    items = [
                        item if isinstance(item.get("project"), dict) else {**item, "project": ref}
                        for item in page
                    ]
                batch.extend(items)
                state.note(resource.key, items, project)
                if collect is not None:
                    collect.extend(items)
    except AdoError as exc:
        state.record(resource.key, project, exc)
    else:
        state.listed.add((resource.key, pid))
