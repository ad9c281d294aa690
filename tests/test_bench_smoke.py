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
)
from bench.serve import config_from_dict, config_to_dict
from crawler.emulator.config import EmulatorConfig, FaultConfig, ThrottleConfig
from crawler.emulator.model import Org
from crawler.resources import REGISTRY
from crawler.snapshot import encode_item, normalize_item, sort_key

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
    assert s.requests == 103 + 1 + 25  # connectionData, one general settings per project
    assert s.items == 25 + 75 + 525 + 25
    assert s.critical_path == 3 + 3
    empty = shape(EmulatorConfig(projects=2, pipelines_per_project=0), 100)
    assert empty.definition_pages == 2  # an empty listing is still one request


def test_lower_bounds() -> None:
    assert latency_bound_s(2000, 30, 0.04, 32) == pytest.approx(2.5)
    assert latency_bound_s(100, 30, 0.04, 32) == pytest.approx(1.2)  # the chain wins
    budget = ThrottleConfig(limit=60, window_s=3.0)
    assert budget_bound_s(60, budget) == 0.0
    assert budget_bound_s(61, budget) == 3.0
    assert budget_bound_s(202, budget) == 9.0


def test_emulator_config_survives_the_command_line() -> None:
    config = EmulatorConfig(
        projects=7,
        latency_ms=3.0,
        throttle=ThrottleConfig(limit=10, window_s=2.0),
        faults=FaultConfig(rate=0.1, kinds=("500",), permanent=("x",)),
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
