"""Replacing a file only once its new content is complete: a temporary file beside it, renamed.

Every file the commands write (snapshots, merged files, exports, reports) goes through here, so
an interrupted or failing run never leaves a half-written file at the target, and the target
gets the usual mode for an artifact (``0o666`` less the umask), never the temporary file's 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def artifact_mode() -> int:
    """The mode a new file gets from this process's umask (an artifact, not a secret)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def replacing(path: Path, *, buffering: int = 1024 * 1024) -> Iterator[BinaryIO]:
    """A binary file to write; it replaces ``path`` when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb", buffering=buffering) as out:
            yield out
        os.chmod(tmp, artifact_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
