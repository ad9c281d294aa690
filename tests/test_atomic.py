"""Every file a command writes replaces its target only when complete, with an artifact's mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crawler.snapshot.atomic import replacing


def test_the_target_is_replaced_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    old = os.umask(0o022)
    try:
        with replacing(target) as out:
            out.write(b"new")
            assert not target.exists()  # nothing at the target while writing
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o644  # not the temporary file's 0600
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json"]


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")

    def fail_half_way() -> None:
        with replacing(target) as out:
            out.write(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
