"""The snapshot writer: collects a crawl's items as they arrive, writes the snapshot atomically.

Lifecycle (like a scrapy exporter): ``SnapshotWriter(path)`` → ``add(resource, item)`` for
every item as pages arrive → ``finish(header)`` or ``abort()``. Items are serialised as
they arrive into a spill file beside the target (:mod:`crawler.snapshot.spill`), so a crawl
of 100,000 definitions never holds them as Python objects; ``finish`` writes them in sorted
order into a temporary file and ``os.replace``s it over the target only then. An unfinished
run leaves the previous snapshot untouched and no temporary files behind. How an item is
encoded is :mod:`crawler.snapshot.encode`'s; the header is :mod:`crawler.snapshot.header`'s.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from crawler.protocol.errors import CrawlerError
from crawler.snapshot.atomic import artifact_mode
from crawler.snapshot.layout import ITEM_SEPARATOR
from crawler.snapshot.output import Output
from crawler.snapshot.spill import Batch, Spill

__all__ = ["SnapshotWriter"]

# The layout on disk is crawler/snapshot/layout.py's (one top-level key a line, one item a line),
# which crawler/snapshot/reader.py reads line by line.
_DUMP = orjson.OPT_SORT_KEYS


class SnapshotWriter:
    """Collects items as they arrive and writes the snapshot atomically at the end."""

    def __init__(self, output: Path, resources: Iterable[str]) -> None:
        self.output = output
        self.resources = sorted(set(resources))
        self.directory = str(output.parent.resolve())
        self._spills: dict[str, Spill] = {}
        self.counts: dict[str, int] = dict.fromkeys(self.resources, 0)
        self.duplicates = 0
        self.held = 0  # encoded bytes in open batches, over all resources
        self._sealed = False
        self.closed = False

    def forget(self, resources: Iterable[str]) -> None:
        """Leave out resources the run did not read after all (none of their items came)."""
        gone = set(resources)
        self.resources = [r for r in self.resources if r not in gone]
        for key in gone:
            if not self.counts.get(key):
                self.counts.pop(key, None)

    def __repr__(self) -> str:
        return f"SnapshotWriter({str(self.output)!r}, counts={self.counts})"

    def _spill(self, resource: str) -> Spill:
        spill = self._spills.get(resource)
        if spill is None:
            if self.closed or self._sealed:
                raise RuntimeError("the snapshot writer takes no more items")
            try:
                spill = Spill(self, resource)
            except OSError as exc:
                raise self.trouble("write", exc) from None
            self._spills[resource] = spill
            self.counts.setdefault(resource, 0)
        return spill

    def add(self, resource: str, item: Mapping[str, Any]) -> None:
        """Store one item (the writer never modifies ``item``).

        Duplicates (the same id twice, e.g. from pages that overlap) are found and dropped
        by :meth:`seal`; until then ``counts`` includes them.
        """
        self._spill(resource).loose.add(item)

    def batch(self, resource: str) -> Batch:
        """A batch for the items of one listing: ``with writer.batch("pipelines") as b:``.

        Items of a batch are written together, sorted, when it closes: one listing per
        project makes the final write a plain copy. Any item may also go through
        :meth:`add`; the result is the same, only slower.
        """
        return self._spill(resource).batch()

    def trouble(self, verb: str, exc: OSError) -> CrawlerError:
        """The error for a failed read or write of the working files."""
        return CrawlerError(
            f"could not {verb} the snapshot's working files in {self.directory}: "
            f"{exc.strerror or exc}. Any earlier snapshot there is unchanged."
        )

    def seal(self) -> None:
        """Write what batches hold, drop duplicates: ``counts`` and ``duplicates`` are final."""
        if self._sealed:
            return
        self._sealed = True
        try:
            for resource, spill in self._spills.items():
                dropped = spill.seal()
                self.duplicates += dropped
                self.counts[resource] -= dropped
        except OSError as exc:
            raise self.trouble("read", exc) from None

    def finish(self, header: Mapping[str, Any]) -> Path:
        """Write header and sorted items to a temporary file, then replace the target."""
        self.seal()
        arrays = set(self.resources) | set(self._spills)
        keys = sorted(set(header) | arrays)
        fd, tmp = tempfile.mkstemp(
            dir=self.directory, prefix=f".{self.output.name}.", suffix=".tmp"
        )
        try:
            try:
                out = Output(fd)
                out.write(b"{\n")
                for n, key in enumerate(keys):
                    if n:
                        out.write(ITEM_SEPARATOR)
                    out.write(orjson.dumps(key) + b":")
                    if key in arrays:
                        spill = self._spills.get(key)
                        if spill is None:
                            out.write(b"[]")
                        else:
                            spill.write_sorted(out)
                    else:
                        out.write(orjson.dumps(header[key], option=_DUMP))
                out.write(b"\n}\n")
                out.flush()
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, artifact_mode())  # an artifact, not a secret: the usual mode
            os.replace(tmp, self.output)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            self.abort()
        return self.output

    def abort(self) -> None:
        """Drop everything collected; the target file is never touched."""
        if self.closed:
            return
        self.closed = True
        for spill in self._spills.values():
            spill.close()
        self._spills.clear()
