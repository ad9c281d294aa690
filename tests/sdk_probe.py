"""List an organization with the official ``azure-devops`` SDK and print what it got, as JSON.

Run by ``tests/test_sdk_generations.py`` with the Python of a virtual environment holding one
SDK generation (5.1.0b6, 6.0.0b4 or 7.1.0b4), never the project's own: it imports nothing from
the crawler. Usage: ``python sdk_probe.py URL TOKEN GENERATION`` (``5_1``, ``6_0``, ``7_1``).

The SDK negotiates each route's version from ``OPTIONS {url}/_apis`` and finds release
management through ``ResourceAreas``. Continuation tokens are read from the raw last response
(older generations do not return them), by wrapping each client's ``_send``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

MAX_PAGES = 1000


class LastResponse:
    """Wraps one SDK client's ``_send`` to remember the raw last response."""

    def __init__(self, client: Any) -> None:
        self.response: Any = None
        original = client._send

        def send(*args: Any, **kwargs: Any) -> Any:
            self.response = original(*args, **kwargs)
            return self.response

        client._send = send

    @property
    def token(self) -> str | None:
        token = self.response.headers.get("x-ms-continuationtoken")
        return None if token is None else token.encode("latin-1").decode("utf-8")

    def values(self) -> list[Any]:
        values: list[Any] = self.response.json()["value"]
        return values

    def version(self) -> str:
        """The api-version the SDK negotiated for the last request (Accept header)."""
        accept = self.response.request.headers.get("Accept", "")
        return accept.split("api-version=", 1)[-1]


def paged(last: LastResponse, call: Any) -> list[Any]:
    raw: list[Any] = []
    token: Any = None
    for _ in range(MAX_PAGES):
        call(token)
        raw.extend(last.values())
        if last.token is None:
            return raw
        token = last.token
    raise AssertionError("the SDK never reached the last page")


def main(url: str, token: str, generation: str) -> dict[str, Any]:
    from azure.devops.connection import Connection
    from msrest.authentication import BasicAuthentication

    connection = Connection(base_url=url, creds=BasicAuthentication("", token))
    clients = getattr(connection, f"clients_v{generation}")
    core, git = clients.get_core_client(), clients.get_git_client()
    build, release = clients.get_build_client(), clients.get_release_client()
    core_last, git_last = LastResponse(core), LastResponse(git)
    build_last, release_last = LastResponse(build), LastResponse(release)
    out: dict[str, Any] = {"versions": {}}
    projects = paged(
        core_last, lambda t: core.get_projects(continuation_token=None if t is None else int(t))
    )
    out["projects"] = projects
    out["versions"]["projects"] = core_last.version()
    out["repositories"], out["pipelines"], out["release_definitions"] = [], [], []
    for project in projects:
        git.get_repositories(project=project["name"], include_hidden=True)
        out["repositories"] += git_last.values()
        out["versions"]["repositories"] = git_last.version()
        out["pipelines"] += paged(
            build_last,
            lambda t, name=project["name"]: build.get_definitions(
                project=name, include_all_properties=True, continuation_token=t
            ),
        )
        out["versions"]["pipelines"] = build_last.version()
        out["release_definitions"] += paged(
            release_last,
            lambda t, name=project["name"]: release.get_release_definitions(
                project=name, continuation_token=t
            ),
        )
        out["versions"]["release_definitions"] = release_last.version()
        out["release_host"] = release_last.response.request.url.split("/_apis/")[0]
    return out


if __name__ == "__main__":
    result = main(*sys.argv[1:4])
    sys.stdout.write(json.dumps(result))
