"""The HTML report in a real headless Chromium (Debian's ``chromium``), driven over DevTools.

It loads without console errors or exceptions, a header click sorts the table, and a screenshot
is taken. Skipped only when /usr/bin/chromium is absent outside CI; under CI it must run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from downstream_data import reference

from crawler.downstream.report.html import render_html
from crawler.downstream.report.model import build_inventory

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs this test")


@contextlib.contextmanager
def chromium(profile: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start Chromium in its own process group; kill the whole group on exit."""
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue


async def _devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    for _ in range(200):  # up to 10 s
        if marker.exists() and (lines := marker.read_text().splitlines()):
            return int(lines[0])
        assert proc.poll() is None, "chromium exited early"
        await asyncio.sleep(0.05)
    raise AssertionError("chromium did not write DevToolsActivePort")


class Page:
    """A minimal Chrome DevTools Protocol client for one page target."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method and return its result (events seen meanwhile are kept)."""
        ident = next(self._ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == ident:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    async def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` (seen already or coming)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(await self.ws.receive_json())

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")


@contextlib.asynccontextmanager
async def open_page(port: int) -> AsyncIterator[Page]:
    """Connect to the first page target of the browser on ``port``."""
    async with aiohttp.ClientSession() as session:
        ws_url = ""
        for _ in range(100):
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                ws_url = pages[0]["webSocketDebuggerUrl"]
                break
            await asyncio.sleep(0.05)
        assert ws_url, "no page target"
        async with session.ws_connect(ws_url, max_msg_size=0) as ws:
            yield Page(ws)


def _column(index: int) -> str:
    return (
        "Array.from(document.querySelectorAll('#repositories tbody tr'))"
        f".map(r => r.cells[{index}].textContent)"
    )


@pytest.mark.timeout(60)
async def test_html_report_in_headless_chromium(tmp_path: Path) -> None:
    _require_chromium()
    report = tmp_path / "report.html"
    report.write_text(render_html(build_inventory(reference())), encoding="utf-8")
    profile = tmp_path / "profile"
    with chromium(profile, tmp_path / "chromium.log") as proc:
        async with asyncio.timeout(30):
            port = await _devtools_port(profile, proc)
            async with open_page(port) as page:
                for domain in ("Runtime", "Log", "Page"):
                    await page.send(f"{domain}.enable")
                await page.send("Page.navigate", url=report.as_uri())
                await page.wait_for("Page.loadEventFired")

                title = await page.evaluate("document.title")
                assert title == "Azure DevOps inventory: fabrikam"
                names = await page.evaluate(_column(2))
                assert len(names) == len(reference()["repositories"])
                await page.evaluate("document.querySelectorAll('#repositories th')[2].click()")
                ascending = await page.evaluate(_column(2))
                assert ascending == sorted(names, key=str.lower)
                assert ascending != names
                await page.evaluate("document.querySelectorAll('#repositories th')[2].click()")
                assert await page.evaluate(_column(2)) == sorted(names, key=str.lower)[::-1]
                await page.evaluate("document.querySelectorAll('#repositories th')[4].click()")
                sizes = [int(s) for s in await page.evaluate(_column(4))]
                assert sizes == sorted(sizes)
                charts = await page.evaluate("document.querySelectorAll('svg rect').length")
                assert charts > 0

                shot = await page.send("Page.captureScreenshot", format="png")
                png = base64.b64decode(shot["data"])
                (tmp_path / "report.png").write_bytes(png)
                assert png.startswith(b"\x89PNG\r\n\x1a\n")
                assert len(png) > 1000

                await page.evaluate("0")  # drain events that arrived meanwhile
                problems = [
                    e
                    for e in page.events
                    if e.get("method") == "Runtime.exceptionThrown"
                    or (
                        e.get("method") == "Log.entryAdded"
                        and e["params"]["entry"].get("level") == "error"
                    )
                    or (
                        e.get("method") == "Runtime.consoleAPICalled"
                        and e["params"].get("type") in ("error", "assert")
                    )
                ]
                assert problems == []
    assert proc.poll() is not None
