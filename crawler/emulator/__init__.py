"""A fake Azure DevOps organization on loopback, for tests, demos and benchmarks.

Public API: ``EmulatorConfig`` (and ``ThrottleConfig``, ``FaultConfig``), ``create_app``,
``run_emulator`` / ``serve_in_thread``, ``ground_truth`` / ``visible_ground_truth`` /
``unreachable_scopes``, and the request log (``STATE_KEY``, ``RequestLog``, ``LogEntry``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp.typedefs import Middleware

    from crawler.emulator.app import create_app
    from crawler.emulator.config import (
        DEFAULT_TOKEN,
        FAULT_KINDS,
        EmulatorConfig,
        FaultConfig,
        ThrottleConfig,
    )
    from crawler.emulator.protocol import CONTINUATION_HEADER
    from crawler.emulator.server import RunningEmulator, run_emulator, serve_in_thread
    from crawler.emulator.state import STATE_KEY, EmulatorState, LogEntry, RequestLog, state_of
    from crawler.emulator.truth import (
        Unreachable,
        ground_truth,
        unreachable_scopes,
        visible_ground_truth,
    )

# Loaded on first use, so that importing crawler.emulator.config (the CLI does, for its
# flags' defaults) does not pull the whole server and aiohttp into every command.
_HOMES = {
    "Middleware": "aiohttp.typedefs",
    "CONTINUATION_HEADER": "crawler.emulator.protocol",
    "create_app": "crawler.emulator.app",
    **dict.fromkeys(
        ("STATE_KEY", "EmulatorState", "LogEntry", "RequestLog", "state_of"),
        "crawler.emulator.state",
    ),
    **dict.fromkeys(
        ("DEFAULT_TOKEN", "FAULT_KINDS", "EmulatorConfig", "FaultConfig", "ThrottleConfig"),
        "crawler.emulator.config",
    ),
    **dict.fromkeys(
        ("Unreachable", "ground_truth", "unreachable_scopes", "visible_ground_truth"),
        "crawler.emulator.truth",
    ),
    **dict.fromkeys(
        ("RunningEmulator", "run_emulator", "serve_in_thread"), "crawler.emulator.server"
    ),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'crawler.emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "CONTINUATION_HEADER",
    "DEFAULT_TOKEN",
    "FAULT_KINDS",
    "STATE_KEY",
    "EmulatorConfig",
    "EmulatorState",
    "FaultConfig",
    "LogEntry",
    "Middleware",
    "RequestLog",
    "RunningEmulator",
    "ThrottleConfig",
    "Unreachable",
    "create_app",
    "ground_truth",
    "run_emulator",
    "serve_in_thread",
    "state_of",
    "unreachable_scopes",
    "visible_ground_truth",
]
