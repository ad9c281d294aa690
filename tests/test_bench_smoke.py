"""The benchmark harness keeps working: its arithmetic, and one tiny end-to-end run.

No timing assertions here: figures belong to ``make bench``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.__main__ import run
from bench.scenarios import (
    budget_bound_s,
    busiest_window,
    latency_bound_s,
    median,
    select,
    shape,
    shared_bound_s,
    union_length,
)
from bench.serve import config_from_dict, config_to_dict
from crawler.emulator.config import EmulatorConfig, FaultConfig, ThrottleConfig
from crawler.emulator.model import Org
from crawler.protocol.resources import REGISTRY
from crawler.snapshot.encode import encode_item, normalize_item, sort_key

BASE = "http://127.0.0.1:9/fabrikam"


def test_busiest_window_counts_requests_inside_any_one_second() -> None:
    assert busiest_window([]) == 0
    assert busiest_window([0.0, 0.5, 0.99, 1.0, 1.2, 5.0]) == 4  # 0.5 .. 1.2
    assert busiest_window([3.0, 1.0, 2.0]) == 1
    assert busiest_window([0.0, 0.1, 0.2], width_s=0.15) == 2


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert median([]) == 0.0


def test_shape_counts_pages_the_way_the_crawl_asks_for_them() -> None:
    org = EmulatorConfig(projects=25, repos_per_project=3, pipelines_per_project=21, page_size=10)
    s = shape(org, crawler_page_size=500)  # the emulator caps $top at its page size
    assert (s.project_pages, s.repo_requests, s.definition_pages) == (3, 25, 75)
    # the route discovery, the listings, connectionData, one general settings per project
    assert s.requests == 1 + 103 + 1 + 25
    assert s.items == 25 + 75 + 525 + 25
    assert s.critical_path == 1 + 3 + 3
    empty = shape(EmulatorConfig(projects=2, pipelines_per_project=0), 100)
    assert empty.definition_pages == 2  # an empty listing is still one request


def test_lower_bounds() -> None:
    assert latency_bound_s(2000, 30, 0.04, 32) == pytest.approx(2.5)
    assert latency_bound_s(100, 30, 0.04, 32) == pytest.approx(1.2)  # the chain wins
    budget = ThrottleConfig(limit=60, window_s=3.0)
    assert budget_bound_s(60, budget) == 0.0
    assert budget_bound_s(61, budget) == 3.0
    assert budget_bound_s(202, budget) == 9.0


def test_shared_bound_waits_for_the_other_consumers_usage_to_leave_the_window() -> None:
    shared = ThrottleConfig(model="shared", limit=100, window_s=5.0, shared_usage=80)
    assert shared_bound_s(20, shared) == 0.0  # 20 TSTU were left: all at once
    # The 21st waits for the first twentieth (4 TSTU) of the others' usage to leave.
    assert shared_bound_s(21, shared) == pytest.approx(0.25)
    assert shared_bound_s(100, shared) == pytest.approx(5.0)
    assert shared_bound_s(120, shared) == pytest.approx(5.0)  # our own first 20 leave at 5 s
    assert shared_bound_s(121, shared) > 5.0


def test_union_length_counts_overlapping_pauses_once() -> None:
    assert union_length([]) == 0.0
    assert union_length([(0.0, 1.0), (0.5, 1.5), (3.0, 4.0)]) == pytest.approx(2.5)
    assert union_length([(2.0, 3.0), (0.0, 10.0)]) == pytest.approx(10.0)


def test_emulator_config_survives_the_command_line() -> None:
    config = EmulatorConfig(
        projects=7,
        latency_ms=3.0,
        throttle=ThrottleConfig(limit=10, window_s=2.0, model="shared", shared_usage=3),
        faults=FaultConfig(rate=0.1, kinds=("500",), permanent=("x",), outage_after=4, outage_s=1),
    )
    assert config_from_dict(orjson.loads(orjson.dumps(config_to_dict(config)))) == config


def test_select_knows_every_scenario_and_refuses_others() -> None:
    assert [s.name for s in select(["scale"])] == ["scale-100k", "scale-10k"]
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        select(["nope"])


def _items() -> list[tuple[str, dict[str, Any]]]:
    org = Org(EmulatorConfig(projects=2, repos_per_project=3, pipelines_per_project=8))
    out: list[tuple[str, dict[str, Any]]] = []
    for p in org.projects():
        out.append(("projects", p.item(BASE) | {"_links": {"self": {"href": "x"}}}))
        for repo in org.repositories(p.index):
            out.append(("repositories", org.repository_item(repo, BASE)))
        for i in range(8):
            item = org.definition(p.index, i, BASE) | {"_links": {"web": {"href": "y"}}}
            out.append(("pipelines", item))
    return out


def test_encode_item_writes_exactly_what_normalize_item_gives() -> None:
    nested = dict(_items()[-1][1])
    nested["queue"] = dict(nested["queue"], _links={"self": {"href": "q"}})
    nested["variables"] = dict(nested["variables"], _links={"value": "a variable so named"})
    cases = [*_items(), ("pipelines", nested), ("other", {"id": 1, "_links": {}, "a": [1]})]
    for resource, item in cases:
        before = orjson.dumps(item)
        clean = normalize_item(resource, item)
        expected = (sort_key(resource, clean), orjson.dumps(clean, option=orjson.OPT_SORT_KEYS))
        assert encode_item(resource, item) == expected
        assert orjson.dumps(item) == before  # the caller's item is left alone
    assert b"_links" not in encode_item("pipelines", nested)[1]


def test_encode_item_matches_normalize_item_for_every_registered_resource() -> None:
    base = {
        "id": "7",
        "name": "n",
        "project": {"id": "p", "name": "P"},
        "_links": {"self": {"href": "x"}},
        "variables": {"a": {"value": "v", "isSecret": False}},
        "authorization": {"parameters": {"password": "p"}, "scheme": "x"},
        "environments": [{"variables": {"b": {"value": "w"}}}],
        "somethingNew": {"token": "t"},
    }
    for resource in REGISTRY:
        clean = normalize_item(resource, base)
        expected = (sort_key(resource, clean), orjson.dumps(clean, option=orjson.OPT_SORT_KEYS))
        assert encode_item(resource, base) == expected, resource


def test_a_quick_benchmark_run_measures_a_real_crawl(tmp_path: Path) -> None:
    doc = run(["latency-bound"], runs=1, quick=True, results_dir=tmp_path, echo=False)
    (entry,) = doc["scenarios"]
    expected = shape(select(["latency-bound"], quick=True)[0].emulator, 5)
    med = entry["median"]
    assert med["requests"] == expected.requests
    assert med["server_requests"] == expected.requests  # the server saw this run only
    assert med["items"] == expected.items
    assert med["lost_items"] == 0
    assert med["cpu_s"] > 0
    assert med["peak_rss_mb"] > 0
    assert med["lower_bound_s"] > 0
    assert "latency-bound" in doc["table"]
    latest = orjson.loads((tmp_path / "latest.json").read_bytes())
    assert latest["scenarios"][0]["scenario"] == "latency-bound"
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_quick_downstream_run_measures_every_reader(tmp_path: Path) -> None:
    doc = run(["downstream-100k"], runs=1, quick=True, results_dir=tmp_path, echo=False)
    assert doc["failures"] == []
    (entry,) = doc["scenarios"]
    assert entry["scenario"] == "downstream-100k"
    assert {"validate", "diff", "report-csv", "export"} <= set(entry["median"])
    assert all(m["peak_rss_mb"] > 0 for m in entry["median"].values())
    assert entry["mutations"]["removed"] > 0
    assert "peak RSS MB" in doc["table"]
