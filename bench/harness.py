"""The benchmark's I/O: start the emulator process, run the crawler as a child, measure it.

The crawler runs exactly as a user runs it (``python -m crawler crawl``), with the
emulator's token in ``SYSTEM_ACCESSTOKEN`` only; its CPU time and peak RSS come from
``os.wait4``. Every wait has a timeout and every child is killed in ``finally``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.scenarios import Scenario, busiest_window
from bench.serve import config_to_dict
from crawler.emulator.config import DEFAULT_TOKEN, EmulatorConfig

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0  # a huge org is generated lazily, so startup is quick; be generous
STOP_TIMEOUT_S = 15.0
# Environment the crawler must not inherit: it would change what or how it crawls.
_DROP_ENV_PREFIXES = ("ADO_INVENTORY_", "SYSTEM_", "AZURE_DEVOPS_", "TF_BUILD", "BUILD_")


class BenchError(RuntimeError):
    """A benchmark run failed (the crawler's exit status, a missing URL, a timeout)."""


@dataclass(slots=True)
class ServerLog:
    """What the emulator process recorded: request arrival times, statuses, throttling."""

    times: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    throttle: dict[str, float] | None = None

    def between(self, start: float, end: float) -> ServerLog:
        """The requests that arrived in ``[start, end]`` (monotonic seconds)."""
        pairs = [
            (t, s) for t, s in zip(self.times, self.statuses, strict=True) if start <= t <= end
        ]
        return ServerLog([t for t, _ in pairs], [s for _, s in pairs], self.throttle)


@dataclass(frozen=True, slots=True)
class CrawlRun:
    """One measured crawl: the process's resource use and the snapshot's stats."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    stats: Mapping[str, Any]
    complete: bool
    counts: Mapping[str, int]
    digest: str  # SHA-256 of the snapshot minus times and stats (determinism check)
    started: float  # monotonic, for slicing the server log
    ended: float


def crawler_env(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without settings or credentials of its own, plus the emulator's token."""
    env = {k: v for k, v in base.items() if not k.startswith(_DROP_ENV_PREFIXES)}
    env.pop("AZURE_DEVOPS_EXT_PAT", None)
    env["SYSTEM_ACCESSTOKEN"] = DEFAULT_TOKEN
    env["PYTHONPATH"] = str(ROOT)
    return env


def snapshot_digest(doc: Mapping[str, Any]) -> str:
    """A digest of everything in a snapshot that must not differ between two crawls."""
    stable = {k: v for k, v in doc.items() if k not in ("started_at", "finished_at", "stats")}
    return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()


class EmulatorProcess:
    """``python -m bench.serve`` as a child process; ``stop()`` returns its request log."""

    def __init__(self, config: EmulatorConfig, workdir: Path) -> None:
        self.config = config
        self.log_path = workdir / f"emulator-{os.getpid()}-{time.monotonic_ns()}.json"
        self.stderr_path = self.log_path.with_suffix(".stderr")
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start serving; return the organization URL (the child's first stdout line)."""
        cmd = [
            sys.executable,
            "-m",
            "bench.serve",
            "--config",
            orjson.dumps(config_to_dict(self.config)).decode(),
            "--log",
            str(self.log_path),
        ]
        with self.stderr_path.open("wb") as err:
            self._proc = subprocess.Popen(
                cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, env=crawler_env(os.environ)
            )
        assert self._proc.stdout is not None
        line = _read_line(self._proc.stdout, START_TIMEOUT_S)
        if not line.startswith("http://127.0.0.1:"):
            self.kill()
            raise BenchError(f"the emulator did not start: {line!r} {self._stderr_tail()}")
        self.url = line
        return line

    def stop(self) -> ServerLog:
        """SIGTERM the emulator, wait for it, and read the log it wrote."""
        proc = self._proc
        if proc is None:
            return ServerLog()
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self.kill()
        try:
            doc = orjson.loads(self.log_path.read_bytes())
        except FileNotFoundError:
            raise BenchError(f"the emulator wrote no log {self._stderr_tail()}") from None
        finally:
            self.log_path.unlink(missing_ok=True)
            self.stderr_path.unlink(missing_ok=True)
        return ServerLog(doc["times"], doc["statuses"], doc["throttle"])

    def kill(self) -> None:
        """Kill the child if it still runs (idempotent)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
        if proc.stdout is not None:
            proc.stdout.close()

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def _read_line(stream: Any, timeout_s: float) -> str:
    """One line from a pipe, or '' when none arrives within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    data = b""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


@contextmanager
def emulator(config: EmulatorConfig, workdir: Path) -> Iterator[EmulatorProcess]:
    """A started emulator process, always killed at the end of the block."""
    proc = EmulatorProcess(config, workdir)
    try:
        proc.start()
        yield proc
    finally:
        proc.kill()


def run_crawler(url: str, flags: list[str], output: Path, timeout_s: float) -> CrawlRun:
    """Run one crawl in a child process and measure it with ``os.wait4``.

    The crawler is started by :mod:`bench.measure`, a small process, so its peak RSS
    is its own (see there); on timeout the whole process group is killed.
    """
    crawl = [sys.executable, "-m", "crawler", "crawl", "--org", url, "-o", str(output), *flags]
    cmd = [sys.executable, "-m", "bench.measure", "--", *crawl]
    err_path = output.with_suffix(".stderr")
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            env=crawler_env(os.environ),
            start_new_session=True,
        )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the crawl did not end within {timeout_s:g}s") from None
    finally:
        if proc.poll() is None or proc.returncode is None:
            _kill_group(proc)
    stderr = err_path.read_text(errors="replace")[-2000:]
    err_path.unlink(missing_ok=True)
    try:
        measured = orjson.loads(out.splitlines()[-1])
    except (IndexError, orjson.JSONDecodeError):
        raise BenchError(f"no measurement from the crawl: {stderr}") from None
    exit_code = int(measured["exit_code"])
    if exit_code != 0:
        raise BenchError(f"the crawler exited with {exit_code}: {stderr}")
    doc = orjson.loads(output.read_bytes())
    output.unlink(missing_ok=True)
    return CrawlRun(
        wall_s=measured["wall_s"],
        cpu_s=measured["cpu_s"],
        peak_rss_mb=measured["maxrss_kb"] / 1024,
        exit_code=exit_code,
        stats=doc["stats"],
        complete=bool(doc["complete"]),
        counts={k: len(doc.get(k, [])) for k in doc["resources"]},
        digest=snapshot_digest(doc),
        started=measured["started"],
        ended=measured["ended"],
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` and everything in its process group, then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=STOP_TIMEOUT_S)
    if proc.stdout is not None:
        proc.stdout.close()


@dataclass(slots=True)
class ScenarioRuns:
    """Every measured crawl of one scenario and the server's view of each."""

    scenario: Scenario
    runs: list[CrawlRun] = field(default_factory=list)
    server: list[ServerLog] = field(default_factory=list)
    reference: list[CrawlRun] = field(default_factory=list)  # the same crawl, fault-free


def run_scenario(
    scenario: Scenario, runs: int, workdir: Path, timeout_s: float = 600.0
) -> ScenarioRuns:
    """Crawl ``scenario`` ``runs`` times (after a warm-up when it asks for one)."""
    result = ScenarioRuns(scenario)
    output = workdir / f"{scenario.name}.json"
    per_run = scenario.fresh_emulator_per_run
    server_runs = [1] * runs if per_run else [runs]
    for count in server_runs:
        with emulator(scenario.emulator, workdir) as emu:
            if scenario.warm_up:
                run_crawler(emu.url, scenario.warm_up_flags(), output, timeout_s)
            crawls = [
                run_crawler(emu.url, scenario.crawl_flags(), output, timeout_s)
                for _ in range(count)
            ]
            log = emu.stop()
        result.runs.extend(crawls)
        result.server.extend(log.between(c.started, c.ended) for c in crawls)
    if scenario.reference is not None:
        for _ in range(runs):
            with emulator(scenario.reference, workdir) as emu:
                result.reference.append(
                    run_crawler(emu.url, scenario.crawl_flags(), output, timeout_s)
                )
                emu.stop()
    return result


def server_figures(log: ServerLog) -> dict[str, float]:
    """What the server saw of one crawl: requests, busiest second, 429s."""
    throttled = log.statuses.count(429)
    return {
        "server_requests": len(log.times),
        "busiest_1s": busiest_window(log.times),
        "server_429": throttled,
    }
