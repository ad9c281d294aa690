"""The snapshot artifact: item normalisation, deterministic order, spill to disk, atomic write.

Lifecycle (like a scrapy exporter): ``SnapshotWriter(path)`` → ``add(resource, item)`` for
every item as pages arrive → ``finish(header)`` or ``abort()``. Items are serialised as
they arrive into a spill file beside the target, so a crawl of 100,000 definitions never
holds them as Python objects; ``finish`` writes them in sorted order into a temporary
file and ``os.replace``s it over the target only then. An unfinished run leaves the
previous snapshot untouched and no temporary files behind.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from crawler import NAME, __version__
from crawler.errors import CrawlerError
from crawler.resources import REGISTRY, Resource, keep_variable_flags, normalize, strip_links

__all__ = [
    "SnapshotWriter",
    "build_header",
    "encode_item",
    "normalize_item",
    "sort_key",
    "strip_links",
]

SCHEMA_VERSION = 1
_DUMP = orjson.OPT_SORT_KEYS

SortKey = tuple[str | int, ...]


def normalize_item(resource: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as the snapshot stores it: ADO's fields minus ``_links`` and secrets.

    What each resource drops is declared in :mod:`crawler.resources`; for example build
    definition variables keep only their flags (``isSecret``, ``allowOverride``): even a
    non-secret value may hold something sensitive, and an inventory needs the names.
    """
    return normalize(resource, item)


