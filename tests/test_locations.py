"""The route-table parser and the api-version choice, on recorded ``OPTIONS .../_apis`` bodies.

``tests/fixtures/options/{version}.json`` were recorded from the emulator in each
``--server-version`` mode (its tables follow the per-version specs: crawler/emulator/versions.py).
They are fixed files: the parser is checked against them, not against the emulator's code.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.protocol.locations import (
    CEILING,
    NEVER,
    Location,
    choose_version,
    deployment_of,
    not_supported_message,
    parse_location_data,
    parse_version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "options"

PROJECTS = "603fe2ac-9723-48b9-88ad-09305aa6c6e1"
DEFINITIONS = "dbeaf647-6167-421a-bda9-c9327b25e2e6"
VARIABLE_GROUPS = "f5b09dd5-9d54-45a1-8b5a-1c8287d634cc"
ENVIRONMENTS = "8572b1fc-2482-47fa-8f74-7e3ed53ee54b"
RESOURCE_AREAS = "e81700f7-3be2-46de-8624-2eb35882fcaa"
PERMISSIONS = "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2"
GENERAL_SETTINGS = "c4aefd19-30ff-405b-80ad-aca021e7242a"

# version -> (server api_version, {location id: the version the crawler must send})
EXPECTED: dict[str, tuple[str, dict[str, str | None]]] = {
    "services": (
        "7.1",
        {
            PROJECTS: "7.1",
            DEFINITIONS: "7.1",
            VARIABLE_GROUPS: "7.1",
            ENVIRONMENTS: "7.1",
            RESOURCE_AREAS: "7.1-preview.1",
            PERMISSIONS: "7.1-preview.1",
            GENERAL_SETTINGS: "7.1",
        },
    ),
    "2022.1": (
        "7.1",
        {PROJECTS: "7.1", VARIABLE_GROUPS: "7.1", PERMISSIONS: "7.1-preview.1"},
    ),
    "2022": (
        "7.0",
        {PROJECTS: "7.0", ENVIRONMENTS: "7.0", RESOURCE_AREAS: "7.0-preview.1"},
    ),
    "2020": (
        "6.0",
        {
            PROJECTS: "6.0",
            DEFINITIONS: "6.0",
            VARIABLE_GROUPS: "6.0-preview.2",
            ENVIRONMENTS: "6.0-preview.1",
            GENERAL_SETTINGS: "6.0-preview.1",
        },
    ),
    "2019": (
        "5.0",
        {
            PROJECTS: "5.0",
            DEFINITIONS: "5.0",
            VARIABLE_GROUPS: "5.0-preview.1",
            RESOURCE_AREAS: "5.0-preview.1",
            ENVIRONMENTS: None,
            PERMISSIONS: None,
            GENERAL_SETTINGS: None,
        },
    ),
}


@pytest.mark.parametrize("version", sorted(EXPECTED))
def test_recorded_options_body_per_server_version(version: str) -> None:
    table = parse_location_data(orjson.loads((FIXTURES / f"{version}.json").read_bytes()))
    api_version, chosen = EXPECTED[version]
    assert table.api_version == api_version
    for location_id, wanted in chosen.items():
        assert table.version_for(location_id) == wanted, location_id
        assert table.version_for(location_id.upper()) == wanted  # ids are case-insensitive
    for location in table.locations.values():
        sent = choose_version(location)
        assert sent is not None
        assert parse_version(sent) is not None
        assert parse_version(sent) <= min(location.max_version, CEILING)  # type: ignore[operator]
    assert deployment_of("loopback", table) == ("services" if version == "services" else "server")


def test_deployment_from_the_url_first() -> None:
    table = parse_location_data(orjson.loads((FIXTURES / "2019.json").read_bytes()))
    assert deployment_of("cloud", table) == "services"
    assert deployment_of("legacy", None) == "services"
    assert deployment_of("server", None) == "server"
    assert deployment_of("loopback", table) == "server"
    cloud = parse_location_data(orjson.loads((FIXTURES / "services.json").read_bytes()))
    assert deployment_of("loopback", cloud) == "services"


def test_not_supported_names_the_servers_highest_version() -> None:
    table = parse_location_data(orjson.loads((FIXTURES / "2019.json").read_bytes()))
    message = not_supported_message("environments", ENVIRONMENTS, table, "server")
    assert "highest API version 5.0" in message
    assert "environments" in message
    assert "--resources" in message


@pytest.mark.parametrize(
    "body",
    [None, [], {"count": 0}, {"value": {}}, {"value": []}, {"value": [{"id": "x"}, 3]}],
)
def test_bodies_that_are_not_location_data(body: object) -> None:
    with pytest.raises(ValueError, match="location data"):
        parse_location_data(body)


def test_a_duplicate_id_keeps_the_newer_entry_and_junk_entries_are_skipped() -> None:
    entry = {"id": PROJECTS, "area": "core", "resourceName": "projects", "maxVersion": 5.0}
    newer = entry | {"maxVersion": 6.0, "releasedVersion": "6.0"}
    table = parse_location_data({"value": [entry | {"releasedVersion": "5.0"}, newer, "junk"]})
    assert table.version_for(PROJECTS) == "6.0"
    assert table.get("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(5.0, (5, 0)), ("7.1", (7, 1)), (6, (6, 0)), ("7.2-preview.1", (7, 2)), ("x", None)],
)
def test_parse_version(value: object, parsed: tuple[int, int] | None) -> None:
    assert parse_version(value) == parsed
    assert parse_version(True) is None


def test_a_route_newer_than_the_crawler_is_unusable() -> None:
    newer = Location("id", "a", "r", "", (8, 0), (8, 0), (8, 0), 1)
    assert choose_version(newer) is None


versions = st.tuples(st.integers(1, 9), st.integers(0, 3))


@given(
    minimum=versions,
    maximum=versions,
    released=st.one_of(st.just(NEVER), versions),
    resource_version=st.integers(0, 9),
)
def test_the_choice_never_exceeds_the_route_or_the_ceiling(
    minimum: tuple[int, int],
    maximum: tuple[int, int],
    released: tuple[int, int],
    resource_version: int,
) -> None:
    if released != NEVER:
        released = min(released, maximum)  # ADO never releases above its maxVersion
    location = Location("id", "a", "r", "", minimum, maximum, released, resource_version)
    sent = choose_version(location)
    top = min(maximum, CEILING)
    if top < minimum:
        assert sent is None
        return
    assert sent is not None
    number = parse_version(sent)
    assert number is not None
    assert minimum <= number <= top
    if released != NEVER and minimum <= released <= top:
        assert sent == f"{released[0]}.{released[1]}"  # released wins, no preview
    else:
        assert sent == f"{top[0]}.{top[1]}-preview.{max(1, resource_version)}"
