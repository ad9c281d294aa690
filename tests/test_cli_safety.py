"""Safety at the edges: TLS with a private CA, a full disk, bad input, no token on argv."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from crawler.cli import build_parser
from crawler.emulator.config import EmulatorConfig
from crawler.emulator.server import run_emulator
from tests.test_cli_crawl import CLEAN_ENV, FAST, run_cli

SMALL = EmulatorConfig(seed=17, projects=3)


def make_ca_and_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    ca_key, ca_pem = directory / "ca.key", directory / "ca.pem"
    key, csr, pem = directory / "srv.key", directory / "srv.csr", directory / "srv.pem"
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
            "-out", str(ca_pem), "-days", "2", "-subj", "/CN=ado-inventory test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(pem), "-days", "2", "-extfile", str(ext))  # fmt: skip
    return ca_pem, pem, key


async def test_private_ca_needs_and_accepts_a_ca_bundle(tmp_path: Path) -> None:
    ca, cert, key = make_ca_and_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with run_emulator(SMALL, ssl_context=context) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        env = {"SYSTEM_ACCESSTOKEN": emu.config.token}
        refused = await run_cli("crawl", "--org", emu.url, *FAST, env=env, cwd=tmp_path)
        trusted = await run_cli(
            "crawl", "--org", emu.url, "--ca-bundle", str(ca), *FAST, env=env, cwd=tmp_path
        )
    assert refused.code == 1
    assert "--ca-bundle" in refused.err
    assert "Traceback" not in refused.err
    assert trusted.code == 0, trusted.err
    assert len(orjson.loads((tmp_path / "inventory.json").read_bytes())["projects"]) == 3


# A child under a file-size limit cannot save coverage data either: run it unmeasured.
UNMEASURED_ENV = {k: v for k, v in CLEAN_ENV.items() if not k.startswith("COVERAGE_")}


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


async def test_a_full_disk_keeps_the_earlier_snapshot(tmp_path: Path) -> None:
    target = tmp_path / "inventory.json"
    target.write_bytes(b'{"previous": true}\n')
    async with run_emulator(SMALL) as emu:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crawler", "crawl", "--org", emu.url, *FAST,
            env={**UNMEASURED_ENV, "SYSTEM_ACCESSTOKEN": emu.config.token}, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            preexec_fn=_limit_file_size,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, err.decode()
    assert "could not write the snapshot" in err.decode()
    assert "Traceback" not in err.decode()
    assert "earlier snapshot" in err.decode()
    assert target.read_bytes() == b'{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.json"]


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (["-o", "."], None, "output"),
        (["--project", "[oops"], None, "[oops"),
        (["--concurrency", "0"], None, "concurrency"),
        (["--resources", "repos"], None, "repos"),
        (["--org", "https://dev.azure.com/org/project/_git/repo"], None, "organization URL"),
        ([], "concurency = 4\n", "concurrency"),
        ([], "rate = 'fast'\n", "rate"),
        ([], "org = [\n", "not valid TOML"),
    ],
)
async def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], config: str | None, expected: str
) -> None:
    flags = ["--org", "http://127.0.0.1:9/x", *args] if "--org" not in args else args
    if config is not None:
        (tmp_path / "bad.toml").write_text(config)
        flags += ["--config", "bad.toml"]
    res = await run_cli("crawl", *flags, env={"SYSTEM_ACCESSTOKEN": "t"}, cwd=tmp_path)
    assert res.code == 2
    assert expected in res.err
    assert "Traceback" not in res.err
    assert len(res.err.strip().splitlines()) <= 2


def test_no_flag_takes_a_secret() -> None:
    parser = build_parser()
    words = ("token", "pat", "secret", "password", "credential")
    for action in parser._actions:  # the sub-command parsers and their flags
        for sub in getattr(action, "choices", None) or {}:
            sub_parser = action.choices[sub]  # type: ignore[index]
            for option in sub_parser._actions:
                for flag in option.option_strings:
                    if sub == "emulator":
                        continue  # the test fixture: --token is the token it accepts
                    assert not any(w in flag.lower() for w in words), (sub, flag)


def test_environment_is_clean_of_tokens() -> None:
    assert "SYSTEM_ACCESSTOKEN" not in CLEAN_ENV
    assert os.environ.get("CI") in (None, "", "true", "1", "True")
