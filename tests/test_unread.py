"""The "unread is unknown" predicate that diff, report and audit share."""

from __future__ import annotations

from crawler.snapshot.unread import Unread, scope_of

P1 = {"id": "p1", "name": "One"}
ERRORS = [
    {"resource": "pipelines", "project": P1, "item": None, "status": 404, "code": "TF200016"},
    {
        "resource": "repositories",
        "project": P1,
        "item": {"id": "r9", "name": "hidden"},
        "status": 404,
        "code": "TF401019",
    },
    {"resource": "release_definitions", "project": None, "item": None, "code": "bad_response"},
]


def test_a_failed_listing_covers_that_resource_in_that_project_only() -> None:
    unread = Unread.from_errors(ERRORS)
    assert unread.covers("pipelines", "p1")
    assert not unread.covers("pipelines", "p2")
    assert not unread.covers("repositories", "p1")


def test_an_item_error_covers_that_item_only() -> None:
    unread = Unread.from_errors(ERRORS)
    assert unread.covers("repositories", "p1", "r9")
    assert not unread.covers("repositories", "p1", "r1")


def test_an_org_wide_error_covers_the_resource_everywhere() -> None:
    unread = Unread.from_errors(ERRORS)
    assert unread.covers("release_definitions", "p7")
    assert unread.covers("release_definitions")
    assert not unread.covers("projects")


def test_a_projects_listing_cut_short_makes_unlisted_projects_unknown() -> None:
    unread = Unread.from_errors([{"resource": "projects", "project": None, "code": "outage"}])
    listed = frozenset({"p1"})
    assert unread.covers("projects")
    assert unread.covers("pipelines", "p2", listed_projects=listed)
    assert not unread.covers("pipelines", "p1", listed_projects=listed)


def test_no_errors_covers_nothing() -> None:
    unread = Unread.from_errors([])
    assert not unread
    assert not unread.covers("pipelines", "p1")


def test_scope_of_keeps_names_and_code() -> None:
    scope = scope_of(ERRORS[0])
    assert (scope.resource, scope.project_id, scope.project_name, scope.code) == (
        "pipelines",
        "p1",
        "One",
        "TF200016",
    )
