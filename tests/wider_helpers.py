"""Helpers for the wider-resource tests: an in-process crawl with crawl options, expectations."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from crawler.crawl.fanout import crawl_org
from crawler.crawl.plan import CrawlPlan, CrawlState
from crawler.emulator.server import RunningEmulator
from crawler.emulator.wider import WIDER_KEYS
from crawler.http.client import AdoClient
from crawler.http.stats import Stats
from crawler.run import client_options
from crawler.settings.load import load_settings
from crawler.snapshot.header import build_header
from crawler.snapshot.writer import SnapshotWriter
from tests.crawl_helpers import FAST

WIDER = WIDER_KEYS  # every wider resource key, as the emulator serves them


async def crawl_with_options(
    emu: RunningEmulator,
    tmp_path: Path,
    *,
    options: frozenset[str] = frozenset(),
    log_stream: io.StringIO | None = None,
    **flags: Any,
) -> tuple[dict[str, Any], CrawlState]:
    """Crawl ``emu`` with crawl options on (as ``--latest-builds``/``--release-expand`` do)."""
    output = tmp_path / "inventory.json"
    settings = load_settings(
        flags={"org": emu.url, "output": output, **FAST, **flags}, environ={}, config_path=None
    )
    handler: logging.Handler | None = None
    logger = logging.getLogger("crawler")
    if log_stream is not None:
        handler = logging.StreamHandler(log_stream)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    stats = Stats()
    state = CrawlState()
    writer = SnapshotWriter(output, settings.resources)
    plan = CrawlPlan(
        base_url=settings.org.url,
        resources=frozenset(settings.resources),
        options=options,
        page_size=settings.page_size,
        auth_kind="job",
    )
    started = datetime.now(UTC)
    try:
        async with AdoClient(
            client_options(settings), authorization=f"Bearer {emu.config.token}", stats=stats
        ) as client:
            await crawl_org(client, plan, writer, state)
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
    header = build_header(
        org_url=settings.org.url,
        org_name=settings.org.name,
        auth_kind="job",
        resources=settings.resources,
        started_at=started,
        finished_at=datetime.now(UTC),
        errors=state.errors,
        stats={"requests": stats.requests, "items": dict(writer.counts)},
    )
    writer.finish(header)
    return orjson.loads(output.read_bytes()), state


def flags_only(variables: Any) -> Any:
    """A variables map as the snapshot documents it: names and flags, never values."""
    if not isinstance(variables, dict):
        return variables
    return {
        name: {k: v for k, v in spec.items() if k in ("isSecret", "allowOverride", "isReadOnly")}
        for name, spec in variables.items()
    }


def documented(resource: str, item: dict[str, Any]) -> dict[str, Any]:
    """A ground-truth item reduced as the snapshot contract says (independent of the crawler)."""
    out = dict(item)
    if resource == "release_definitions":
        if "variables" in out:
            out["variables"] = flags_only(out["variables"])
        if "environments" in out:
            out["environments"] = [
                {**env, "variables": flags_only(env["variables"])} for env in out["environments"]
            ]
    elif resource == "variable_groups":
        out.pop("providerData", None)
        out["variables"] = flags_only(out["variables"])
    elif resource == "service_endpoints":
        out.pop("data", None)
        out.pop("operationStatus", None)
        out["authorization"] = {"scheme": out["authorization"]["scheme"]}
    elif resource == "pipelines":
        out["variables"] = flags_only(out["variables"])
    return out


def id_order(value: Any) -> tuple[int, int, str]:
    """Integers before strings, each in natural order (the snapshot's order of ids)."""
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def expected(truth: dict[str, Any], resource: str) -> list[dict[str, Any]]:
    """The ground truth of ``resource`` as the snapshot stores it, in the snapshot's order."""
    items = [documented(resource, item) for item in truth[resource]]
    return sorted(items, key=lambda i: (i["project"]["id"], id_order(i["id"])))
