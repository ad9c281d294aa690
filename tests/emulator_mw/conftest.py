"""A tiny aiohttp app (a few KB of ADO-style JSON) on loopback behind the middleware under test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Middleware

Client = TestClient[web.Request, web.Application]
Serve = Callable[[Sequence[Middleware]], AbstractAsyncContextManager[Client]]


def _page(path: str) -> bytes:
    item = {"id": 1, "name": path, "description": "an emulated repository " * 150}
    return orjson.dumps({"count": 1, "value": [item]})  # ~3.5 KB


async def _handler(request: web.Request) -> web.StreamResponse:
    return web.Response(
        body=_page(request.path),
        content_type="application/json",
        charset="utf-8",
        headers={"x-ms-continuationtoken": "2"},
    )


@asynccontextmanager
async def _serve(middlewares: Sequence[Middleware]) -> AsyncIterator[Client]:
    app = web.Application(middlewares=list(middlewares))
    app.router.add_route("*", "/{tail:.*}", _handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.fixture
def serve() -> Serve:
    """``async with serve([mw]) as client``: the tiny app behind ``mw`` on 127.0.0.1."""
    return _serve


@pytest.fixture
def page() -> Callable[[str], bytes]:
    """The exact body the tiny app answers for a path."""
    return _page