def encode_item(resource: str, item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
    """The item's sort key and its snapshot bytes: ``orjson.dumps(normalize_item(...))``.

    Fast path, same bytes: an item whose only ``_links`` is at the top (as ADO sends
    them) needs no deep copy; drops and variable maps at the top level apply to a shallow
    copy. When the result still contains ``"_links"`` anywhere (a nested one, or just such
    a string), or a resource is not ``shallow`` (an allow-list of fields, a nested path),
    the full normalisation runs instead.
    """
    entry = REGISTRY.get(resource)
    if entry is not None and not _is_shallow(entry):  # an allow-list or a nested path
        return _encode_slow(resource, item)
    drop, variables = (entry.drop, entry.variables) if entry is not None else ((), ())
    clean = dict(item)  # a C-level shallow copy; cheaper than filtering key by key
    clean.pop("_links", None)
    for name in drop:
        clean.pop(name, None)
    for name in variables:
        if name in clean:
            clean[name] = keep_variable_flags(clean[name])
    data = orjson.dumps(clean, option=_DUMP)
    if b'"_links"' in data:
        return _encode_slow(resource, item)
    return sort_key(resource, clean), data


_SHALLOW: dict[str, bool] = {}  # Resource.shallow by key, computed once


def _is_shallow(entry: Resource) -> bool:
    known = _SHALLOW.get(entry.key)
    if known is None:
        known = _SHALLOW[entry.key] = entry.shallow
    return known


def _encode_slow(resource: str, item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
    clean = normalize_item(resource, item)
    return sort_key(resource, clean), orjson.dumps(clean, option=_DUMP)


def _id_part(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return str(value)
    return value


def sort_key(resource: str, item: Mapping[str, Any]) -> SortKey:
    """Stable position of an item: projects by id; everything else by (project id, id)."""
    item_id = _id_part(item.get("id"))
    if resource == "projects":
        return (item_id,)
    project = item.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    return (str(project_id or ""), item_id)


def error_sort_key(error: Mapping[str, Any]) -> tuple[str, ...]:
    """Stable position of an ``errors`` entry."""
    project = error.get("project") or {}
    item = error.get("item") or {}
    return (
        str(error.get("resource", "")),
        str(project.get("name", "")),
        str(project.get("id", "")),
        str(item.get("id", "")),
        str(error.get("status", "")),
        str(error.get("code", "")),
        str(error.get("message", "")),
    )


def rfc3339(when: datetime) -> str:
    """UTC time as RFC 3339 with milliseconds and a ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def build_header(
    *,
    org_url: str,
    org_name: str,
    auth_kind: str,
    resources: Iterable[str],
    started_at: datetime,
    finished_at: datetime,
    errors: Iterable[Mapping[str, Any]],
    stats: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything in a snapshot but the item arrays; ``complete`` means no errors."""
    ordered_errors = sorted((dict(e) for e in errors), key=error_sort_key)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": NAME, "version": __version__},
        "organization": {"url": org_url, "name": org_name},
        "started_at": rfc3339(started_at),
        "finished_at": rfc3339(finished_at),
        "complete": not ordered_errors,
        "auth": {"kind": auth_kind},
        "resources": sorted(set(resources)),
        "stats": dict(stats),
        "errors": ordered_errors,
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


RUN_SIZE = 8192  # index entries held in memory before a sorted run goes to disk
RUN_LINE = 512  # index entries per line of a run file (one orjson call each)

IndexEntry = tuple[SortKey, int, int]  # (sort key, offset in the spill file, length)


class _Spill:
    """One resource's serialised items on disk, and their index as an external merge sort.

    Item bytes are appended to one spill file as they arrive. Their index entries (sort
    key, offset, length) collect in memory up to ``RUN_SIZE``, then go to disk as one
    sorted run, so memory stays flat however large the organization. Reading merges the
    runs (``heapq.merge``); of several items with one key, the first to arrive is kept.
    """

    def __init__(self, directory: str, resource: str) -> None:
        self.directory = directory
        self.resource = resource
        fd, self.path = tempfile.mkstemp(dir=directory, prefix=f".{resource}.", suffix=".spill")
        self.file: BinaryIO = os.fdopen(fd, "w+b", buffering=1024 * 1024)
        self.pending: list[IndexEntry] = []
        self.runs: list[str] = []
        self.offset = 0
        self.count = 0

    def add(self, key: SortKey, data: bytes) -> None:
        self.file.write(data)
        self.pending.append((key, self.offset, len(data)))
        self.offset += len(data)
        self.count += 1
        if len(self.pending) >= RUN_SIZE:
            self._write_run()

    def _write_run(self) -> None:
        self.pending.sort()
        fd, path = tempfile.mkstemp(dir=self.directory, prefix=f".{self.resource}.", suffix=".run")
        self.runs.append(path)
        with os.fdopen(fd, "wb", buffering=256 * 1024) as run:
            for start in range(0, len(self.pending), RUN_LINE):
                chunk = self.pending[start : start + RUN_LINE]
                run.write(orjson.dumps([[*key, offset, length] for key, offset, length in chunk]))
                run.write(b"\n")
        self.pending = []

    def _read_run(self, path: str) -> Iterator[IndexEntry]:
        with open(path, "rb") as run:
            for line in run:
                for *key, offset, length in orjson.loads(line):
                    yield tuple(key), offset, length

    def entries(self) -> Iterator[IndexEntry]:
        """Every index entry in key order, one per key (the first to arrive)."""
        self.pending.sort()
        merged = heapq.merge(*(self._read_run(p) for p in self.runs), iter(self.pending))
        last: SortKey | None = None
        for entry in merged:
            if entry[0] != last:
                last = entry[0]
                yield entry

    def duplicates(self) -> int:
        """How many items repeat a key stored before (counted in one pass over the index)."""
        return self.count - sum(1 for _ in self.entries())

    def write_sorted(self, out: BinaryIO) -> None:
        self.file.flush()
        fd = self.file.fileno()
        out.write(b"[")
        first = True
        for _, offset, length in self.entries():
            if not first:
                out.write(b",")
            out.write(os.pread(fd, length, offset))
            first = False
        out.write(b"]")

    def close(self) -> None:
        with contextlib.suppress(OSError):  # e.g. a full disk flushing what is discarded
            self.file.close()
        for path in (self.path, *self.runs):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


class SnapshotWriter:
    """Collects items as they arrive and writes the snapshot atomically at the end."""

    def __init__(self, output: Path, resources: Iterable[str]) -> None:
        self.output = output
        self.resources = sorted(set(resources))
        self.directory = str(output.parent.resolve())
        self._spills: dict[str, _Spill] = {}
        self.counts: dict[str, int] = dict.fromkeys(self.resources, 0)
        self.duplicates = 0
        self._sealed = False
        self._closed = False

    def __repr__(self) -> str:
        return f"SnapshotWriter({str(self.output)!r}, counts={self.counts})"

    def add(self, resource: str, item: Mapping[str, Any]) -> None:
        """Store one item (the writer never modifies ``item``).

        Duplicates (the same id twice, e.g. from pages that overlap) are found and dropped
        by :meth:`seal`; until then ``counts`` includes them.
        """
        spill = self._spills.get(resource)
        if spill is None:
            spill = self._spills[resource] = _Spill(self.directory, resource)
            self.counts.setdefault(resource, 0)
        key, data = encode_item(resource, item)
        try:
            spill.add(key, data)
        except OSError as exc:
            raise CrawlerError(
                f"could not write the snapshot's working files in {self.directory}: "
                f"{exc.strerror or exc}. Any earlier snapshot there is unchanged."
            ) from None
        self.counts[resource] += 1

    def seal(self) -> None:
        """Count and drop duplicates, so ``counts`` and ``duplicates`` are final."""
        if self._sealed:
            return
        self._sealed = True
        try:
            for resource, spill in self._spills.items():
                dropped = spill.duplicates()
                self.duplicates += dropped
                self.counts[resource] -= dropped
        except OSError as exc:
            raise CrawlerError(
                f"could not read the snapshot's working files in {self.directory}: "
                f"{exc.strerror or exc}. Any earlier snapshot there is unchanged."
            ) from None

    def finish(self, header: Mapping[str, Any]) -> Path:
        """Write header and sorted items to a temporary file, then replace the target."""
        self.seal()
        arrays = set(self.resources) | set(self._spills)
        keys = sorted(set(header) | arrays)
        fd, tmp = tempfile.mkstemp(
            dir=self.directory, prefix=f".{self.output.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb", buffering=1024 * 1024) as out:
                out.write(b"{")
                for n, key in enumerate(keys):
                    if n:
                        out.write(b",")
                    out.write(orjson.dumps(key) + b":")
                    if key in arrays:
                        spill = self._spills.get(key)
                        if spill is None:
                            out.write(b"[]")
                        else:
                            spill.write_sorted(out)
                    else:
                        out.write(orjson.dumps(header[key], option=_DUMP))
                out.write(b"}\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # an artifact, not a secret: the usual mode
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
        if self._closed:
            return
        self._closed = True
        for spill in self._spills.values():
            spill.close()
        self._spills.clear()
