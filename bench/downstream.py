"""The ``downstream-100k`` benchmark: every command that reads a snapshot, on a large one.

Crawls the scale-100k organization once (2,000 projects, 20,000 repositories, 100,000 full
definitions; ~320 MB), writes a mutated copy of that snapshot (a known share of items
renamed, changed, removed and added, so the diff has work but URLs stay equal), then runs
``validate``, ``diff`` (snapshot against the copy), ``report --format csv``, ``audit`` (when
the command exists), ``export --format ndjson`` and ``merge`` (of that one file), each as its
own child process measured by :mod:`bench.measure` (wall time, CPU time, peak RSS). The
targets: each command's peak RSS <= 300 MB, and its wall time per MB at most twice what the
whole-document readers took (``BEFORE``, measured on the same machine before streaming).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.harness import ROOT, BenchError, crawler_env, emulator
from bench.scenarios import median, scenarios
from crawler.cli import COMMANDS
from crawler.snapshot.layout import write_layout
from crawler.snapshot.reader import open_snapshot

NAMES = ("downstream-100k",)
RSS_TARGET_MB = 300.0
# Whole-document readers (commit 4ece8b1), 100,000 definitions, a 320.8 MB snapshot:
# wall s and peak RSS MB, on the 2-core development VM (`make bench` README has the table).
BEFORE_MB = 320.8
BEFORE: Mapping[str, tuple[float, float]] = {
    "validate": (18.05, 2176.9),
    "diff": (58.72, 4080.1),
    "report-csv": (19.42, 2176.9),
}
EVERY = 997  # one item in EVERY of each resource is mutated (a prime: spread over projects)


@dataclass(frozen=True, slots=True)
class Step:
    """One measured command: its name, its arguments after ``python -m crawler``."""

    name: str
    args: tuple[str, ...]


def _mutated(item: dict[str, Any], n: int) -> dict[str, Any] | None:
    """The copy's version of the ``n``-th item of a resource (None: removed)."""
    if n % EVERY == 1:
        return None
    if n % EVERY == 2:
        item["name"] = f"{item.get('name')} (renamed)"
    elif n % EVERY == 3:
        item["description"] = "changed by the benchmark"
    return item


def write_mutated(source: Path, target: Path) -> dict[str, int]:
    """Write ``source`` with a known share of its items changed; counts per kind."""
    snapshot = open_snapshot(source)
    counts = {"removed": 0, "renamed": 0, "changed": 0, "added": 0}

    def items(key: str) -> Iterator[dict[str, Any]]:
        for n, item in enumerate(snapshot.items(key)):
            kind = {1: "removed", 2: "renamed", 3: "changed"}.get(n % EVERY)
            if kind is not None and key != "projects":
                counts[kind] += 1
                mutated = _mutated(item, n)
                if mutated is not None:
                    yield mutated
                continue
            yield item
            if key == "repositories" and n % EVERY == 4:  # a new repository beside it
                counts["added"] += 1
                yield {**item, "id": f"{item['id']}-new", "name": f"{item['name']}-new"}

    arrays = {key: (lambda key=key: items(key)) for key in snapshot.resource_keys}
    write_layout(target, snapshot.header, arrays)
    return counts


def steps(a: Path, b: Path, workdir: Path) -> list[Step]:
    """The commands to measure, in order (audit only when this version has it)."""
    out = [
        Step("validate", ("validate", str(a))),
        Step("diff", ("diff", str(a), str(b), "--format", "json")),
        Step("report-csv", ("report", str(a), "--format", "csv", "-o", str(workdir / "csv"))),
    ]
    if "audit" in COMMANDS:  # the audit issue adds it; the hook measures it from then on
        out.append(Step("audit", ("audit", str(a), "--format", "json")))
    out.append(Step("export", ("export", str(a), "--format", "ndjson", "-o", str(workdir / "x"))))
    out.append(Step("merge", ("merge", "-o", str(workdir / "merged.json"), str(a))))
    return out


