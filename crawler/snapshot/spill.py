"""Spill and external merge sort: one resource's items on disk as sorted segments, merged
into the snapshot's one sorted, duplicate-free array at the end."""

from __future__ import annotations

import contextlib
import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple, Protocol

import orjson

from crawler.protocol.errors import CrawlerError
from crawler.snapshot.encode import SortKey, encoder
from crawler.snapshot.layout import ITEM_SEPARATOR
from crawler.snapshot.output import Output

__all__ = ["INDEX_LINE", "LOOSE_BUDGET", "SEGMENT_BUDGET", "Batch", "Owner", "Spill", "clusters"]

SEGMENT_BUDGET = 16 * 1024 * 1024  # encoded bytes held in memory over all open batches
# A resource's loose items (added one by one: a settings object per project, a probed
# repository) go to disk a segment per this many bytes, so they are not held to the seal.
LOOSE_BUDGET = 256 * 1024
INDEX_LINE = 256  # index entries per line of a segment's index (one orjson call each)

IndexEntry = tuple[SortKey, int, int, int]  # (sort key, segment sequence, offset, length)


class Owner(Protocol):
    """What a spill needs of the writer it belongs to
    (``crawler.snapshot.writer.SnapshotWriter``)."""

    directory: str  # where the spill files go: beside the target
    counts: dict[str, int]  # items added per resource
    held: int  # encoded bytes in open batches, over all resources
    closed: bool

    def trouble(self, verb: str, exc: OSError) -> CrawlerError:
        """The error for a failed read or write of the working files."""


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

    def __init__(self, spill: Spill) -> None:
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
        if writer.held > SEGMENT_BUDGET or (
            len(buffer) > LOOSE_BUDGET and self is self._spill.loose
        ):
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


class Spill:
    """One resource's items on disk as sorted segments, merged into one array at the end.

    Items arrive in batches (one per listing: a project's definitions, say). Each batch is
    sorted in memory and appended to the spill file as one contiguous segment, with its
    index (key and length of each item) in a side file. At the end, segments whose key
    ranges do not overlap (the usual case: one per project and resource) are copied as
    they are, in the kernel where it can; only overlapping ones (a listing split by the
    memory budget, a repository fetched on its own) are merged item by item. Of several
    items with one key the first kept wins: first within a batch, then earlier segment.
    """

    def __init__(self, writer: Owner, resource: str) -> None:
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

    def write_sorted(self, out: Output) -> None:
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
