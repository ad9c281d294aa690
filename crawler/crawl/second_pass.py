"""The second pass: one more attempt, before the snapshot is sealed, at what failed for
transient reasons.

A scope whose requests ran out of retries (``retries_exhausted``) or that an outage cut off
(``outage``) is asked for again once the first pass is over and the server answers, so a
blip in the middle of a nightly crawl costs a few requests at the end, not a partial
snapshot. Which entries qualify is a pure decision (:func:`second_pass_jobs`); the rest
reuses the first pass's reads (:mod:`crawler.crawl.project_reads`,
:mod:`crawler.crawl.repository_reads`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from crawler.crawl.fanout import first_error
from crawler.crawl.negotiation import read_identity_now, with_hosts
from crawler.crawl.plan import CrawlPlan, CrawlState, Sink
from crawler.crawl.project_reads import list_project_resource, read_object
from crawler.crawl.repository_reads import probe_repository, repositories_then_each
from crawler.http.client import AdoClient
from crawler.protocol.resources import REGISTRY

log = logging.getLogger(__name__)


TRANSIENT_CODES = frozenset({"retries_exhausted", "outage"})


def _scope_key(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    project = entry.get("project") or {}
    item = entry.get("item") or {}
    return (str(entry.get("resource")), str(project.get("id", "")), str(item.get("id", "")))


def second_pass_jobs(
    errors: Sequence[Mapping[str, Any]], plan: CrawlPlan
) -> list[Mapping[str, Any]]:
    """The ``errors`` entries worth one more attempt: a transient failure of a project's
    listing or of one probed repository (pure).

    Left out: the projects listing itself (asking again would crawl every project twice),
    organization-wide scopes, and one repository's activity (it needs the listing's item).
    """
    wanted = []
    for entry in errors:
        if entry.get("resource") == "identity" and entry.get("code") in TRANSIENT_CODES:
            wanted.append(entry)  # who the token is: one small request, worth asking again
            continue
        resource = REGISTRY.get(str(entry.get("resource")))
        if entry.get("code") not in TRANSIENT_CODES or resource is None:
            continue
        if not isinstance(entry.get("project"), Mapping) or resource.key not in plan.resources:
            continue
        if resource.key == "projects" or resource.scope != "project":
            continue
        item = entry.get("item")
        if item is not None and resource.key != "repositories":
            continue
        wanted.append(entry)
    return wanted


async def second_pass(
    client: AdoClient, plan: CrawlPlan, sink: Sink, state: CrawlState
) -> tuple[int, int]:
    """Ask once more, at the end of the crawl, for the scopes that failed for transient
    reasons (``retries_exhausted``, ``outage``); return (asked again, recovered).

    Runs only when the server answers (after an outage the crawl gave up on, one probe
    decides). A recovered scope's ``errors`` entry is removed; one that fails again is
    recorded afresh. A listing cut short in the first pass is read again from its first
    page: the items read twice are dropped as duplicates when the snapshot is sealed.
    """
    plan = state.plan or plan  # the negotiated api-versions, when discovery ran
    jobs = second_pass_jobs(state.errors, plan)
    if not jobs or not await client.server_back():
        return 0, 0
    retried = {_scope_key(entry) for entry in jobs}
    state.errors[:] = [e for e in state.errors if _scope_key(e) not in retried]
    if any(e["resource"] in REGISTRY and REGISTRY[e["resource"]].host == "vsrm" for e in jobs):
        plan = await with_hosts(client, plan, CrawlState())
    per_repo = any(r.scope == "repository" and r.key in plan.resources for r in REGISTRY.values())
    before = len(state.errors)
    try:
        async with asyncio.TaskGroup() as group:
            for entry in jobs:
                if entry["resource"] == "identity":
                    group.create_task(read_identity_now(client, plan, state))
                    continue
                resource = REGISTRY[str(entry["resource"])]
                project = dict(entry["project"])
                item = entry.get("item")
                if isinstance(item, Mapping):
                    group.create_task(
                        probe_repository(
                            client,
                            plan,
                            sink,
                            state,
                            str(item.get("id", "")),
                            str(item.get("name", "")),
                            {
                                "id": str(project.get("id", "")),
                                "name": str(project.get("name", "")),
                            },
                        )
                    )
                elif resource.shape == "object":
                    group.create_task(read_object(client, plan, sink, state, project, resource))
                elif resource.key == "repositories" and per_repo:
                    group.create_task(repositories_then_each(client, plan, sink, state, project))
                elif resource.host != "vsrm" or plan.vsrm_url is not None:
                    group.create_task(
                        list_project_resource(client, plan, sink, state, project, resource)
                    )
                else:
                    state.errors.append(dict(entry))  # the release host is still unknown
    except BaseExceptionGroup as group_error:
        raise first_error(group_error) from None
    failed_again = {_scope_key(e) for e in state.errors[before:]}
    recovered = len(retried - failed_again)
    log.info("second pass: %d of %d scopes read this time", recovered, len(retried))
    return len(retried), recovered
