"""Reading a snapshot file in bounded memory: its header first, then one resource's items at a time.

``open_snapshot(path)`` scans the file once and keeps only the header (every top-level key
that is not an item array: ``organization``, ``errors``, ``stats``, and any field added
later) plus, for each item array, where it is and how many items it holds. ``items(key)``
then reads that array again from disk, one item at a time, as often as a caller asks.

Two ways to read: the layout the crawler and ``merge`` write (one top-level key a line, one
item a line; see ``crawler/snapshot/writer.py``) is read line by line with orjson; any other JSON
layout (compact on one line, indented, written by another tool) goes through a small
incremental scanner (:mod:`crawler.snapshot.jsonscan`) that finds the same boundaries byte by byte,
slower but in the same bounded memory. Which resource keys exist is never assumed: every
top-level array outside ``errors``, ``resources`` and ``organizations`` is an item array.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from crawler.protocol.errors import UsageError
from crawler.snapshot.jsonscan import ScanError, elements, scan_object
from crawler.snapshot.schema import SCHEMA_VERSION, is_multi, parse_snapshot

NOT_RESOURCES = frozenset({"errors", "resources", "organizations"})
_OUR_START = b"{\n"


@dataclass(frozen=True, slots=True)
class _Array:
    """Where one item array is: byte range and count, or its items when it was inline."""

    start: int
    end: int
    count: int
    lines: bool  # one item a line (our layout) or a JSON array text to scan
    inline: tuple[Any, ...] | None = None


class SnapshotFile:
    """One snapshot on disk: ``header`` in memory, items read from disk on demand."""

    def __init__(
        self, path: Path, order: list[str], header: dict[str, Any], arrays: dict[str, _Array]
    ) -> None:
        self.path = path
        self.header = header
        self._order = tuple(order)
        self._arrays = arrays

    @property
    def resource_keys(self) -> list[str]:
        """The item arrays of the file, sorted (as ``crawler.downstream.merge.resource_keys``)."""
        return sorted(self._arrays)

    @property
    def multi(self) -> bool:
        """True for a multi-organization file (``merge``'s output)."""
        return is_multi(self.header)

    def count(self, key: str) -> int:
        """How many items the array ``key`` holds (0 when the file has no such key)."""
        array = self._arrays.get(key)
        return 0 if array is None else array.count

    def raw(self, key: str) -> Iterator[bytes]:
        """The JSON text of each item of ``key``, in file order."""
        array = self._arrays.get(key)
        if array is None:
            return
        if array.inline is not None:
            for item in array.inline:
                yield orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            return
        with self.path.open("rb") as handle:
            if array.lines:
                yield from _lines(handle, array.start, array.end)
            else:
                try:
                    yield from elements(handle, array.start, array.end)
                except ScanError as exc:
                    raise UsageError(f"{self.path}: not JSON ({exc})") from None

    def items(self, key: str) -> Iterator[dict[str, Any]]:
        """Each item of ``key`` as a dict, in file order (a fresh dict each time)."""
        array = self._arrays.get(key)
        if array is not None and array.inline is not None:
            for item in array.inline:
                yield orjson.loads(orjson.dumps(item))  # a copy the caller may change
            return
        loads = orjson.loads
        for n, data in enumerate(self.raw(key)):
            try:
                item = loads(data)
            except orjson.JSONDecodeError as exc:
                raise UsageError(f"{self.path}: {key}[{n}] is not JSON ({exc})") from None
            yield item

    def shell(self) -> dict[str, Any]:
        """The header with every item array present but empty (for checks on the header)."""
        out = dict(self.header)
        for key in self._arrays:
            out[key] = []
        return out

    def top_keys(self) -> list[str]:
        """Every top-level key, in file order."""
        return list(self._order)

    def is_array(self, key: str) -> bool:
        """True when ``key`` is an item array (read with :meth:`items`)."""
        return key in self._arrays


def _lines(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    handle.seek(start)
    offset = start
    for line in handle:
        if offset >= end:
            return
        offset += len(line)
        yield line.rstrip(b",\n")


def _scan_lines(handle: BinaryIO) -> tuple[list[str], dict[str, Any], dict[str, _Array]] | None:
    """Header and arrays of a file in our layout; None when it is laid out otherwise."""
    handle.seek(len(_OUR_START))
    order: list[str] = []
    header: dict[str, Any] = {}
    arrays: dict[str, _Array] = {}
    offset = len(_OUR_START)
    key: str | None = None
    start = count = 0
    closed = False
    for line in handle:
        size = len(line)
        if key is not None:  # inside an item array
            if line[:1] == b"]":
                arrays[key] = _Array(start, offset, count, lines=True)
                key = None
            else:
                count += 1
            offset += size
            continue
        body = line.rstrip(b"\n")
        if body == b"}":
            closed = True
            break
        if body[-1:] == b",":
            body = body[:-1]
        if body[:1] != b'"':
            return None
        try:
            if body.endswith(b":["):
                key = str(orjson.loads(body[:-2]))
                order.append(key)
                start, count = offset + size, 0
            else:
                ((name, value),) = orjson.loads(b"{" + body + b"}").items()
                order.append(name)
                _place(name, value, header, arrays)
        except (orjson.JSONDecodeError, ValueError):
            return None
        offset += size
    if not closed or key is not None or handle.read(64).strip():
        return None
    return order, header, arrays


def _place(name: str, value: Any, header: dict[str, Any], arrays: dict[str, _Array]) -> None:
    if isinstance(value, list) and name not in NOT_RESOURCES:
        arrays[name] = _Array(0, 0, len(value), lines=True, inline=tuple(value))
    else:
        header[name] = value


def _scan_any(path: Path, handle: BinaryIO) -> tuple[list[str], dict[str, Any], dict[str, _Array]]:
    order: list[str] = []
    header: dict[str, Any] = {}
    arrays: dict[str, _Array] = {}
    try:
        for member in scan_object(handle, skip_arrays=lambda name: name not in NOT_RESOURCES):
            order.append(member.key)
            if member.array is not None:
                first, last, count = member.array
                arrays[member.key] = _Array(first, last, count, lines=False)
            else:
                _place(member.key, member.value, header, arrays)
    except ScanError as exc:
        if str(exc) == "not an object":  # say what it is, as for a loaded file
            handle.seek(0)
            parse_snapshot(handle.read(), str(path))
        raise UsageError(f"{path}: not JSON ({exc})") from None
    return order, header, arrays


def check_header(header: Mapping[str, Any], source: str) -> None:
    """UsageError unless the header is of a ``schema_version`` this version reads."""
    version = header.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        shown = "missing" if version is None else repr(version)
        raise UsageError(
            f"{source}: schema_version {shown} is not supported "
            f"(this ado-inventory reads schema_version {SCHEMA_VERSION})"
        )


def open_snapshot(path: str | Path) -> SnapshotFile:
    """Scan a snapshot file (any JSON layout); UsageError when unreadable or not a v1 object."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            found = None
            if handle.read(len(_OUR_START)) == _OUR_START:
                found = _scan_lines(handle)
            if found is None:
                handle.seek(0)
                found = _scan_any(path, handle)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    order, header, arrays = found
    check_header(header, str(path))
    return SnapshotFile(path, order, header, arrays)
