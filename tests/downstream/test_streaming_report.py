"""Reports over a snapshot file read item by item equal reports over the loaded document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from downstream_data import changed, reference

from crawler.downstream.merge import merge_snapshots, resource_keys
from crawler.downstream.report.csv import render_csv
from crawler.downstream.report.html import render_html
from crawler.downstream.report.markdown import render_markdown
from crawler.downstream.report.model import ItemStream, build_inventory, open_inventory
from crawler.snapshot.layout import write_layout
from crawler.snapshot.reader import open_snapshot


def _lines(path: Path, doc: dict[str, Any]) -> Path:
    arrays = {k: (lambda k=k: doc[k]) for k in resource_keys(doc)}
    return write_layout(path, doc, arrays)


WRITERS: dict[str, Callable[[Path, dict[str, Any]], Path]] = {
    "lines": _lines,
    "compact": lambda path, doc: path.write_bytes(orjson.dumps(doc)) and path,
    "indented": lambda path, doc: path.write_text(json.dumps(doc, indent=1)) and path,
}


def _multi() -> dict[str, Any]:
    other = changed()
    other["organization"] = {"name": "contoso", "url": "https://dev.azure.com/contoso/"}
    return merge_snapshots([("a", reference()), ("b", other)])


@pytest.mark.parametrize("layout", sorted(WRITERS))
@pytest.mark.parametrize("make", [reference, _multi], ids=["single", "multi"])
def test_reports_from_a_file_equal_reports_from_the_document(
    tmp_path: Path, layout: str, make: Callable[[], dict[str, Any]]
) -> None:
    doc = make()
    path = WRITERS[layout](tmp_path / "in.json", doc)
    loaded, streamed = build_inventory(doc), open_inventory(open_snapshot(path))
    assert isinstance(streamed.of("repositories"), ItemStream)
    assert render_markdown(streamed) == render_markdown(loaded)
    assert render_html(streamed) == render_html(loaded)
    assert render_csv(streamed) == render_csv(loaded)


def test_an_item_stream_reads_again_and_names_the_organization(tmp_path: Path) -> None:
    doc = reference()
    inv = open_inventory(open_snapshot(_lines(tmp_path / "in.json", doc)))
    repos = inv.of("repositories")
    assert len(repos) == len(doc["repositories"])
    first, second = list(repos), list(repos)
    assert first == second == [{**r, "organization": "fabrikam"} for r in doc["repositories"]]
    assert first[0] is not second[0]
    assert first[0] in repos
    assert list(inv.of("not_there")) == []
