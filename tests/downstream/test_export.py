"""``export --format ndjson``: one file per resource key that DuckDB reads with its defaults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
from downstream_data import Result, changed, reference

from crawler.downstream.merge import merge_snapshots, resource_keys
from crawler.emulator import EmulatorConfig, run_emulator
from crawler.protocol.errors import EXIT_OK
from tests.crawl_helpers import crawl


def _per_project(items: list[dict[str, Any]]) -> Counter[str]:
    return Counter(item["project"]["name"] for item in items)


async def test_duckdb_counts_per_project_equal_the_snapshot(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    async with run_emulator(EmulatorConfig()) as emu:
        result, snapshot = await crawl(emu, tmp_path)  # the default resources
    out = tmp_path / "export"
    exported = cli("export", result.output, "--format", "ndjson", "-o", out)
    assert exported.code == EXIT_OK, exported.err
    keys = resource_keys(snapshot)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["snapshot.json", *(f"{k}.ndjson" for k in keys)]
    )
    db = duckdb.connect()  # default settings: no maximum_object_size, no format given
    for key in keys:
        path = str(out / f"{key}.ndjson")
        if not snapshot[key]:
            assert (out / f"{key}.ndjson").read_bytes() == b""
            continue
        (rows,) = db.execute("SELECT count(*) FROM read_json(?)", [path]).fetchone() or (0,)
        assert rows == len(snapshot[key]), key
        orgs = db.execute("SELECT DISTINCT organization FROM read_json(?)", [path]).fetchall()
        assert orgs == [("fabrikam",)], key
        if key == "projects":
            continue
        query = "SELECT project.name, count(*) FROM read_json(?) GROUP BY ALL"
        assert dict(db.execute(query, [path]).fetchall()) == _per_project(snapshot[key]), key
    header = orjson.loads((out / "snapshot.json").read_bytes())
    assert header == {k: v for k, v in snapshot.items() if k not in keys}
    assert cli("validate", out / "snapshot.json").code == EXIT_OK
    repos = db.execute(
        "SELECT p.name, count(r.id) FROM read_json(?) p LEFT JOIN read_json(?) r "
        "ON r.project.id = p.id GROUP BY ALL",
        [str(out / "projects.ndjson"), str(out / "repositories.ndjson")],
    ).fetchall()
    assert dict(repos) == _per_project(snapshot["repositories"])


def test_export_of_a_merged_file_keeps_each_organization(
    tmp_path: Path, write_doc: Callable[[str, Any], Path], cli: Callable[..., Result]
) -> None:
    other = changed()
    other["organization"] = {"name": "contoso", "url": "https://dev.azure.com/contoso/"}
    merged = merge_snapshots([("a", reference()), ("b", other)])
    out = tmp_path / "out"
    assert cli("export", write_doc("all.json", merged), "-o", out).code == EXIT_OK
    for key in resource_keys(merged):
        lines = (out / f"{key}.ndjson").read_bytes().splitlines()
        assert lines == [orjson.dumps(i, option=orjson.OPT_SORT_KEYS) for i in merged[key]]
    header = orjson.loads((out / "snapshot.json").read_bytes())
    assert [o["name"] for o in header["organizations"]] == ["contoso", "fabrikam"]
    assert not set(header) & set(resource_keys(merged))


def test_export_refuses_a_file_as_directory(
    tmp_path: Path, write_doc: Callable[[str, Any], Path], cli: Callable[..., Result]
) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = cli("export", write_doc("in.json", reference()), "-o", target)
    assert result.code == 2
    assert "is a file" in result.err
    assert target.read_text() == "x"