def measure(step: Step, timeout_s: float) -> dict[str, float]:
    """Run one command under bench.measure; its wall s, CPU s, peak RSS MB and exit code."""
    cmd = [sys.executable, "-m", "bench.measure", "--", sys.executable, "-m", "crawler"]
    try:
        proc = subprocess.run(
            [*cmd, *step.args],
            cwd=ROOT,
            env=crawler_env(os.environ),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{step.name} did not end within {timeout_s:g}s") from None
    try:
        got = orjson.loads(proc.stdout.splitlines()[-1])
    except (IndexError, orjson.JSONDecodeError):
        raise BenchError(f"no measurement of {step.name}: {proc.stderr[-500:]!r}") from None
    return {
        "wall_s": got["wall_s"],
        "cpu_s": got["cpu_s"],
        "peak_rss_mb": got["maxrss_kb"] / 1024,
        "exit_code": got["exit_code"],
    }


def run_downstream(runs: int, workdir: Path, quick: bool = False) -> dict[str, Any]:
    """Crawl, mutate, then measure each step ``runs`` times: one JSON-ready entry."""
    scale = next(s for s in scenarios(quick) if s.kind == "scale")
    a, b = workdir / "downstream-a.json", workdir / "downstream-b.json"
    with emulator(scale.emulator, workdir) as emu:
        crawl = [sys.executable, "-m", "crawler", "crawl", "--org", emu.url, "-o", str(a)]
        done = subprocess.run(  # not measured here: scale-100k measures the crawl
            [*crawl, *scale.crawl_flags()],
            cwd=ROOT,
            env=crawler_env(os.environ),
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"the downstream crawl exited with {done.returncode}")
    mutations = write_mutated(a, b)
    size_mb = a.stat().st_size / 1e6
    per_step: dict[str, list[dict[str, float]]] = {}
    for _ in range(runs):
        for step in steps(a, b, workdir):
            figures = measure(step, timeout_s=900)
            if figures["exit_code"] not in (0, 1):  # diff exits 1: different
                raise BenchError(f"{step.name} exited with {figures['exit_code']:g}")
            per_step.setdefault(step.name, []).append(figures)
    medians = {
        name: {k: median([r[k] for r in got]) for k in got[0]} for name, got in per_step.items()
    }
    return _entry(size_mb, mutations, per_step, medians)


def _entry(
    size_mb: float,
    mutations: Mapping[str, int],
    per_step: Mapping[str, Sequence[Mapping[str, float]]],
    medians: Mapping[str, Mapping[str, float]],
) -> dict[str, Any]:
    targets: dict[str, bool] = {}
    notes = []
    for name, med in medians.items():
        targets[f"{name}: peak RSS <= {RSS_TARGET_MB:g} MB"] = med["peak_rss_mb"] <= RSS_TARGET_MB
        before = BEFORE.get(name)
        if before is not None:
            now, then = med["wall_s"] / size_mb, before[0] / BEFORE_MB
            targets[f"{name}: wall per MB <= 2 x before"] = now <= 2 * then
            notes.append(f"{name} {now / then:.2f}x the wall per MB, RSS {before[1]:.0f} MB before")
    if "audit" not in medians:
        notes.append("audit: no such command in this version yet (hook in bench/downstream.py)")
    return {
        "scenario": "downstream-100k",
        "kind": "downstream",
        "description": f"validate, diff, report csv, audit, export on a {size_mb:.0f} MB snapshot",
        "snapshot_mb": size_mb,
        "mutations": dict(mutations),
        "runs": {name: list(got) for name, got in per_step.items()},
        "median": {name: dict(med) for name, med in medians.items()},
        "notes": "; ".join(notes),
        "targets": targets,
    }


def table(entry: Mapping[str, Any]) -> str:
    """The entry as lines: one per command (wall, CPU, peak RSS), then the verdicts."""
    out = [f"{entry['scenario']}: {entry['description']}", ""]
    out.append(f"{'command':<12}{'wall s':>10}{'CPU s':>10}{'peak RSS MB':>14}")
    for name, med in entry["median"].items():
        out.append(
            f"{name:<12}{med['wall_s']:>10.2f}{med['cpu_s']:>10.2f}{med['peak_rss_mb']:>14.1f}"
        )
    out += ["", entry["notes"], ""]
    out += [f"  [{'ok' if ok else 'MISSED'}] {t}" for t, ok in entry["targets"].items()]
    return "\n".join(out)
