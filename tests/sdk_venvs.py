"""Virtual environments holding older generations of the official ``azure-devops`` SDK.

Fidelity tests run each SDK generation against the emulator mode of its time, in its own
virtual environment under ``.sdk-venvs/`` (git-ignored; never the project's ``.venv``). A
venv is built once (``python -m venv`` + ``pip install azure-devops==X``, about 10 s) and
reused while its ``.ready`` marker exists. ``make sdk-venvs`` (``python -m tests.sdk_venvs``)
builds them ahead of the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / ".sdk-venvs"
GENERATIONS = ("5.1.0b6", "6.0.0b4", "7.1.0b4")
INSTALL_TIMEOUT_S = 600
# pip's words when the package index cannot be reached (no network, no proxy, DNS).
_UNREACHABLE = (
    "No matching distribution found",
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


class Unavailable(RuntimeError):
    """The SDK could not be installed because the package index is out of reach."""


def python_of(version: str) -> Path:
    """The interpreter of the venv holding ``azure-devops==version``, built when missing.

    Raises :class:`Unavailable` when PyPI cannot be reached, RuntimeError on any other failure.
    """
    venv = ROOT / f"azure-devops-{version}"
    python = venv / "bin" / "python"
    if (venv / ".ready").exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"azure-devops=={version}"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        env=env,
    )
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        output = (done.stdout + done.stderr).strip()
        if any(word in output for word in _UNREACHABLE):
            raise Unavailable(f"PyPI unreachable, azure-devops=={version} not installed: {output}")
        raise RuntimeError(f"pip install azure-devops=={version} failed: {output}")
    (venv / ".ready").write_text(version + "\n")
    return python


def main() -> int:
    """Build every generation's venv; print where each is."""
    for version in GENERATIONS:
        print(f"azure-devops=={version}: {python_of(version)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
