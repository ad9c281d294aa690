"""The snapshot's line layout and the streaming reader: same content in any JSON layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from downstream_data import Result, base_snapshot, reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.protocol.errors import UsageError
from crawler.snapshot.header import build_header
from crawler.snapshot.layout import write_layout
from crawler.snapshot.reader import open_snapshot
from crawler.snapshot.schema import snapshot_schema
from crawler.snapshot.validate import Validator, iter_file_problems
from crawler.snapshot.writer import SnapshotWriter

T0 = datetime(2026, 11, 28, 1, 2, 3, 456000, tzinfo=UTC)

LAYOUTS: dict[str, Callable[[Any], bytes]] = {
    "compact": lambda doc: orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n",
    "indented": lambda doc: json.dumps(doc, indent=2, ensure_ascii=False).encode(),
    "spaced": lambda doc: json.dumps(doc, separators=(" , ", " : ")).encode(),
}


def whole(path: Path) -> dict[str, Any]:
    """The file as the reader sees it, put back together."""
    snapshot = open_snapshot(path)
    doc: dict[str, Any] = {}
    for key in snapshot.top_keys():
        doc[key] = list(snapshot.items(key)) if snapshot.is_array(key) else snapshot.header[key]
    return doc


def crawled(tmp_path: Path, extra: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """A snapshot as the crawler writes it (SnapshotWriter), with a few items."""
    resources = ["projects", "repositories", "pipelines", *(extra or {})]
    writer = SnapshotWriter(tmp_path / "inventory.json", resources)
    for p in range(3):
        writer.add("projects", {"id": f"p{p}", "name": f"P {p}", "_links": {"x": 1}})
        for r in range(2):
            repo = {"id": f"r{p}{r}", "name": 'a "b" [c] {d}\n', "project": {"id": f"p{p}"}}
            writer.add("repositories", repo)
    for key, values in (extra or {}).items():
        for value in values:
            writer.add(key, value)
    header = build_header(
        org_url="https://dev.azure.com/fabrikam/",
        org_name="fabrikam",
        auth_kind="job",
        resources=resources,
        started_at=T0,
        finished_at=T0,
        errors=[],
        stats={"requests": 1},
    )
    header["identity"] = {"id": "x", "kind": "unknown"}  # a header field added later
    return writer.finish(header)


def test_the_snapshot_has_one_key_and_one_item_a_line(tmp_path: Path) -> None:
    path = crawled(tmp_path, {"pipeline_settings": [{"project": {"id": "p1"}, "x": True}]})
    data = path.read_bytes()
    doc = orjson.loads(data)
    assert list(doc) == sorted(doc)
    assert data == data.rstrip(b"\n") + b"\n"
    lines = data.decode().split("\n")[:-1]
    assert (lines[0], lines[-1]) == ("{", "}")
    start = lines.index('"repositories":[')
    assert lines[start + 1 : start + 8] == [
        orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode() + ("," if n < 5 else "")
        for n, item in enumerate(doc["repositories"])
    ] + ["],"]
    assert '"pipelines":[],' in lines  # an empty array stays on its key's line
    assert '"identity":{"id":"x","kind":"unknown"},' in lines
    assert whole(path) == doc


def test_the_reader_gives_the_header_counts_and_any_resource_key(tmp_path: Path) -> None:
    path = crawled(tmp_path, {"checks": [{"id": 1, "project": {"id": "p0"}}]})
    snapshot = open_snapshot(path)
    assert snapshot.resource_keys == ["checks", "pipelines", "projects", "repositories"]
    assert {k: snapshot.count(k) for k in snapshot.resource_keys} == {
        "checks": 1,
        "pipelines": 0,
        "projects": 3,
        "repositories": 6,
    }
    assert "repositories" not in snapshot.header
    assert snapshot.header["identity"] == {"id": "x", "kind": "unknown"}
    assert snapshot.header["errors"] == []
    assert list(snapshot.items("nothing")) == []
    first = list(snapshot.items("repositories"))
    first[0]["name"] = "changed"
    assert next(snapshot.items("repositories"))["name"] != "changed"  # re-read, not cached


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(alphabet='ab"\\[]{},:\n é'),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='xy"[{:,'), inner, max_size=3)
    ),
    max_leaves=8,
)
_docs = st.fixed_dictionaries(
    {"schema_version": st.just(1), "errors": st.lists(_json, max_size=2)},
    optional={
        "organization": _json,
        "zz": _json,
        "projects": st.lists(st.dictionaries(st.text(max_size=3), _json, max_size=3)),
        "a_key": st.lists(_json, max_size=4),
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=_docs, layout=st.sampled_from(sorted(LAYOUTS)))
def test_any_json_layout_reads_the_same(tmp_path: Path, doc: dict[str, Any], layout: str) -> None:
    path = tmp_path / "any.json"
    path.write_bytes(LAYOUTS[layout](doc))
    assert whole(path) == doc
    snapshot = open_snapshot(path)
    assert {k: snapshot.count(k) for k in snapshot.resource_keys} == {
        k: len(v) for k, v in doc.items() if isinstance(v, list) and k != "errors"
    }


def test_a_large_string_across_chunks_reads_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.snapshot import jsonscan

    monkeypatch.setattr(jsonscan, "CHUNK", 7)
    doc = {"schema_version": 1, "errors": [], "projects": [{"id": "x" * 40 + '\\"]'}, {"n": 2}]}
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps(doc))
    assert whole(path) == doc


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"[]", "not a snapshot (a JSON list"),
        (b"not json", "not JSON"),
        (b'{"schema_version": 1, "projects": [{"a": 1}', "not JSON"),
        (b'{"schema_version": 1} x', "not JSON"),
        (b'{"schema_version": 3}', "schema_version 3 is not supported"),
        (b'{\n"schema_version":1,\n"projects":[\n{"a":\n', "not JSON"),
        (b'{"schema_version" 1}', "expected ':'"),
        (b'{"schema_version":1, 2:3}', "expected a key"),
        (b'{"schema_version":1,}', "expected a key"),
        (b'{"schema_version":1, "a":"x', "unterminated string"),
        (b'{"schema_version":1, "a":]}', "unexpected"),
        (b'{"schema_version":1, "a":"x" "b"}', "expected ','"),
        (b'{"schema_version":1, "a":[1}', "not JSON"),
        (b'{"schema_version":1, "a":{"b":1]}', "not JSON"),
    ],
)
def test_unreadable_files_are_named(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        open_snapshot(path)
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_streamed_validation_equals_whole_document_validation(tmp_path: Path, layout: str) -> None:
    doc = base_snapshot()
    doc["repositories"][1]["id"] = 5
    del doc["projects"][0]["name"]
    doc["stats"]["requests"] = -1
    doc["extra_key"] = [{"id": 1}, "not an object"]
    path = tmp_path / "doc.json"
    path.write_bytes(LAYOUTS[layout](doc))
    validator = Validator(snapshot_schema())
    streamed = list(iter_file_problems(validator, open_snapshot(path)))
    assert streamed == validator.problems(orjson.loads(path.read_bytes()))  # in file order
    assert {p.path for p in streamed} >= {"$.stats.requests", "$.extra_key[1]"}


def test_validate_command_streams_and_counts(
    tmp_path: Path, write_doc: Callable[[str, Any], Path], cli: Callable[..., Result]
) -> None:
    doc = base_snapshot()
    for repo in doc["repositories"]:
        repo["id"] = 0
    path = write_doc("bad.json", doc)
    result = cli("validate", path, "--max-problems", "2")
    assert result.code == 1
    count = len(Validator(snapshot_schema()).problems(doc))
    assert count >= len(doc["repositories"])
    assert f"{count} problem(s)" in result.err
    assert f"... and {count - 2} more" in result.err
    doc = reference()
    arrays = {k: (lambda k=k: doc[k]) for k in ("projects", "repositories", "pipelines")}
    good = write_layout(tmp_path / "good.json", doc, arrays)
    assert good.read_bytes().startswith(b'{\n"auth":')
    assert orjson.loads(good.read_bytes()) == doc
    assert cli("validate", good).code == 0
