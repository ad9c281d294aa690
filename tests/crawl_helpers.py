"""Helpers for crawl tests: run a real crawl against a running emulator, build expectations."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import orjson

from crawler.emulator.server import RunningEmulator
from crawler.run import RunResult, crawl_to_file
from crawler.settings.credentials import Credential
from crawler.settings.load import load_settings
from crawler.snapshot.unread import Unread

FAST = {
    "backoff_base_s": 0.01,
    "backoff_max_s": 0.05,
    "timeout_s": 5.0,
    "progress": "none",
    "rate": 1000.0,
}


async def crawl(
    emu: RunningEmulator,
    tmp_path: Path,
    *,
    kind: str = "job",
    token: str | None = None,
    **flags: Any,
) -> tuple[RunResult, dict[str, Any]]:
    """Crawl ``emu`` in-process over loopback HTTP; return the result and the snapshot."""
    output = tmp_path / "inventory.json"
    settings = load_settings(
        flags={"org": emu.url, "output": output, **FAST, **flags},
        environ={},
        config_path=None,
    )
    credential = Credential(kind, "test", token if token is not None else emu.config.token)  # type: ignore[arg-type]
    result = await crawl_to_file(
        settings, credential, environ=dict(os.environ), stderr=io.StringIO(), stdout=io.StringIO()
    )
    return result, orjson.loads(output.read_bytes())


def expected(items: list[dict[str, Any]], resource: str) -> list[dict[str, Any]]:
    """Ground-truth items as the snapshot documents them, in the documented order."""
    out = []
    for item in items:
        clean = dict(item)
        if resource == "pipelines" and isinstance(clean.get("variables"), dict):
            clean["variables"] = {
                name: {k: v for k, v in spec.items() if k in ("isSecret", "allowOverride")}
                for name, spec in clean["variables"].items()
            }
        out.append(clean)
    if resource == "projects":
        return sorted(out, key=lambda i: i["id"])
    return sorted(out, key=lambda i: (i["project"]["id"], i["id"]))


def assert_matches_ground_truth(snapshot: dict[str, Any], truth: dict[str, Any]) -> None:
    """Every resource array equals the ground truth, item for item, field for field."""
    unread = Unread.from_errors(snapshot["errors"])
    for resource in ("projects", "repositories", "pipelines", "pipeline_settings"):
        if resource not in snapshot["resources"] or unread.covers(resource):
            continue  # not asked, or not on this server (an organization-wide error)
        want = expected(truth[resource], resource)
        got = snapshot[resource]
        assert [i["id"] for i in got] == [i["id"] for i in want], resource
        assert got == want, resource
