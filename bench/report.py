"""Turn measured runs into figures, medians, target verdicts and the printed table (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.harness import CrawlRun, ScenarioRuns, server_figures
from bench.scenarios import (
    budget_bound_s,
    latency_bound_s,
    median,
    rate_bound_s,
    shape,
    shared_bound_s,
    union_length,
)

RETRY_AFTER_S = 1.0  # what the burst's 429s and the 503-retry-after faults ask for

Figures = dict[str, float]

COLUMNS = (
    ("scenario", "scenario", "{}"),
    ("requests", "requests", "{:,.0f}"),
    ("items", "items", "{:,.0f}"),
    ("wall_s", "wall s", "{:.2f}"),
    ("window_s", "window s", "{:.2f}"),
    ("lower_bound_s", "lower bound s", "{:.2f}"),
    ("ratio", "ratio", "{:.2f}"),
    ("cpu_s", "CPU s", "{:.2f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.1f}"),
)


def run_figures(result: ScenarioRuns, index: int) -> Figures:
    """The numbers of one run: process, snapshot stats, server view, bounds, ratio."""
    scenario = result.scenario
    run: CrawlRun = result.runs[index]
    stats = run.stats
    expected = shape(scenario.emulator, scenario.page_size)
    items = sum(run.counts.values())
    figures: Figures = {
        "requests": float(stats["requests"]),
        "pages": float(stats["pages"]),
        "items": float(items),
        "lost_items": float(max(0, expected.items - items)),
        "complete": float(run.complete),
        "wall_s": run.wall_s,
        "window_s": float(stats.get("window_s", 0.0)),
        "elapsed_s": float(stats.get("elapsed_s", 0.0)),
        "cpu_s": run.cpu_s,
        "cpu_s_per_10k_items": run.cpu_s / items * 10_000 if items else 0.0,
        "peak_rss_mb": run.peak_rss_mb,
        "retries": float(stats.get("retries", 0)),
        "throttled": float(stats.get("throttled", 0)),
        "wait_s": float(stats.get("wait_s", 0.0)),
        "outage_s": float(stats.get("outage_s", 0.0)),
        "outage_probes": float(stats.get("outage_probes", 0)),
    }
    figures |= {k: float(v) for k, v in server_figures(result.server[index]).items()}
    requests = int(stats["requests"])
    emu = scenario.emulator
    if scenario.kind in ("latency", "baseline"):
        latency = emu.latency_ms / 1000
        bound = latency_bound_s(requests, expected.critical_path, latency, scenario.concurrency)
        figures["critical_path_s"] = expected.critical_path * latency
        figures["lower_bound_s"] = bound
        figures["ratio"] = figures["window_s"] / bound if bound else 0.0
        figures["wall_ratio"] = run.wall_s / bound if bound else 0.0
    elif scenario.kind == "rate":
        bound = rate_bound_s(requests, scenario.rate)
        figures["lower_bound_s"] = bound
        figures["ratio"] = run.wall_s / bound
        figures["rate_cap_1s"] = scenario.rate * 1.1
    elif scenario.kind == "throttle":
        successful = requests - int(figures["throttled"])
        bound = budget_bound_s(successful, emu.throttle)
        figures["lower_bound_s"] = bound
        figures["ratio"] = run.wall_s / bound if bound else 0.0
        figures["server_429_after_first"] = max(0.0, figures["server_429"] - 1)
    elif scenario.kind == "bucket":
        answered = figures["server_requests"] - figures["server_429"]
        bound = answered / emu.throttle.rate
        figures["lower_bound_s"] = bound
        figures["ratio"] = run.wall_s / bound if bound else 0.0
        figures["server_429_share"] = figures["server_429"] / max(1.0, figures["server_requests"])
    elif scenario.kind in ("burst", "outage"):
        reference = median([r.wall_s for r in result.reference])
        log = result.server[index]
        if scenario.kind == "burst":
            pauses = [(t, t + RETRY_AFTER_S) for t, s in zip(log.times, log.statuses, strict=True)
                      if s in (429, 503)]  # fmt: skip
            extra = union_length(pauses)
        else:
            extra = emu.faults.outage_s
        figures["reference_wall_s"] = reference
        figures["extra_s"] = extra
        figures["lower_bound_s"] = reference + extra
        figures["ratio"] = run.wall_s / (reference + extra) if reference else 0.0
    elif scenario.kind == "shared":
        successful = requests - int(figures["throttled"])
        bound = shared_bound_s(successful, emu.throttle)
        figures["lower_bound_s"] = bound
        figures["ratio"] = run.wall_s / bound if bound else 0.0
    else:
        figures["lower_bound_s"] = 0.0
        figures["ratio"] = 0.0
    return figures


def median_figures(per_run: Sequence[Figures]) -> Figures:
    """Every figure's median over the runs."""
    keys = per_run[0].keys() if per_run else ()
    return {k: median([f[k] for f in per_run]) for k in keys}


