"""Helpers for the emulator tests: a running emulator and a small HTTP client over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from crawler.emulator import DEFAULT_TOKEN, EmulatorConfig, RunningEmulator, run_emulator

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "X-TFS-FedAuthRedirect": "Suppress"}


@dataclass
class Reply:
    """What a test needs from one response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def token(self) -> str | None:
        return self.headers.get("x-ms-continuationtoken")


class Client:
    """A thin aiohttp wrapper that returns Reply values."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        *,
        version: str | None = "7.1",
        method: str = "GET",
    ) -> Reply:
        query = dict(params or {})
        if version is not None:
            query["api-version"] = version
        async with self.session.request(
            method,
            self.base + path,
            params=query,
            headers=AUTH if headers is None else headers,
            allow_redirects=False,
        ) as resp:
            body = await resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, body)

    async def list_all(
        self, path: str, params: dict[str, str] | None = None, *, max_pages: int = 1000
    ) -> tuple[list[Any], list[str]]:
        """Follow continuation tokens; returns every item and the tokens seen."""
        items: list[Any] = []
        tokens: list[str] = []
        query = dict(params or {})
        for _ in range(max_pages):
            reply = await self.get(path, query)
            assert reply.status == 200, reply.body
            items.extend(reply.json()["value"])
            if reply.token is None:
                return items, tokens
            tokens.append(reply.token)
            query["continuationToken"] = reply.token
        raise AssertionError("paging did not end")


def project_path(name: str) -> str:
    """The URL path segment of a project, encoded as a careful client encodes it."""
    return "/" + quote(name, safe="")


def strip_links(items: list[Any]) -> list[Any]:
    """Items minus ``_links`` at any depth (the ground truth has none)."""
    return [_no_links(item) for item in items]


def _no_links(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_links(v) for k, v in value.items() if k != "_links"}
    if isinstance(value, list):
        return [_no_links(v) for v in value]
    return value


EmulatorFactory = Callable[..., AbstractAsyncContextManager[tuple[RunningEmulator, Client]]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def emulator(http: aiohttp.ClientSession) -> EmulatorFactory:
    """Start an emulator: ``async with emulator(page_size=3) as (emu, client)``."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[tuple[RunningEmulator, Client]]:
        async with run_emulator(EmulatorConfig(**settings)) as emu:
            yield emu, Client(http, emu.url)

    return start
