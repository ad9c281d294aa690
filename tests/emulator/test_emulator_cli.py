"""``ado-inventory emulator`` as a user runs it: URL first, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from crawler.emulator import DEFAULT_TOKEN, EmulatorConfig, ground_truth
from crawler.protocol.errors import UsageError


@contextmanager
def _emulator_process(*flags: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "emulator", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def _get(url: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - loopback URL printed by the emulator
        url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return resp.status, json.loads(resp.read())


def test_prints_the_url_first_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    dump = tmp_path / "truth.json"
    flags = ("--projects", "3", "--seed", "7", "--page-size", "2", "--dump-ground-truth", str(dump))
    with _emulator_process(*flags) as (proc, url):
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/fabrikam")
        status, body = _get(f"{url}/_apis/projects?api-version=7.1")
        assert status == 200
        assert body["count"] == 2
        truth = ground_truth(EmulatorConfig(projects=3, seed=7, page_size=2), url)
        assert dump.read_bytes() == orjson.dumps(truth, option=orjson.OPT_SORT_KEYS)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_dump_only_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    outputs = []
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        path = tmp_path / f"{name}.json"
        flags = ["--seed", seed, "--port", "8080", "--dump-ground-truth", str(path), "--dump-only"]
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "emulator", *flags],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]
    assert b"http://127.0.0.1:8080/fabrikam/_apis/projects/" in outputs[0]


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--projects", "-1"], "--projects"),
        (["--page-size", "0"], "--page-size"),
        (["--fault-kinds", "500,explode"], "--fault-kinds"),
        (["--loop-token", "builds"], "--loop-token"),
        (["--reachable-repo-share", "1.5"], "--reachable-repo-share"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(flags: list[str], named: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "emulator", *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]


def test_port_in_use_exits_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert proc.returncode == 2
    assert "--port" in proc.stderr
    assert proc.stdout == ""


def test_wider_sizes_and_unreadable_endpoints_from_flags() -> None:
    import argparse

    from crawler.commands.emulator import add_arguments, build_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = build_config(
        parser.parse_args(["--variable-groups-per-project", "7", "--endpoints-unreadable"])
    )
    assert config.variable_groups_per_project == 7
    assert config.endpoints_readable is False
    with pytest.raises(UsageError, match="--policies-per-project"):
        build_config(parser.parse_args(["--policies-per-project", "-1"]))
