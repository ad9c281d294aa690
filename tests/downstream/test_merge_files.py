"""``merge`` of files, item by item, writes what merging the loaded documents gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from downstream_data import Result, changed, make_snapshot, project, reference

from crawler.downstream.merge import merge_snapshots, resource_keys


def _orgs() -> list[dict[str, Any]]:
    other = changed()
    other["organization"] = {"name": "contoso", "url": "https://dev.azure.com/contoso/"}
    third = make_snapshot(org="alpha", projects=[project("0f", "Only")])
    return [reference(), other, third]


@pytest.mark.parametrize("shuffled", [False, True])
def test_merged_file_equals_merged_documents(
    write_doc: Callable[[str, Any], Path], cli: Callable[..., Result], shuffled: bool
) -> None:
    docs = _orgs()
    paths = []
    for n, doc in enumerate(docs):
        if shuffled:  # another tool rewrote it: items in any order
            doc = orjson.loads(orjson.dumps(doc))
            for key in resource_keys(doc):
                random.Random(n).shuffle(doc[key])
        paths.append(write_doc(f"in{n}.json", doc))
    out = paths[0].parent / "all.json"
    result = cli("merge", "-o", out, *paths)
    assert result.code == 0, result.err
    expected = merge_snapshots([(str(p), d) for p, d in zip(paths, _orgs(), strict=True)])
    data = out.read_bytes()
    assert orjson.loads(data) == expected
    lines = data.split(b"\n")
    assert lines[0] == b"{"
    assert b'"repositories":[' in lines
    assert cli("validate", out).code == 0
    again = paths[0].parent / "again.json"
    assert cli("merge", "-o", again, out).code == 0  # a merged file merges again, as it is
    assert again.read_bytes() == data
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []
