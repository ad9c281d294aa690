"""Fixtures for the downstream tests: write snapshots to files and run the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from downstream_data import Result

from crawler.cli import main


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[[str, Any], Path]:
    """Write a JSON document (as the crawler does: sorted keys, compact) to tmp_path/name."""

    def write(name: str, doc: Any) -> Path:
        path = tmp_path / name
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n")
        return path

    return write


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``ado-inventory ARGS...`` in-process and capture its output."""

    def run(*args: str | Path) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
