"""Run the emulator in-process: on the current event loop, or in a background thread for
blocking clients (the official SDK). Binds loopback by default; port 0 picks a free port."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from crawler.emulator.app import create_app
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.faults import OUTAGE_KEY, Outage
from crawler.emulator.seeded import JsonDict
from crawler.emulator.state import DEFAULT_PAGE_CACHE_BYTES, STATE_KEY, RequestLog
from crawler.emulator.truth import Unreachable, ground_truth, unreachable_scopes
from crawler.emulator.truth import visible_ground_truth as _visible_ground_truth

SHUTDOWN_TIMEOUT_S = 1.0


@dataclass(frozen=True, slots=True)
class RunningEmulator:
    """A serving emulator: its organization URL, application, settings and request log."""

    url: str  # http://127.0.0.1:PORT/ORG
    app: web.Application
    config: EmulatorConfig
    host: str
    port: int

    @property
    def log(self) -> RequestLog:
        """Every request answered so far."""
        return self.app[STATE_KEY].log

    def ground_truth(self) -> JsonDict:
        """The whole organization as served at ``url`` (minus ``_links``)."""
        return ground_truth(self.config, self.url)

    def visible_ground_truth(self) -> JsonDict:
        """What the configured token can list at ``url``, plus the unreachable scopes."""
        return _visible_ground_truth(self.config, self.url)

    def unreachable(self) -> list[Unreachable]:
        """Projects and repositories the configured token cannot read."""
        return unreachable_scopes(self.config)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@asynccontextmanager
async def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    middlewares: Sequence[Middleware] = (),
    ssl_context: ssl.SSLContext | None = None,
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES,
) -> AsyncIterator[RunningEmulator]:
    """Serve ``config`` on ``host:port`` (0 = a free port) for the duration of the block.

    With ``ssl_context`` the emulator speaks HTTPS (for tests of custom CA bundles).
    """
    config = config or EmulatorConfig()
    app = create_app(config, middlewares=middlewares, page_cache_bytes=page_cache_bytes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    outage_task: asyncio.Task[None] | None = None
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound = runner.addresses[0][1]
        scheme = "https" if ssl_context is not None else "http"
        outage = app.get(OUTAGE_KEY)
        if outage is not None:
            outage_task = asyncio.create_task(
                play_outage(runner, site, outage, host, bound, ssl_context)
            )
        yield RunningEmulator(
            url=f"{scheme}://{_url_host(host)}:{bound}/{config.base_path}",
            app=app,
            config=config,
            host=host,
            port=bound,
        )
    finally:
        if outage_task is not None:
            outage_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outage_task
        await runner.cleanup()


async def play_outage(
    runner: web.AppRunner,
    site: web.TCPSite,
    outage: Outage,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
) -> None:
    """When the outage begins: stop listening, drop every connection, listen again later.

    A real listener stop and start on the same port, so clients see what they see when a
    server is away: connections refused, open ones reset.
    """
    await outage.begin.wait()
    await site.stop()
    server = runner.server
    if server is not None:
        for handler in server.connections:
            handler.force_close()
            transport = handler.transport
            if transport is not None:
                transport.abort()
    try:
        await asyncio.sleep(outage.seconds)
    finally:
        outage.ended_at = time.monotonic()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()


@contextmanager
def serve_in_thread(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    middlewares: Sequence[Middleware] = (),
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES,
) -> Iterator[RunningEmulator]:
    """Serve from a background thread with its own event loop, for blocking clients."""
    ready: list[RunningEmulator] = []
    failed: list[BaseException] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with run_emulator(
                config,
                host=host,
                port=port,
                middlewares=middlewares,
                page_cache_bytes=page_cache_bytes,
            ) as emu:
                ready.append(emu)
                started.set()
                await stop.wait()
        except BaseException as exc:
            failed.append(exc)
            raise
        finally:
            started.set()

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException:  # noqa: S110 - reported to the caller through ``failed``
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=target, name="ado-emulator", daemon=True)
    thread.start()
    started.wait()
    try:
        if failed or not ready:
            raise RuntimeError("the emulator did not start") from (failed[0] if failed else None)
        yield ready[0]
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        thread.join()
