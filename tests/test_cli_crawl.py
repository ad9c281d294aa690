"""``ado-inventory crawl`` as a user runs it: a real process, real loopback HTTP, exit codes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from crawler.emulator.config import EmulatorConfig
from crawler.emulator.server import run_emulator

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k
    not in {"SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_EXT_PAT", "ADO_INVENTORY_BEARER_TOKEN", "TF_BUILD"}
    and not k.startswith("ADO_INVENTORY_")
    and k != "SYSTEM_COLLECTIONURI"
}
FAST = ["--rate", "1000", "--progress", "plain"]


@dataclass
class Proc:
    code: int
    out: str
    err: str


async def run_cli(*args: str, env: dict[str, str], cwd: Path, limit_s: float = 60) -> Proc:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crawler",
        *args,
        env={**CLEAN_ENV, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), limit_s)
    assert proc.returncode is not None
    return Proc(proc.returncode, out.decode(), err.decode())


async def test_complete_crawl_exit_0_with_summary(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(seed=2, projects=3)) as emu:
        token = emu.config.token
        res = await run_cli(
            "crawl", "--org", emu.url, "-o", "out.json", *FAST,
            env={"SYSTEM_ACCESSTOKEN": token}, cwd=tmp_path,
        )  # fmt: skip
    assert res.code == 0, res.err
    assert "complete" in res.out
    assert str(tmp_path / "out.json") in res.out
    snapshot = orjson.loads((tmp_path / "out.json").read_bytes())
    assert snapshot["auth"] == {"kind": "job"}
    assert len(snapshot["projects"]) == 3


async def test_org_from_system_collectionuri_and_pat(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(seed=2, projects=2)) as emu:
        res = await run_cli(
            "crawl", *FAST,
            env={"SYSTEM_COLLECTIONURI": emu.url + "/", "AZURE_DEVOPS_EXT_PAT": emu.config.token},
            cwd=tmp_path,
        )  # fmt: skip
    assert res.code == 0, res.err
    snapshot = orjson.loads((tmp_path / "inventory.json").read_bytes())
    assert snapshot["auth"] == {"kind": "pat"}


async def test_missing_token_exit_2_shows_the_yaml(tmp_path: Path) -> None:
    res = await run_cli("crawl", "--org", "http://127.0.0.1:9/x", env={}, cwd=tmp_path)
    assert res.code == 2
    assert "SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in res.err
    assert "Traceback" not in res.err


async def test_wrong_token_exit_3_no_traceback_no_leak(tmp_path: Path) -> None:
    secret = "wrong-token-value-12345"
    async with run_emulator(EmulatorConfig(projects=2)) as emu:
        res = await run_cli(
            "crawl", "--org", emu.url, "--verbose", *FAST,
            env={"SYSTEM_ACCESSTOKEN": secret}, cwd=tmp_path,
        )  # fmt: skip
    assert res.code == 3
    assert "job access token from SYSTEM_ACCESSTOKEN" in res.err
    assert "Traceback" not in res.err
    assert secret not in res.err + res.out
    assert not (tmp_path / "inventory.json").exists()


async def test_partial_crawl_exit_4_and_pipeline_warnings(tmp_path: Path) -> None:
    base = EmulatorConfig(seed=4, projects=3)
    async with run_emulator(base) as probe:
        name = probe.ground_truth()["projects"][0]["name"]
    config = EmulatorConfig(seed=4, projects=3, scoped_project=name)
    async with run_emulator(config) as emu:
        res = await run_cli(
            "crawl", "--org", emu.url, *FAST,
            env={"SYSTEM_ACCESSTOKEN": emu.config.token, "TF_BUILD": "True"}, cwd=tmp_path,
        )  # fmt: skip
    assert res.code == 4, res.err
    assert "PARTIAL" in res.out
    assert "##vso[task.logissue type=warning;]" in res.out
    assert "##vso[task.setprogress" in res.out or "projects" in res.err
    snapshot = orjson.loads((tmp_path / "inventory.json").read_bytes())
    assert snapshot["complete"] is False


async def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    res = await run_cli(
        "crawl", "--org", "http://dev.azure.com/fabrikam", env={"SYSTEM_ACCESSTOKEN": "x"},
        cwd=tmp_path,
    )  # fmt: skip
    assert res.code == 2
    assert "https" in res.err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_interrupt_exits_130_and_keeps_the_old_snapshot(
    tmp_path: Path, sig: signal.Signals
) -> None:
    target = tmp_path / "inventory.json"
    target.write_bytes(b'{"previous": true}\n')
    config = EmulatorConfig(projects=40, latency_ms=300)  # about 12 s at concurrency 2
    async with run_emulator(config) as emu:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crawler", "crawl", "--org", emu.url, *FAST,
            "--concurrency", "2",
            env={**CLEAN_ENV, "SYSTEM_ACCESSTOKEN": emu.config.token},
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await asyncio.sleep(1.5)
        proc.send_signal(sig)
        loop = asyncio.get_running_loop()
        started = loop.time()
        _, err = await asyncio.wait_for(proc.communicate(), 10)
        took = loop.time() - started
    assert proc.returncode == 130, err.decode()
    assert took < 5
    assert target.read_bytes() == b'{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.json"]
