"""The snapshot writer: normalisation, deterministic order, atomic replace, nothing left behind."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from crawler.pipeline import command, escape_property, log_issue
from crawler.protocol.resources import strip_links
from crawler.snapshot.encode import normalize_item, sort_key
from crawler.snapshot.header import build_header, rfc3339
from crawler.snapshot.writer import SnapshotWriter

T0 = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)


def header(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "org_url": "https://dev.azure.com/fabrikam/",
        "org_name": "fabrikam",
        "auth_kind": "job",
        "resources": ["projects", "repositories", "pipelines"],
        "started_at": T0,
        "finished_at": T0,
        "errors": [],
        "stats": {"requests": 1},
    }
    values.update(overrides)
    return build_header(**values)


def items(n: int) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for p in range(n):
        project = {"id": f"p{p:03d}", "name": f"Project {p}", "_links": {"self": {"href": "x"}}}
        out.append(("projects", project))
        for r in range(3):
            out.append(("repositories", {"id": f"r{p}-{r}", "project": {"id": f"p{p:03d}"}}))
            out.append(("pipelines", {"id": r * 7 + p, "project": {"id": f"p{p:03d}"}}))
    return out


def write(tmp_path: Path, entries: list[tuple[str, dict[str, Any]]], name: str) -> bytes:
    writer = SnapshotWriter(tmp_path / name, ["projects", "repositories", "pipelines"])
    for resource, item in entries:
        writer.add(resource, item)
    return writer.finish(header()).read_bytes()


def test_arrival_order_does_not_matter(tmp_path: Path) -> None:
    entries = items(6)
    shuffled = list(entries)
    random.Random(4).shuffle(shuffled)
    assert write(tmp_path, entries, "a.json") == write(tmp_path, shuffled, "b.json")


def test_snapshot_is_sorted_json_without_links(tmp_path: Path) -> None:
    data = orjson.loads(write(tmp_path, items(3), "s.json"))
    assert list(data) == sorted(data)
    assert [p["id"] for p in data["projects"]] == ["p000", "p001", "p002"]
    assert [(r["project"]["id"], r["id"]) for r in data["repositories"]] == sorted(
        (r["project"]["id"], r["id"]) for r in data["repositories"]
    )
    assert b"_links" not in orjson.dumps(data)
    assert data["complete"] is True
    assert data["started_at"] == "2026-11-28T01:02:03.456Z"


def test_duplicates_are_kept_once_and_counted(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path / "s.json", ["projects"])
    writer.add("projects", {"id": "a", "name": "one"})
    writer.add("projects", {"id": "b", "name": "two"})
    writer.add("projects", {"id": "a", "name": "again"})
    writer.seal()
    assert writer.duplicates == 1
    assert writer.counts == {"projects": 2}
    data = orjson.loads(writer.finish(header()).read_bytes())
    assert data["projects"] == [{"id": "a", "name": "one"}, {"id": "b", "name": "two"}]


def write_batched(tmp_path: Path, entries: list[tuple[str, dict[str, Any]]], name: str) -> bytes:
    """Like the crawl: one batch per (resource, project), projects one by one."""
    writer = SnapshotWriter(tmp_path / name, ["projects", "repositories", "pipelines"])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for resource, item in entries:
        if resource == "projects":
            writer.add(resource, item)
        else:
            groups.setdefault((resource, item["project"]["id"]), []).append(item)
    for (resource, _), group in groups.items():
        with writer.batch(resource) as batch:
            for item in group:
                batch.add(item)
    return writer.finish(header()).read_bytes()


def test_batches_per_project_give_the_same_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.snapshot import output as snapshot_output

    monkeypatch.setattr(snapshot_output, "_SMALL_COPY", 1)  # every segment copied by the kernel
    entries = items(12)
    random.Random(7).shuffle(entries)
    assert write_batched(tmp_path, entries, "batched.json") == write(tmp_path, items(12), "a.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "batched.json"]


def test_split_batches_and_duplicates_merge_item_by_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.snapshot import spill as snapshot_spill

    monkeypatch.setattr(snapshot_spill, "SEGMENT_BUDGET", 300)  # batches split after a few
    monkeypatch.setattr(snapshot_spill, "INDEX_LINE", 2)  # several index lines per segment
    entries = items(20)
    entries += entries[5:40]  # duplicates, in other segments
    random.Random(2).shuffle(entries)
    split = write_batched(tmp_path, entries, "split.json")
    monkeypatch.setattr(snapshot_spill, "SEGMENT_BUDGET", 1 << 30)
    assert split == write(tmp_path, items(20), "whole.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split.json", "whole.json"]


def test_memory_held_stays_within_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.snapshot import spill as snapshot_spill

    monkeypatch.setattr(snapshot_spill, "SEGMENT_BUDGET", 1000)
    writer = SnapshotWriter(tmp_path / "s.json", ["pipelines"])
    batches = [writer.batch("pipelines") for _ in range(5)]  # five listings at once
    peak = 0
    for n in range(500):
        batches[n % 5].add({"id": n, "project": {"id": f"p{n % 5}"}, "name": "x" * 50})
        peak = max(peak, writer.held)
    assert 0 < peak <= 1000 + 100  # the budget plus the item that tipped it
    writer.seal()
    assert writer.counts == {"pipelines": 500}
    data = orjson.loads(writer.finish(header()).read_bytes())
    assert [(p["project"]["id"], p["id"]) for p in data["pipelines"]] == sorted(
        (f"p{n % 5}", n) for n in range(500)
    )


def test_loose_items_go_to_disk_a_segment_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Items added one by one (a settings object per project) are not held until the seal.
    from crawler.snapshot import spill as snapshot_spill

    monkeypatch.setattr(snapshot_spill, "LOOSE_BUDGET", 500)
    writer = SnapshotWriter(tmp_path / "s.json", ["pipeline_settings"])
    peak = 0
    order = list(range(300))
    random.Random(3).shuffle(order)
    for n in [*order, *order[:40]]:  # and duplicates, in later segments
        writer.add("pipeline_settings", {"id": f"p{n:03}", "project": {"id": f"p{n:03}"}})
        peak = max(peak, writer.held)
    assert 0 < peak <= 500 + 100  # the loose budget plus the item that tipped it
    writer.seal()
    data = orjson.loads(writer.finish(header()).read_bytes())
    assert [i["id"] for i in data["pipeline_settings"]] == [f"p{n:03}" for n in range(300)]


def test_duplicate_kept_is_the_first_within_a_batch_then_the_earlier_batch(
    tmp_path: Path,
) -> None:
    writer = SnapshotWriter(tmp_path / "s.json", ["repositories"])
    project = {"id": "p"}
    with writer.batch("repositories") as first:
        first.add({"id": "a", "name": "first", "project": project})
        first.add({"id": "a", "name": "second", "project": project})
    writer.add("repositories", {"id": "a", "name": "later", "project": project})
    writer.add("repositories", {"id": "b", "name": "b", "project": project})
    writer.seal()
    assert writer.duplicates == 2
    assert writer.counts == {"repositories": 2}
    data = orjson.loads(writer.finish(header()).read_bytes())
    assert [r["name"] for r in data["repositories"]] == ["first", "b"]


def test_copy_falls_back_when_the_kernel_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from crawler.snapshot import output as snapshot_output

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(snapshot_output, "_SMALL_COPY", 1)
    expected = write_batched(tmp_path, items(9), "kernel.json")
    monkeypatch.setattr(os, "copy_file_range", refuse)
    assert write_batched(tmp_path, items(9), "memory.json") == expected


def test_a_closed_batch_takes_no_items(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path / "s.json", ["projects"])
    batch = writer.batch("projects")
    batch.close()
    with pytest.raises(RuntimeError, match="closed"):
        batch.add({"id": "a"})
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_clusters_join_overlapping_ranges_only() -> None:
    from crawler.snapshot.spill import _Segment, clusters

    def seg(seq: int, first: str, last: str) -> _Segment:
        return _Segment((first,), (last,), seq, 0, 0, 1, 0, 0)

    groups = clusters([seg(0, "m", "p"), seg(1, "a", "c"), seg(2, "d", "f"), seg(3, "f", "g")])
    assert [[s.seq for s in group] for group in groups] == [[1], [2, 3], [0]]
    assert [[s.seq for s in g] for g in clusters([seg(0, "a", "z"), seg(1, "b", "c")])] == [[0, 1]]


def test_requested_resource_with_no_items_is_an_empty_array(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path / "s.json", ["projects", "repositories"])
    data = orjson.loads(writer.finish(header()).read_bytes())
    assert data["projects"] == []
    assert data["repositories"] == []


def test_abort_leaves_earlier_snapshot_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "inventory.json"
    target.write_bytes(b"previous")
    writer = SnapshotWriter(target, ["projects"])
    writer.add("projects", {"id": "a"})
    writer.abort()
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.json"]


def test_finish_replaces_atomically_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "inventory.json"
    target.write_bytes(b"previous")
    writer = SnapshotWriter(target, ["projects"])
    writer.add("projects", {"id": "a"})
    writer.finish(header())
    assert orjson.loads(target.read_bytes())["projects"] == [{"id": "a"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.json"]


def test_pipeline_variable_values_are_never_stored() -> None:
    definition = {
        "id": 1,
        "variables": {
            "password": {"isSecret": True, "value": None},
            "region": {"value": "westeurope", "allowOverride": True},
        },
    }
    clean = normalize_item("pipelines", definition)
    assert clean["variables"] == {"password": {"isSecret": True}, "region": {"allowOverride": True}}
    assert "westeurope" not in orjson.dumps(clean).decode()


def test_variables_keep_exactly_the_declared_flags() -> None:
    from crawler.protocol.resources import VARIABLE_FLAGS, keep_variable_flags

    spec = {flag: True for flag in VARIABLE_FLAGS} | {"value": "v", "future": 1}
    assert keep_variable_flags({"a": spec, "b": "odd", "c": {}}) == {
        "a": dict.fromkeys(VARIABLE_FLAGS, True),
        "b": {},
        "c": {},
    }
    assert keep_variable_flags(None) is None
    assert keep_variable_flags(["not", "a", "map"]) == {}


def test_identity_and_queue_links_are_dropped_on_the_fast_path() -> None:
    from crawler.snapshot.encode import encode_item

    definition = {
        "id": 7,
        "project": {"id": "p"},
        "_links": {"self": {"href": "x"}},
        "authoredBy": {"id": "u", "_links": {"avatar": {"href": "y"}}},
        "queue": {"id": 3, "_links": {"self": {"href": "z"}}, "pool": {"id": 1}},
        "latestBuild": {"id": 9, "_links": {"web": {"href": "w"}}},  # deeper: the slow path
    }
    key, data = encode_item("pipelines", definition)
    assert key == ("p", 7)
    assert b"_links" not in data
    assert orjson.loads(data) == normalize_item("pipelines", definition)
    assert "_links" in definition["authoredBy"]  # the caller's item is untouched


def test_strip_links_at_any_depth() -> None:
    value = {"_links": 1, "a": [{"_links": 2, "b": {"_links": 3, "c": 4}}]}
    assert strip_links(value) == {"a": [{"b": {"c": 4}}]}


def test_errors_make_the_snapshot_partial_and_are_ordered() -> None:
    errors = [
        {"resource": "repositories", "project": {"id": "2", "name": "B"}, "message": "x"},
        {"resource": "pipelines", "project": {"id": "1", "name": "A"}, "message": "y"},
    ]
    doc = header(errors=errors)
    assert doc["complete"] is False
    assert [e["resource"] for e in doc["errors"]] == ["pipelines", "repositories"]


def test_sort_keys() -> None:
    assert sort_key("projects", {"id": "b"}) == ("b",)
    assert sort_key("pipelines", {"id": 3, "project": {"id": "p"}}) == ("p", 3)


def test_rfc3339_is_utc_with_z() -> None:
    assert rfc3339(T0) == "2026-11-28T01:02:03.456Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50%; done]", "50%AZP25%3B done%5D"), ("a\r\nb", "a%0D%0Ab")],
)
def test_logging_command_escaping(text: str, expected: str) -> None:
    assert escape_property(text) == expected


def test_logging_command_shape() -> None:
    assert (
        log_issue("line1\nline2 100%")
        == "##vso[task.logissue type=warning;]line1%0Aline2 100%AZP25"
    )
    assert command("task.setprogress", "Crawling", value="40") == (
        "##vso[task.setprogress value=40;]Crawling"
    )


def test_write_all_finishes_a_short_writev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from crawler.snapshot import spill as snapshot_spill

    real = os.writev

    def short(fd: int, parts: list[bytes]) -> int:
        return real(fd, parts[:1])  # only the first buffer, as a full pipe or disk might

    monkeypatch.setattr(os, "writev", short)
    monkeypatch.setattr(snapshot_spill, "_IOV_MAX", 3)
    target = tmp_path / "out"
    with target.open("wb") as out:
        snapshot_spill._write_all(out.fileno(), [b"ab", memoryview(b"cd"), b",", b"ef", b"g"])
    assert target.read_bytes() == b"abcd,efg"
