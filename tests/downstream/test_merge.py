"""``merge`` combines organizations into one file that validates against the multi-org schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from downstream_data import P_A, P_B, Result, error, make_snapshot, project, reference, repository

from crawler.downstream.merge import merge_snapshots
from crawler.protocol.errors import UsageError
from crawler.snapshot.schema import multi_schema
from crawler.snapshot.validate import Validator


def _three() -> list[tuple[str, dict[str, Any]]]:
    contoso = make_snapshot(
        org="contoso",
        auth="pat",
        projects=[project(P_B, "Ops")],
        repositories=[repository(11, P_B, "Ops", "infra")],
    )
    tailspin = make_snapshot(
        org="tailspin",
        projects=[project(P_A, "Team A")],
        errors=[error("pipelines", (P_A, "Team A"), 503, "retries_exhausted", "gave up")],
    )
    return [("f.json", reference()), ("c.json", contoso), ("t.json", tailspin)]


def test_three_organizations_merge_into_a_valid_multi_org_file() -> None:
    merged = merge_snapshots(_three())
    assert Validator(multi_schema()).problems(merged) == []
    jsonschema.Draft202012Validator(multi_schema()).validate(merged)
    orgs = {o["name"]: o for o in merged["organizations"]}
    assert list(orgs) == ["contoso", "fabrikam", "tailspin"]
    assert (orgs["contoso"]["complete"], orgs["fabrikam"]["complete"]) == (True, False)
    assert len(orgs["fabrikam"]["errors"]) == 3
    assert orgs["tailspin"]["errors"][0]["code"] == "retries_exhausted"
    assert orgs["contoso"]["auth"] == {"kind": "pat"}
    assert orgs["fabrikam"]["url"] == "https://dev.azure.com/fabrikam/"
    assert merged["complete"] is False
    # the same project id in two organizations stays two items, each naming its organization
    team_a = [p for p in merged["projects"] if p["id"] == P_A]
    assert [p["organization"] for p in team_a] == ["fabrikam", "tailspin"]
    assert len(merged["repositories"]) == 7
    assert all(r["organization"] in orgs for r in merged["repositories"])


def test_merging_is_order_independent_and_accepts_merged_files() -> None:
    three = _three()
    forward = merge_snapshots(three)
    assert merge_snapshots(list(reversed(three))) == forward
    nested = merge_snapshots([("m.json", merge_snapshots(three[:2])), three[2]])
    assert nested == forward


def test_the_same_organization_twice_is_refused() -> None:
    with pytest.raises(UsageError, match=r"'fabrikam' is already in a\.json"):
        merge_snapshots([("a.json", reference()), ("b.json", reference())])


def test_cli_writes_the_merged_file(
    write_doc: Callable[[str, Any], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    paths = [write_doc(name, doc) for name, doc in _three()]
    out = tmp_path / "all.json"
    result = cli("merge", "-o", out, *paths)
    assert result.code == 0
    assert "3 organization(s): contoso, fabrikam, tailspin" in result.out
    assert orjson.loads(out.read_bytes()) == merge_snapshots(_three())
    assert cli("validate", out).code == 0
    assert cli("merge", "-o", out, paths[0], paths[0]).code == 2
    invalid = write_doc("invalid.json", {**reference(), "complete": "yes"})
    failed = cli("merge", "-o", tmp_path / "x.json", invalid)
    assert failed.code == 2
    assert "$.complete" in failed.err
    assert not (tmp_path / "x.json").exists()
