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
import errno
import heapq
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

from crawler import NAME, __version__
from crawler.errors import CrawlerError
from crawler.layout import ITEM_SEPARATOR
from crawler.resources import REGISTRY, keep_variable_flags, normalize, strip_links

__all__ = [
    "Batch",
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


Encoder = Callable[[Mapping[str, Any]], tuple[SortKey, bytes]]


def encode_item(resource: str, item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
    """The item's sort key and its snapshot bytes: ``orjson.dumps(normalize_item(...))``."""
    return encoder(resource)(item)


_ENCODERS: dict[str, Encoder] = {}


def encoder(resource: str) -> Encoder:
    """The function that encodes items of ``resource`` (built once per resource).

    Fast path, same bytes as ``orjson.dumps(normalize_item(...))``: ``_links`` at the top
    and in the fields the registry names (``links_in``: identity and queue references)
    are dropped from shallow copies, so no item is deep-copied. When the result still
    holds ``"_links"`` (deeper down, or just such a string), or the resource is not
    ``shallow`` (an allow-list of fields, a nested path), the full normalisation runs.
    """
    known = _ENCODERS.get(resource)
    if known is None:
        known = _ENCODERS[resource] = _build_encoder(resource)
    return known


def _build_encoder(resource: str) -> Encoder:
    entry = REGISTRY.get(resource)
    if entry is not None and not entry.shallow:  # an allow-list or a nested path

        def encode_slow(item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
            return _encode_slow(resource, item)

        return encode_slow
    drop = entry.drop if entry is not None else ()
    variables = entry.variables if entry is not None else ()
    links_in = entry.links_in if entry is not None else ()
    by_project = resource != "projects"
    dumps, option = orjson.dumps, _DUMP

    def encode(item: Mapping[str, Any]) -> tuple[SortKey, bytes]:
        clean = dict(item)  # a C-level shallow copy; cheaper than filtering key by key
        clean.pop("_links", None)
        for name in drop:
            clean.pop(name, None)
        for name in links_in:
            ref = clean.get(name)
            if type(ref) is dict and "_links" in ref:
                ref = dict(ref)
                del ref["_links"]
                clean[name] = ref
        for name in variables:
            if name in clean:
                clean[name] = keep_variable_flags(clean[name])
        data: bytes = dumps(clean, option=option)
        if b'"_links"' in data:
            return _encode_slow(resource, item)
        item_id = clean.get("id")
        if type(item_id) is not int and type(item_id) is not str:
            item_id = str(item_id)
        if not by_project:
            return (item_id,), data
        project = clean.get("project")
        project_id = project.get("id") if type(project) is dict else None
        return (str(project_id or ""), item_id), data

    return encode


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
    deployment: str | None = None,
    api_version: str | None = None,
    identity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything in a snapshot but the item arrays; ``complete`` means no errors.

    ``deployment`` (services|server) and ``api_version`` (the server's highest released
    version) come from route discovery; they are left out when it did not run.
    """
    ordered_errors = sorted((dict(e) for e in errors), key=error_sort_key)
    organization: dict[str, str] = {"url": org_url, "name": org_name}
    if deployment is not None:
        organization["deployment"] = deployment
    if api_version is not None:
        organization["api_version"] = api_version
    header: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": NAME, "version": __version__},
        "organization": organization,
        "started_at": rfc3339(started_at),
        "finished_at": rfc3339(finished_at),
        "complete": not ordered_errors,
        "auth": {"kind": auth_kind},
        "resources": sorted(set(resources)),
        "stats": dict(stats),
        "errors": ordered_errors,
    }
    if identity is not None:  # who crawled (crawler.identity); never the token
        header["identity"] = dict(identity)
    return header


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# The layout on disk is crawler/layout.py's (one top-level key a line, one item a line),
# which crawler/reader.py reads line by line.
SEGMENT_BUDGET = 16 * 1024 * 1024  # encoded bytes held in memory over all open batches
INDEX_LINE = 256  # index entries per line of a segment's index (one orjson call each)
_SMALL_COPY = 64 * 1024  # a copy below this goes through the output buffer
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM}

IndexEntry = tuple[SortKey, int, int, int]  # (sort key, segment sequence, offset, length)


class _Segment(NamedTuple):
    """One sorted, duplicate-free run of items in a spill file, one a line (``a,\nb,\nc``)."""

    first: SortKey
    last: SortKey
    seq: int  # flush order: of two items with one key, the earlier segment's is kept
    offset: int
    length: int
    size: int  # items in it
    index_offset: int  # where its (key, length) entries are in the index file
    index_length: int


class Batch:
    """Items of one listing (or a resource's loose items), encoded and held until written.

    A batch goes to disk as one sorted segment when it closes, or earlier when the
    encoded items held by all batches pass ``SEGMENT_BUDGET`` (checked after each page,
    so by at most a page): memory stays bounded however large one project is.
    """

    __slots__ = ("_encode", "_spill", "_writer", "buffer", "closed", "entries", "resource")

    def __init__(self, spill: _Spill) -> None:
        self._spill = spill
        self._writer = spill.writer
        self._encode = encoder(spill.resource)
        self.resource = spill.resource
        # The items' bytes back to back (orjson's own buffers are 4 KiB at least, so
        # holding them one by one would cost far more than their length).
        self.buffer = bytearray()
        self.entries: list[tuple[SortKey, int, int]] = []  # (key, start, length)
        self.closed = False

    def add(self, item: Mapping[str, Any]) -> None:
        """Encode and keep one item (the writer never modifies ``item``)."""
        self.extend((item,))

    def extend(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Encode and keep a page of items (the memory budget is checked once a page)."""
        if self.closed:
            raise RuntimeError(f"{self.resource} batch is closed")
        encode, buffer, append = self._encode, self.buffer, self.entries.append
        before = len(buffer)
        count = 0
        for item in items:
            key, data = encode(item)
            append((key, len(buffer), len(data)))
            buffer += data
            count += 1
        writer = self._writer
        writer.counts[self.resource] += count
        writer.held += len(buffer) - before
        if writer.held > SEGMENT_BUDGET:
            self._spill.flush(self)

    def close(self) -> None:
        """Write what is held as one segment; the batch takes no more items."""
        if not self.closed:
            self.closed = True
            self._spill.flush(self)
            self._spill.open.discard(self)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge_key(entry: IndexEntry) -> tuple[SortKey, int]:
    return entry[0], entry[1]


def _entry_key(entry: tuple[SortKey, int, int]) -> SortKey:
    return entry[0]


def clusters(segments: Iterable[_Segment]) -> list[list[_Segment]]:
    """Segments grouped by overlapping key ranges, in key order (pure: no I/O).

    A cluster of one segment is copied as it is; a larger one is merged item by item.
    Ranges that only touch (one key ends one segment and starts the next) overlap: that
    key is a duplicate.
    """
    out: list[list[_Segment]] = []
    last: SortKey | None = None
    for segment in sorted(segments, key=lambda s: (s.first, s.seq)):
        if out and last is not None and segment.first <= last:
            out[-1].append(segment)
            last = max(last, segment.last)
        else:
            out.append([segment])
            last = segment.last
    return out


class _Spill:
    """One resource's items on disk as sorted segments, merged into one array at the end.

    Items arrive in batches (one per listing: a project's definitions, say). Each batch is
    sorted in memory and appended to the spill file as one contiguous segment, with its
    index (key and length of each item) in a side file. At the end, segments whose key
    ranges do not overlap (the usual case: one per project and resource) are copied as
    they are, in the kernel where it can; only overlapping ones (a listing split by the
    memory budget, a repository fetched on its own) are merged item by item. Of several
    items with one key the first kept wins: first within a batch, then earlier segment.
    """

    def __init__(self, writer: SnapshotWriter, resource: str) -> None:
        self.writer = writer
        self.resource = resource
        directory = writer.directory
        # Segments are large: they go to the spill file unbuffered, with writev.
        self.fd, self.path = tempfile.mkstemp(
            dir=directory, prefix=f".{resource}.", suffix=".spill"
        )
        fd, self.index_path = tempfile.mkstemp(dir=directory, prefix=f".{resource}.", suffix=".idx")
        self.index: BinaryIO = os.fdopen(fd, "w+b", buffering=256 * 1024)
        self.segments: list[_Segment] = []
        self.open: set[Batch] = set()
        self.loose = self.batch()
        self.offset = 0
        self.index_offset = 0
        self.dropped = 0  # duplicates found so far
        self.clusters: list[list[_Segment]] = []  # set by seal(), in key order

    def batch(self) -> Batch:
        batch = Batch(self)
        self.open.add(batch)
        return batch

    def flush(self, batch: Batch) -> None:
        """Write the batch's items as one sorted segment (and forget them)."""
        entries, buffer = batch.entries, batch.buffer
        batch.entries, batch.buffer = [], bytearray()
        self.writer.held -= len(buffer)
        if not entries or self.writer.closed:
            return
        entries.sort(key=_entry_key)  # stable: of equal keys, the first to arrive leads
        kept: list[tuple[SortKey, int, int]] = []
        previous: SortKey | None = None
        for entry in entries:
            if entry[0] == previous:
                self.dropped += 1
                continue
            previous = entry[0]
            kept.append(entry)
        index = b"".join(
            orjson.dumps([[*key, length] for key, _, length in kept[i : i + INDEX_LINE]]) + b"\n"
            for i in range(0, len(kept), INDEX_LINE)
        )
        view = memoryview(buffer)
        parts: list[bytes | memoryview] = []
        for _, start, length in kept:
            parts.append(view[start : start + length])
            parts.append(ITEM_SEPARATOR)
        parts.pop()  # one item a line, written straight from the batch's buffer
        size = sum(length for _, _, length in kept) + len(ITEM_SEPARATOR) * (len(kept) - 1)
        try:
            _write_all(self.fd, parts)
            self.index.write(index)
        except OSError as exc:
            raise self.writer.trouble("write", exc) from None
        del parts, view  # the buffer is not resized, only dropped: no release needed
        self.segments.append(
            _Segment(
                kept[0][0],
                kept[-1][0],
                len(self.segments),
                self.offset,
                size,
                len(kept),
                self.index_offset,
                len(index),
            )
        )
        self.offset += size
        self.index_offset += len(index)

    def seal(self) -> int:
        """Write every open batch; return how many duplicates this resource had."""
        for batch in list(self.open):
            batch.close()
        try:
            self.index.flush()
        except OSError as exc:
            raise self.writer.trouble("write", exc) from None
        self.clusters = clusters(self.segments)
        for cluster in self.clusters:
            if len(cluster) > 1:
                kept = sum(1 for _ in self._merged(cluster))
                self.dropped += sum(s.size for s in cluster) - kept
        return self.dropped

    def _entries(self, segment: _Segment) -> Iterator[IndexEntry]:
        block = os.pread(self.index.fileno(), segment.index_length, segment.index_offset)
        offset = segment.offset
        for line in block.splitlines():
            for *key, length in orjson.loads(line):
                yield tuple(key), segment.seq, offset, length
                offset += length + len(ITEM_SEPARATOR)  # the ",\n" between items

    def _merged(self, cluster: list[_Segment]) -> Iterator[IndexEntry]:
        """The cluster's entries in key order, one per key (the earliest segment's)."""
        last: SortKey | None = None
        for entry in heapq.merge(*(self._entries(s) for s in cluster), key=_merge_key):
            if entry[0] != last:
                last = entry[0]
                yield entry

    def write_sorted(self, out: _Output) -> None:
        fd = self.fd
        if not self.clusters:
            out.write(b"[]")
            return
        out.write(b"[\n")
        separator = b""
        for cluster in self.clusters:
            if len(cluster) == 1:
                out.write(separator)
                out.copy(fd, cluster[0].offset, cluster[0].length)
            else:
                for n, (_, _, offset, length) in enumerate(self._merged(cluster)):
                    out.write(ITEM_SEPARATOR if n else separator)
                    out.write(os.pread(fd, length, offset))
            separator = ITEM_SEPARATOR
        out.write(b"\n]")

    def close(self) -> None:
        with contextlib.suppress(OSError):  # e.g. a full disk flushing what is discarded
            self.index.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        for path in (self.path, self.index_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


_IOV_MAX = 1024  # buffers per writev call (the POSIX minimum most systems use)


def _write_all(fd: int, parts: list[bytes | memoryview]) -> None:
    """Write ``parts`` back to back with as few system calls as can be."""
    for first in range(0, len(parts), _IOV_MAX):
        chunk = parts[first : first + _IOV_MAX]
        done = os.writev(fd, chunk)
        expected = sum(len(part) for part in chunk)
        if done < expected:  # a short write: finish the rest one buffer at a time
            rest = b"".join(chunk)[done:]
            while rest:
                rest = rest[os.write(fd, rest) :]


class _Output:
    """The snapshot file being written: small writes buffered, large copies in the kernel."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.kernel_copy = hasattr(os, "copy_file_range")

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= 1024 * 1024:
            self.flush()

    def flush(self) -> None:
        done = 0
        with memoryview(self.buffer) as view:
            while done < len(view):
                with view[done:] as rest:
                    done += os.write(self.fd, rest)
        self.buffer.clear()

    def copy(self, source: int, offset: int, length: int) -> None:
        """Append ``length`` bytes of ``source`` from ``offset``."""
        if length < _SMALL_COPY:
            self.write(os.pread(source, length, offset))
            return
        self.flush()
        while length > 0 and self.kernel_copy:
            try:
                done = os.copy_file_range(source, self.fd, length, offset)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                self.kernel_copy = False  # e.g. across file systems: copy through memory
                break
            if done == 0:
                raise OSError(errno.EIO, "the spill file ended early")
            offset += done
            length -= done
        while length > 0:
            chunk = os.pread(source, min(length, 1024 * 1024), offset)
            if not chunk:
                raise OSError(errno.EIO, "the spill file ended early")
            self.write(chunk)
            offset += len(chunk)
            length -= len(chunk)


class SnapshotWriter:
    """Collects items as they arrive and writes the snapshot atomically at the end."""

    def __init__(self, output: Path, resources: Iterable[str]) -> None:
        self.output = output
        self.resources = sorted(set(resources))
        self.directory = str(output.parent.resolve())
        self._spills: dict[str, _Spill] = {}
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

    def _spill(self, resource: str) -> _Spill:
        spill = self._spills.get(resource)
        if spill is None:
            if self.closed or self._sealed:
                raise RuntimeError("the snapshot writer takes no more items")
            try:
                spill = _Spill(self, resource)
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
                out = _Output(fd)
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
        if self.closed:
            return
        self.closed = True
        for spill in self._spills.values():
            spill.close()
        self._spills.clear()
