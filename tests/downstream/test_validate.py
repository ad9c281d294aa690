"""The shipped schemas and our built-in validator agree with the jsonschema package."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from downstream_data import Result, reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.downstream.merge import merge_snapshots
from crawler.snapshot.schema import multi_schema, snapshot_schema
from crawler.snapshot.validate import Validator, is_date_time, json_equal

SCHEMAS = {"single": snapshot_schema(), "multi": multi_schema()}


def _theirs(schema: dict[str, Any], doc: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(e.json_path for e in validator.iter_errors(doc))


def _agree(schema: dict[str, Any], doc: Any) -> list[str]:
    """Assert both validators give the same verdict; return our problem paths."""
    ours = Validator(schema).problems(doc)
    theirs = _theirs(schema, doc)
    assert bool(ours) == bool(theirs), (ours, theirs)
    for problem in ours:
        # every problem we report is at, or below, a place jsonschema also complains about
        assert any(problem.path.startswith(path) for path in theirs), (problem, theirs)
    return [p.path for p in ours]


@pytest.mark.parametrize("name", ["single", "multi"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[name])


def test_multi_schema_shares_the_single_definitions() -> None:
    single, multi = snapshot_schema()["$defs"], multi_schema()["$defs"]
    assert {k: multi[k] for k in single} == single


def test_reference_snapshot_and_merge_are_valid() -> None:
    assert _agree(snapshot_schema(), reference()) == []
    merged = merge_snapshots([("a", reference())])
    assert _agree(multi_schema(), merged) == []


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()

BROKEN = [
    (("repositories", 3, "id"), 7, "$.repositories[3].id"),
    (("schema_version",), 2, "$.schema_version"),
    (("organization", "url"), "https://dev.azure.com/fabrikam", "$.organization.url"),
    (("auth", "kind"), "token", "$.auth.kind"),
    (("auth", "token"), "x", "$.auth.token"),
    (("complete",), 1, "$.complete"),
    (("started_at",), "yesterday", "$.started_at"),
    (("errors", 0, "status"), "401", "$.errors[0].status"),
    (("errors", 0, "project"), {"id": "x"}, "$.errors[0].project"),
    (("pipelines", 0, "queueStatus"), "stopped", "$.pipelines[0].queueStatus"),
    (("pipelines", 0, "variables", "password", "value"), "hunter2", "$.pipelines[0].variables"),
    (("projects", 1, "_links"), {}, "$.projects[1]._links"),
    (("repositories", 0, "project"), _DELETE, "$.repositories[0]"),
    (("stats", "requests"), -1, "$.stats.requests"),
    (("stats", "items", "projects"), 1.5, "$.stats.items.projects"),
    (("environments",), [{"id": 1}], "$.environments[0]"),
    (("release_definitions",), {"id": 1}, "$.release_definitions"),
]


@pytest.mark.parametrize(("path", "value", "where"), BROKEN, ids=[b[2] for b in BROKEN])
def test_broken_snapshots_are_invalid_in_both(
    path: tuple[Any, ...], value: Any, where: str
) -> None:
    doc = _set(reference(), path, value)
    paths = _agree(snapshot_schema(), doc)
    assert paths
    assert paths[0].startswith(where)


VALID_VARIANTS = [
    (("environments",), [{"id": 1, "name": "prod", "project": {"id": "p", "name": "P"}}]),
    (("repositories", 0, "defaultBranch"), _DELETE),
    (("errors", 0, "status"), None),
    (("stats", "wait_s"), 0),
    (("pipelines",), []),
]


@pytest.mark.parametrize(("path", "value"), VALID_VARIANTS)
def test_valid_variants_pass_in_both(path: tuple[Any, ...], value: Any) -> None:
    assert _agree(snapshot_schema(), _set(reference(), path, value)) == []


def test_problem_messages_name_the_json_path() -> None:
    doc = _set(reference(), ("repositories", 3, "id"), None)
    (problem,) = Validator(snapshot_schema()).problems(doc)
    assert str(problem) == "$.repositories[3].id: expected string (got null)"
    odd = Validator({"type": "object", "additionalProperties": False}).problems({"a b": 1})
    assert str(odd[0]) == "$['a b']: unexpected property"


def test_unsupported_keywords_are_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="maxLength"):
        Validator({"maxLength": 3}).problems("abcd")


def test_json_equality_and_dates() -> None:
    assert not json_equal(True, 1)
    assert json_equal(1, 1.0)
    assert not json_equal({"a": [1]}, {"a": [True]})
    assert is_date_time("2026-11-28T01:02:03.456Z")
    assert not is_date_time("2026-13-28T01:02:03Z")
    assert not is_date_time("2026-11-28 01:02:03Z")


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "enabled", "job"]),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("ab"), inner, max_size=2)
    ),
    max_leaves=4,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:2]):
            out += _paths(child, (*prefix, index))
    return out


_MERGED = merge_snapshots([("a", reference())])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_paths(reference())), _json, st.booleans())
def test_random_mutations_of_a_snapshot_get_the_same_verdict(
    path: tuple[Any, ...], value: Any, drop: bool
) -> None:
    _agree(snapshot_schema(), _set(reference(), path, _DELETE if drop else value))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_paths(_MERGED)), _json, st.booleans())
def test_random_mutations_of_a_merged_file_get_the_same_verdict(
    path: tuple[Any, ...], value: Any, drop: bool
) -> None:
    _agree(multi_schema(), _set(_MERGED, path, _DELETE if drop else value))


def test_cli_exit_codes(write_doc: Callable[[str, Any], Path], cli: Callable[..., Result]) -> None:
    good = cli("validate", write_doc("good.json", reference()))
    assert (good.code, good.out.strip().endswith("valid single-organization snapshot")) == (0, True)

    bad = cli("validate", write_doc("bad.json", _set(reference(), ("repositories", 3, "id"), 7)))
    assert bad.code == 1
    assert "$.repositories[3].id: expected string (got integer)" in bad.err

    merged = cli("validate", write_doc("m.json", merge_snapshots([("a", reference())])))
    assert (merged.code, "multi-organization" in merged.out) == (0, True)

    for name, content in [("list.json", [1]), ("v2.json", {"schema_version": 2})]:
        result = cli("validate", write_doc(name, content))
        assert result.code == 2
        assert name in result.err
        assert "\n" not in result.err.strip()
    assert (
        "schema_version 2 is not supported"
        in cli("validate", write_doc("v.json", {"schema_version": 2})).err
    )
    not_json = write_doc("x.json", None)
    not_json.write_text("{nope")
    assert cli("validate", not_json).code == 2
    assert cli("validate", not_json.parent / "missing.json").code == 2
