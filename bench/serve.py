"""The benchmark's emulator process: serve one EmulatorConfig on loopback, dump its log on exit.

``python -m bench.serve --config JSON --log PATH`` prints the organization URL as its
first stdout line, serves until SIGTERM/SIGINT, then writes every request's arrival time
(``time.monotonic``, comparable across processes on Linux) and status, plus the throttle
counters, to ``PATH`` as JSON. The harness reads that file, never the emulator's state.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from aiohttp.typedefs import Middleware

from crawler.emulator.config import EmulatorConfig, FaultConfig, ThrottleConfig
from crawler.emulator.faults import fault_middleware
from crawler.emulator.server import run_emulator
from crawler.emulator.state import EmulatorState, PageCache, state_of
from crawler.emulator.throttle import ThrottleStats, throttle_middleware


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """``config`` as plain JSON data (tuples become lists)."""
    return dataclasses.asdict(config)


def config_from_dict(data: Mapping[str, Any]) -> EmulatorConfig:
    """The EmulatorConfig described by ``data`` (the inverse of :func:`config_to_dict`)."""
    fields = dict(data)
    throttle = ThrottleConfig(**fields.pop("throttle", {}))
    raw_faults = dict(fields.pop("faults", {}))
    for key in ("kinds", "permanent", "loop_token"):
        if key in raw_faults:
            raw_faults[key] = tuple(raw_faults[key])
    return EmulatorConfig(**fields, throttle=throttle, faults=FaultConfig(**raw_faults))


def app_wires_middlewares() -> bool:
    """Does ``create_app`` add the throttle and fault middlewares from the config itself?"""
    return "throttle_stats" in {f.name for f in dataclasses.fields(EmulatorState)}


def log_document(
    times: list[float], statuses: list[int], throttle: ThrottleStats | None
) -> dict[str, Any]:
    """What the log file holds: arrival times, statuses and throttle counters."""
    return {
        "times": times,
        "statuses": statuses,
        "throttle": throttle.as_dict() if throttle is not None else None,
    }


async def serve(config: EmulatorConfig, log_path: Path, cache_mb: int) -> None:
    """Serve ``config`` until SIGTERM/SIGINT, then write the request log to ``log_path``."""
    middlewares: list[Middleware] = []
    throttle_stats: ThrottleStats | None = None
    if not app_wires_middlewares():
        if config.throttle.enabled:
            throttle, throttle_stats = throttle_middleware(config.throttle)
            middlewares.append(throttle)
        if config.faults.rate > 0 or config.faults.permanent:
            middlewares.append(fault_middleware(config.faults)[0])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with run_emulator(config, middlewares=middlewares) as emu:
            state = state_of(emu.app)
            state.pages = PageCache(cache_mb * 1024 * 1024)  # hold a whole large org
            if throttle_stats is None:
                throttle_stats = getattr(state, "throttle_stats", None)
            print(emu.url, flush=True)
            await stop.wait()
            entries = state.log.entries
            doc = log_document(
                [e.time for e in entries], [e.status for e in entries], throttle_stats
            )
            tmp = log_path.with_suffix(log_path.suffix + ".tmp")
            tmp.write_bytes(orjson.dumps(doc))
            tmp.replace(log_path)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--config", required=True, help="EmulatorConfig as JSON")
    parser.add_argument("--log", required=True, type=Path, help="where to write the log")
    parser.add_argument("--cache-mb", type=int, default=1024, help="page cache size")
    args = parser.parse_args(argv)
    config = config_from_dict(orjson.loads(args.config))
    asyncio.run(serve(config, args.log, args.cache_mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
