"""``python -m bench [SCENARIO ...] [--runs N] [--quick]``: run, print the table, write JSON."""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import downstream
from bench.harness import ROOT, BenchError, run_scenario
from bench.report import summarize, table
from bench.scenarios import scenarios, select

RESULTS = Path(__file__).resolve().parent / "results"


def compile_crawler() -> None:
    """Byte-compile the crawler once, as installing a package does.

    With ``PYTHONDONTWRITEBYTECODE=1`` (common in containers and CI) an editable
    checkout never gets ``.pyc`` files, so every crawl would compile its own sources
    again at start-up (~30 ms here): a cost of the checkout, not of the crawler.
    """
    compileall.compile_dir(ROOT / "crawler", quiet=1)


def run(
    names: Sequence[str],
    *,
    runs: int,
    quick: bool,
    results_dir: Path = RESULTS,
    echo: bool = True,
) -> dict[str, Any]:
    """Run the chosen scenarios, write ``<timestamp>.json`` and ``latest.json``; the document."""
    wanted_downstream = [n for n in names if n in downstream.NAMES]
    crawl_names = [n for n in names if n not in downstream.NAMES]
    chosen = select(crawl_names, quick) if crawl_names or not names else []
    run_downstream = bool(wanted_downstream) or not names
    compile_crawler()
    started = datetime.now(UTC)
    measured = []
    failures: list[dict[str, str]] = []
    downstream_entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ado-bench-") as tmp:
        if run_downstream:
            try:
                if echo:
                    print("... downstream-100k: every snapshot reader", file=sys.stderr, flush=True)
                downstream_entries.append(downstream.run_downstream(runs, Path(tmp), quick))
            except BenchError as exc:
                failures.append({"scenario": "downstream-100k", "error": str(exc)})
        for scenario in chosen:
            if echo:
                print(f"... {scenario.name}: {scenario.description}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                measured.append(run_scenario(scenario, runs, Path(tmp)))
            except BenchError as exc:  # one broken scenario must not lose the others
                failures.append({"scenario": scenario.name, "error": str(exc)})
                if echo:
                    print(f"    FAILED: {exc}", file=sys.stderr, flush=True)
                continue
            if echo:
                took = time.perf_counter() - t0
                print(f"    done in {took:.1f}s", file=sys.stderr, flush=True)
    entries = summarize(measured)
    text = table(entries) if entries else ""
    for entry in downstream_entries:
        text += ("\n\n" if text else "") + downstream.table(entry)
    entries += downstream_entries
    for failure in failures:
        last = failure["error"].strip().splitlines()[-1:] or [""]
        text += f"\nFAILED {failure['scenario']}: {last[0]}"
    doc = {
        "created_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs_per_scenario": runs,
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "scenarios": entries,
        "failures": failures,
        "table": text,
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (results_dir / f"{stamp}{'-quick' if quick else ''}.json").write_bytes(data)
    (results_dir / "latest.json").write_bytes(data)
    if echo:
        print(text, flush=True)
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    names = [*(s.name for s in scenarios()), *downstream.NAMES]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the crawler against the emulator (see bench/README.md).",
    )
    parser.add_argument(
        "scenario", nargs="*", help=f"scenarios to run (default: all): {', '.join(names)}, scale"
    )
    parser.add_argument("--runs", type=int, default=3, help="measured runs per scenario (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    try:
        doc = run(args.scenario, runs=args.runs, quick=args.quick)
    except ValueError as exc:
        parser.error(str(exc))
    return 1 if doc["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
