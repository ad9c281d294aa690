"""One crawl run end to end: settings + credential → client → crawl → snapshot → exit code.

Owns the run's lifecycle: signals (SIGINT/SIGTERM cancel cleanly, exit 130), the overall
deadline, progress, redaction of every log line, and the rule that only a finished run
replaces the snapshot at the output path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from crawler import gc_policy, pipeline
from crawler.crawl.fanout import crawl_org
from crawler.crawl.plan import CrawlPlan, CrawlState
from crawler.crawl.second_pass import second_pass
from crawler.http.client import AdoClient, ClientOptions
from crawler.http.stats import Stats
from crawler.progress import Progress, summary
from crawler.protocol.errors import (
    EXIT_OK,
    EXIT_PARTIAL,
    AuthError,
    CrawlerError,
    Interrupted,
    UsageError,
)
from crawler.protocol.identity import parse_identity
from crawler.settings.credentials import Credential
from crawler.settings.table import DEFAULT_RESOURCES, Settings, project_selected
from crawler.snapshot.header import build_header
from crawler.snapshot.writer import SnapshotWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished run produced."""

    exit_code: int
    output: Path
    complete: bool
    counts: Mapping[str, int]
    errors: int
    summary: str


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        return True


def configure_logging(settings: Settings, redact: Callable[[str], str], stream: TextIO) -> None:
    """Route the crawler's log records to ``stream``, with every secret redacted."""
    level = (
        logging.DEBUG if settings.verbose else logging.ERROR if settings.quiet else logging.WARNING
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(_RedactingFilter(redact))
    logger = logging.getLogger("crawler")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def progress_mode(settings: Settings, environ: Mapping[str, str], stream: TextIO) -> str:
    """tty, plain, pipeline or none, from the settings and where output goes."""
    if settings.quiet or settings.progress == "none":
        return "none"
    if pipeline.in_pipeline(environ):
        return "pipeline"
    if settings.progress in ("tty", "plain"):
        return settings.progress
    return "tty" if stream.isatty() else "plain"


def client_options(settings: Settings) -> ClientOptions:
    """The client's knobs from the run's settings."""
    return ClientOptions(
        concurrency=settings.concurrency,
        rate=settings.rate,
        timeout_s=settings.timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
        max_retries=settings.max_retries,
        backoff_base_s=settings.backoff_base_s,
        backoff_max_s=settings.backoff_max_s,
        max_pages=settings.max_pages,
        max_response_bytes=int(settings.max_response_mb * 1024 * 1024),
        ca_bundle=str(settings.ca_bundle) if settings.ca_bundle else None,
        outage_tolerance_s=settings.outage_tolerance_s,
    )


async def crawl_to_file(
    settings: Settings,
    credential: Credential,
    *,
    environ: Mapping[str, str],
    stderr: TextIO | None = None,
    stdout: TextIO | None = None,
) -> RunResult:
    """Crawl the organization and write the snapshot; the heart of ``ado-inventory crawl``."""
    err = stderr or sys.stderr
    out = stdout or sys.stdout
    redactor = credential.redactor()
    configure_logging(settings, redactor.redact, err)
    started = datetime.now(UTC)
    loop = asyncio.get_running_loop()
    stats = Stats()
    state = CrawlState()
    writer = SnapshotWriter(settings.output, settings.resources)
    stats.items = writer.counts
    plan = CrawlPlan(
        base_url=settings.org.url,
        resources=frozenset(settings.resources),
        page_size=settings.page_size,
        auth_kind=credential.kind,
        selected=lambda name: project_selected(name, settings.projects, settings.exclude_projects),
        options=frozenset(n for n in ("latest_builds", "release_expand") if getattr(settings, n)),
        max_active_projects=max(8, 4 * settings.concurrency),
        org_kind=settings.org.kind,
        adaptive=frozenset(DEFAULT_RESOURCES)
        if tuple(settings.resources) == DEFAULT_RESOURCES
        else frozenset(),
    )
    progress = Progress(
        stats, state, mode=progress_mode(settings, environ, err), stream=err, out=out
    )
    deadline = loop.time() + settings.deadline_s
    client = AdoClient(
        client_options(settings),
        authorization=credential.authorization_header(),
        credential_label=f"the {_describe(credential)}",
        redact=redactor.redact,
        deadline=deadline,
        stats=stats,
    )
    progress.start()
    try:
        async with client, asyncio.timeout(settings.deadline_s + 30):
            await crawl_org(client, plan, writer, state)
            retried, recovered = await second_pass(client, plan, writer, state)
            stats.second_pass_retried, stats.second_pass_recovered = retried, recovered
        if state.projects_seen == 0:
            if settings.projects or settings.exclude_projects:
                raise UsageError(
                    "no project matched --project/--exclude-project; nothing was written"
                )
            raise AuthError(
                f"the {_describe(credential)} sees no projects in {settings.org.url}: it may be "
                "scoped to nothing here or belong to another organization. Nothing was written."
            )
    except TimeoutError:
        writer.abort()
        raise CrawlerError(
            f"the run did not finish within its deadline ({settings.deadline_s:g}s); nothing "
            "was written. Raise deadline_s (--deadline) or lower the scope."
        ) from None
    except BaseException:
        writer.abort()
        raise
    finally:
        await progress.stop()
    finished = datetime.now(UTC)
    elapsed = progress.elapsed()
    try:
        writer.seal()
    except BaseException:
        writer.abort()
        raise
    stats_doc = {
        "requests": stats.requests,
        "pages": stats.pages,
        "retries": stats.retries,
        "throttled": stats.throttled,
        "wait_s": round(stats.wait_s, 3),
        "elapsed_s": round(elapsed, 3),
        "window_s": round(stats.window_s, 3),
        "bytes": stats.bytes,
        "outages": stats.outages,
        "outage_s": round(stats.outage_s, 3),
        "outage_probes": stats.outage_probes,
        "second_pass_retried": stats.second_pass_retried,
        "second_pass_recovered": stats.second_pass_recovered,
        "duplicates": writer.duplicates,
        "items": dict(writer.counts),
    }
    header = build_header(
        org_url=settings.org.url,
        org_name=settings.org.name,
        auth_kind=credential.kind,
        resources=[r for r in settings.resources if r not in state.skipped],
        started_at=started,
        finished_at=finished,
        errors=state.errors,
        stats=stats_doc,
        deployment=state.deployment,
        api_version=state.api_version,
        identity=parse_identity(state.connection, credential.kind, state.project_refs),
    )
    writer.forget(state.skipped)
    counts = dict(writer.counts)
    try:
        path = writer.finish(header)
    except OSError as exc:
        raise CrawlerError(
            f"could not write the snapshot to {settings.output}: {exc.strerror or exc}. "
            "Any earlier snapshot there is unchanged."
        ) from None
    text = summary(
        org_name=settings.org.name,
        counts=counts,
        stats=stats,
        errors=header["errors"],
        elapsed=elapsed,
        output=str(path.resolve()),
        auth_kind=credential.kind,
        identity=header.get("identity"),
        skipped=state.skipped,
    )
    if pipeline.in_pipeline(environ):
        for error in header["errors"][:50]:
            out.write(pipeline.log_issue(redactor.redact(_one_line(error))) + "\n")
    complete = bool(header["complete"])
    return RunResult(
        exit_code=EXIT_OK if complete else EXIT_PARTIAL,
        output=path,
        complete=complete,
        counts=counts,
        errors=len(header["errors"]),
        summary=redactor.redact(text),
    )


def _one_line(error: Mapping[str, object]) -> str:
    project = error.get("project")
    where = f" in project {project.get('name')!r}" if isinstance(project, dict) else ""
    status = error.get("status")
    if error.get("code") == "not_supported":
        what = "not supported"
    else:
        what = "not visible" if status in (401, 403, 404) else "not read"
    return f"{what}: {error.get('resource')}{where}: {error.get('message')}"


def _describe(credential: Credential) -> str:
    names = {"job": "job access token", "pat": "personal access token", "bearer": "bearer token"}
    return f"{names.get(credential.kind, credential.kind)} from {credential.source}"


def run_crawl(settings: Settings, credential: Credential, environ: Mapping[str, str]) -> RunResult:
    """Run a crawl on a fresh event loop; SIGINT and SIGTERM cancel it cleanly."""
    gc_policy.tune_for_crawl()

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, task.cancel)
        try:
            return await crawl_to_file(settings, credential, environ=environ)
        except asyncio.CancelledError:
            raise Interrupted(
                "interrupted; no snapshot was written and any earlier one is unchanged"
            ) from None
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    return asyncio.run(main())