def summarize(results: Sequence[ScenarioRuns]) -> list[dict[str, Any]]:
    """One JSON-ready entry per scenario: per-run figures, medians, notes and verdicts."""
    out: list[dict[str, Any]] = []
    medians: dict[str, Figures] = {}
    for result in results:
        runs = [run_figures(result, i) for i in range(len(result.runs))]
        medians[result.scenario.name] = median_figures(runs)
    for result in results:
        s = result.scenario
        med = medians[s.name]
        entry: dict[str, Any] = {
            "scenario": s.name,
            "kind": s.kind,
            "description": s.description,
            "flags": s.crawl_flags(),
            "emulator": {
                "projects": s.emulator.projects,
                "repos_per_project": s.emulator.repos_per_project,
                "pipelines_per_project": s.emulator.pipelines_per_project,
                "page_size": s.emulator.page_size,
                "latency_ms": s.emulator.latency_ms,
                "throttle_limit": s.emulator.throttle.limit,
                "throttle_window_s": s.emulator.throttle.window_s,
            },
            "runs": [run_figures(result, i) for i in range(len(result.runs))],
            "median": med,
            "deterministic": len({r.digest for r in result.runs}) <= 1,
        }
        entry["notes"], entry["targets"] = _notes_and_targets(s.kind, s.name, med, medians, entry)
        out.append(entry)
    return out


