"""Each official SDK generation lists the emulator in the mode of its time and gets the truth.

``azure-devops`` 5.1.0b6 against Server 2019, 6.0.0b4 against Server 2020, 7.1.0b4 against
Server 2022.1 and the cloud, each in its own virtual environment (``tests/sdk_venvs.py``),
running ``tests/sdk_probe.py`` in a child process. The SDK negotiates each route's version from
the emulator's location data, as it does against a real server; none may be refused, and none
may exceed the server's highest version. Skipped (with the reason) only when PyPI is out of
reach to build a venv.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import pytest

from crawler.emulator import EmulatorConfig, serve_in_thread
from crawler.emulator.wider_truth import wider_truth
from crawler.protocol.locations import parse_version
from crawler.protocol.resources import strip_links
from tests.sdk_venvs import Unavailable, python_of

PROBE = Path(__file__).parent / "sdk_probe.py"

CASES = [
    # (server version, SDK release, client generation, highest api-version of the server)
    ("2019", "5.1.0b6", "5_1", (5, 0)),
    ("2020", "6.0.0b4", "6_0", (6, 0)),
    ("2022.1", "7.1.0b4", "7_1", (7, 1)),
    ("services", "7.1.0b4", "7_1", (7, 2)),
]


@pytest.fixture(scope="session")
def sdk_pythons() -> dict[str, Path | str]:
    """Each SDK generation's interpreter, or the reason it could not be installed."""
    found: dict[str, Path | str] = {}
    for _, release, _, _ in CASES:
        if release not in found:
            try:
                found[release] = python_of(release)
            except Unavailable as exc:
                found[release] = str(exc)
    return found


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("server", "release", "generation", "highest"), CASES)
def test_sdk_generation_lists_exactly_the_ground_truth(
    sdk_pythons: dict[str, Path | str],
    tmp_path: Path,
    server: str,
    release: str,
    generation: str,
    highest: tuple[int, int],
) -> None:
    python = sdk_pythons[release]
    if isinstance(python, str):
        pytest.skip(python)
    org = "fabrikam" if server == "services" else "DefaultCollection"
    config = EmulatorConfig(
        server_version=server,
        org=org,
        projects=3,
        repos_per_project=2,
        pipelines_per_project=5,
        release_definitions_per_project=2,
        page_size=2,
    )
    with serve_in_thread(config) as emu:
        env = {**os.environ, "AZURE_DEVOPS_CACHE_DIR": str(tmp_path / "sdk-cache")}
        done = subprocess.run(
            [str(python), str(PROBE), emu.url, config.token, generation],
            capture_output=True,
            timeout=300,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        got = orjson.loads(done.stdout)
        truth = emu.ground_truth()
        releases = wider_truth(config, emu.url)["release_definitions"]
        log = list(emu.log.entries)
    assert got["projects"] == truth["projects"]
    assert got["repositories"] == truth["repositories"]
    assert strip_links(got["pipelines"]) == truth["pipelines"]
    assert [(r["id"], r["name"]) for r in got["release_definitions"]] == [
        (r["id"], r["name"]) for r in releases
    ]
    assert got["release_host"].startswith(emu.url + "/")  # same host on every server
    assert [e.method for e in log].count("OPTIONS") >= 1  # the SDK read the location data
    assert {e.status for e in log} == {200}, [(e.path, e.status) for e in log if e.status != 200]
    for route, version in got["versions"].items():
        number = parse_version(version)
        assert number is not None, (route, version)
        assert number <= highest, (route, version)
    assert all(
        (parse_version(parse_qs(e.query).get("api-version", ["1.0"])[0]) or (0, 0)) <= highest
        for e in log
    )
