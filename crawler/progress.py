"""Progress on stderr while a crawl runs, and the closing summary paragraph.

Three renderings of the same counters: a live line redrawn in place on a terminal,
a plain line every few seconds in logs, and ``##vso`` progress in Azure Pipelines.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from crawler import pipeline
from crawler.crawl.plan import CrawlState
from crawler.http.stats import Stats
from crawler.protocol.advice import summary_tips
from crawler.protocol.identity import identity_sentence


def format_line(stats: Stats, state: CrawlState, elapsed: float) -> str:
    """One progress line: projects done/total, items, requests, retries, throttled."""
    items = sum(stats.items.values())
    return (
        f"projects {state.projects_done}/{state.projects_seen} · items {items:,} · "
        f"requests {stats.requests:,} · retries {stats.retries} · "
        f"throttled {stats.throttled} · not visible {len(state.errors)} · {elapsed:.1f}s"
    )


def outage_text(stats: Stats, now: float) -> str:
    """``server unreachable for 12 s, waiting (up to 600 s)`` during an outage, else ``""``."""
    since = stats.unreachable_since
    if since is None:
        return ""
    return (
        f"server unreachable for {max(0.0, now - since):.0f} s, waiting "
        f"(up to {stats.outage_tolerance_s:g} s)"
    )


def percent_done(state: CrawlState) -> int:
    """A rough completion figure for the pipeline's progress indicator."""
    if not state.projects_seen:
        return 0
    return int(100 * state.projects_done / state.projects_seen)


class Progress:
    """Redraws progress until stopped; ``mode`` is tty, plain, pipeline or none."""

    def __init__(
        self,
        stats: Stats,
        state: CrawlState,
        *,
        mode: str,
        stream: TextIO | None = None,
        out: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.stats = stats
        self.state = state
        self.mode = mode
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self.interval = interval if interval is not None else (0.2 if mode == "tty" else 5.0)
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._warned_outage: float | None = None  # the outage a pipeline warning was sent for

    def elapsed(self) -> float:
        """Seconds since ``start``."""
        return asyncio.get_running_loop().time() - self._started

    def start(self) -> None:
        """Begin redrawing in the background."""
        self._started = asyncio.get_running_loop().time()
        if self.mode != "none":
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop redrawing and leave the terminal on a clean line."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.mode == "tty":
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        elif self.mode in ("plain", "pipeline") and self._started:
            self.draw()  # the final counters, even for a run shorter than one interval

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.draw()

    def draw(self) -> None:
        """Render the counters once."""
        line = format_line(self.stats, self.state, self.elapsed())
        outage = outage_text(self.stats, asyncio.get_running_loop().time())
        if outage:
            line = f"{outage} · {line}"
        if self.mode == "tty":
            self.stream.write("\r\x1b[2K" + line)
        elif self.mode == "pipeline":
            since = self.stats.unreachable_since
            if outage and since != self._warned_outage:
                self._warned_outage = since
                self.out.write(pipeline.log_issue(outage) + "\n")
            message = outage or "Crawling"
            self.out.write(pipeline.set_progress(percent_done(self.state), message) + "\n")
            self.out.flush()
            self.stream.write(line + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


_ORDER = ("projects", "repositories", "pipelines")


def _count_order(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def group_errors(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """Errors grouped by what failed and why, e.g. ``pipelines in 11 projects (401 TF400813)``."""
    groups: dict[tuple[str, bool, bool, str], int] = {}
    for error in errors:
        why = " ".join(str(x) for x in (error.get("status"), error.get("code")) if x)
        org_wide = error.get("project") is None and not error.get("item")
        key = (str(error.get("resource", "")), bool(error.get("item")), org_wide, why)
        groups[key] = groups.get(key, 0) + 1
    out = []
    for (resource, single, org_wide, why), n in sorted(groups.items()):
        if single:
            text = f"{n} {resource}" if n != 1 else f"1 of the {resource}"
        elif resource == "projects":
            text = "the project list"
        elif org_wide:
            text = f"{resource} (all projects)"
        else:
            text = f"{resource} in {n} project{'s' if n != 1 else ''}"
        out.append(f"{text} ({why})" if why else text)
    return out


def advice(errors: Iterable[Mapping[str, Any]], auth_kind: str) -> str:
    """What to change so that the next run sees what this one could not
    (crawler.protocol.advice)."""
    return " ".join(summary_tips(errors, auth_kind))


def summary(
    *,
    org_name: str,
    counts: Mapping[str, int],
    stats: Stats,
    errors: Iterable[Mapping[str, Any]],
    elapsed: float,
    output: str,
    auth_kind: str = "job",
    identity: Mapping[str, Any] | None = None,
    skipped: Mapping[str, str] | None = None,
) -> str:
    """The closing paragraph: who crawled, what was crawled, what was not visible, where.

    ``skipped``: default-set resources this server does not have (left out, not errors).
    """
    listed = ", ".join(f"{counts[name]:,} {name}" for name in sorted(counts, key=_count_order))
    errors = list(errors)
    text = f"{identity_sentence(identity)} " if identity is not None else ""
    text += (
        f"Crawled {org_name}: {listed or 'nothing'} in {elapsed:.1f}s "
        f"({stats.requests:,} requests, {stats.retries} retries, {stats.throttled} throttled)."
    )
    if skipped:
        text += (
            f" Not on this server, so not in the default set here: {', '.join(sorted(skipped))}"
            " (see README: Azure DevOps Server)."
        )
    if errors:
        shown = ", ".join(group_errors(errors))
        text += f" Not visible or failed: {shown}."
        tip = advice(errors, auth_kind)
        if tip:
            text += f" To see everything: {tip}"
        text += f" The snapshot is PARTIAL; every gap is listed under 'errors' in {output}"
    else:
        text += f" The snapshot is complete: {output}"
    return text