def _notes_and_targets(
    kind: str,
    name: str,
    med: Figures,
    medians: Mapping[str, Figures],
    entry: Mapping[str, Any],
) -> tuple[str, dict[str, bool]]:
    targets: dict[str, bool] = {}
    lost = med["lost_items"]
    if kind == "latency":
        targets["window <= 1.25 x lower bound"] = med["ratio"] <= 1.25
        note = (
            f"window {med['window_s']:.2f}s = {med['ratio']:.2f}x bound "
            f"(critical path {med['critical_path_s']:.2f}s); wall {med['wall_ratio']:.2f}x bound"
        )
    elif kind == "rate":
        targets["wall <= 1.05 x requests/rate"] = med["ratio"] <= 1.05
        worst = max(r["busiest_1s"] for r in entry["runs"])
        targets["busiest 1 s <= rate x 1.1"] = worst <= med["rate_cap_1s"]
        note = f"busiest 1 s at server: {worst:.0f} requests (cap {med['rate_cap_1s']:.0f})"
    elif kind == "throttle":
        targets["zero lost items"] = lost == 0 and med["complete"] == 1
        targets["<= 5 429s after the first"] = med["server_429_after_first"] <= 5
        note = (
            f"429s {med['server_429']:.0f} ({med['server_429_after_first']:.0f} after the first), "
            f"wait {med['wait_s']:.2f}s, budget minimum {med['lower_bound_s']:.2f}s, "
            f"lost {lost:.0f}"
        )
    elif kind == "bucket":
        targets["zero lost items"] = lost == 0 and med["complete"] == 1
        targets["wall <= 1.2 x answered/rate"] = med["ratio"] <= 1.2
        targets["429s <= 5% of requests"] = med["server_429_share"] <= 0.05
        note = (
            f"bound = answered / rate = {med['lower_bound_s']:.2f}s; "
            f"429s {med['server_429']:.0f} of {med['server_requests']:.0f} requests"
        )
    elif kind == "burst":
        targets["zero lost items"] = lost == 0 and med["complete"] == 1
        targets["wall <= fault-free + 5 s"] = med["wall_s"] <= med["reference_wall_s"] + 5
        targets["retries counted"] = med["retries"] > 0
        note = (
            f"bound = fault-free {med['reference_wall_s']:.2f}s + Retry-After waits that "
            f"cannot overlap {med['extra_s']:.2f}s; retries {med['retries']:.0f}, "
            f"throttled {med['throttled']:.0f}"
        )
    elif kind == "shared":
        targets["zero lost items"] = lost == 0 and med["complete"] == 1
        targets["wall <= 1.3 x what the remaining budget allows"] = med["ratio"] <= 1.3
        share = med["server_429"] / max(1.0, med["server_requests"])
        targets["no 429 storm (<= 5% of requests)"] = share <= 0.05
        note = (
            f"bound = what the remaining budget allows {med['lower_bound_s']:.2f}s; "
            f"429s {med['server_429']:.0f}"
        )
    elif kind == "outage":
        targets["complete, nothing lost"] = lost == 0 and med["complete"] == 1
        targets["wall <= fault-free + outage + 10 s"] = med["wall_s"] <= med["lower_bound_s"] + 10
        note = (
            f"bound = fault-free {med['reference_wall_s']:.2f}s + outage {med['extra_s']:.0f}s; "
            f"outage {med['outage_s']:.2f}s seen, {med['outage_probes']:.0f} probes"
        )
    elif kind == "scale":
        if name == "scale-100k":  # scale-10k shows memory growth; start-up dominates its CPU
            targets["<= 0.3 CPU s per 10k items"] = med["cpu_s_per_10k_items"] <= 0.3
        targets["deterministic snapshot"] = bool(entry["deterministic"])
        note = f"{med['cpu_s_per_10k_items']:.3f} CPU s per 10k items"
        small = next((m for n, m in medians.items() if n == "scale-10k"), None)
        if name == "scale-100k":
            targets["peak RSS <= 250 MB"] = med["peak_rss_mb"] <= 250
            if small is not None and small["peak_rss_mb"]:
                growth = med["peak_rss_mb"] / small["peak_rss_mb"] - 1
                targets["RSS growth 10k -> 100k < 25%"] = growth < 0.25
                note += f"; RSS +{growth:.0%} over scale-10k"
                extra_items = med["items"] - small["items"]
                if extra_items > 0:  # without the fixed cost of starting Python and imports
                    marginal = (med["cpu_s"] - small["cpu_s"]) / extra_items * 10_000
                    note += f"; marginal {marginal:.3f} CPU s per 10k items over scale-10k"
    else:
        parallel = medians.get("latency-bound")
        if parallel is not None and parallel["wall_s"]:
            speedup = med["wall_s"] / parallel["wall_s"]
            targets["speed-up > 20x"] = speedup > 20
            note = (
                f"latency-bound is {speedup:.1f}x faster (wall), "
                f"{med['window_s'] / max(parallel['window_s'], 1e-9):.1f}x (window)"
            )
        else:
            note = "run latency-bound too for the speed-up"
    if kind not in ("throttle", "bucket", "burst", "shared", "outage") and lost:
        note += f"; LOST {lost:.0f} items"
    return note, targets


def table(entries: Sequence[Mapping[str, Any]]) -> str:
    """The fixed-width results table plus one note line per scenario and the verdicts."""
    header = [title for _, title, _ in COLUMNS]
    rows: list[list[str]] = []
    for entry in entries:
        med = entry["median"]
        row = []
        for key, _, fmt in COLUMNS:
            if key == "scenario":
                row.append(entry["scenario"])
            elif key in ("lower_bound_s", "ratio") and not med.get(key):
                row.append("-")
            else:
                row.append(fmt.format(med.get(key, 0.0)))
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    out = [line(header), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    out.append("")
    for entry in entries:
        out.append(f"{entry['scenario']}: {entry['notes']}")
    verdicts = [
        f"  [{'ok' if ok else 'MISSED'}] {entry['scenario']}: {target}"
        for entry in entries
        for target, ok in entry["targets"].items()
    ]
    if verdicts:
        out.extend(["", "targets:", *verdicts])
    out.extend(
        [
            "",
            "ratio: latency-bound and baseline = window / lower bound; the others = wall / "
            "lower bound.",
            "window = first request sent to last response received (snapshot stats.window_s); "
            "wall = whole crawler process.",
        ]
    )
    return "\n".join(out)
