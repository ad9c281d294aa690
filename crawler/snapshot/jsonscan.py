"""An incremental scanner for JSON of any layout: a top-level object's members, an array's elements.

The fallback of :mod:`crawler.snapshot.reader` for snapshot files not in the crawler's own line
layout
(compact on one line, indented, rewritten by another tool). It reads the file in 1 MiB chunks
and finds structure with one regular expression (whole strings, so that brackets inside
strings never count, and the six structural characters), keeping only a chunk and the string
it may cut in memory. It never builds the document: it reports where each array is, and
yields each element's bytes for orjson to parse. Slower than the line reader, same memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

CHUNK = 1 << 20
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{},:]|"', re.DOTALL)
_OPEN = (b"[", b"{")
_CLOSE = (b"]", b"}")


class ScanError(ValueError):
    """The bytes are not the JSON the scanner expected (with the byte offset)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One member of the top-level object: a parsed value, or where an array is."""

    key: str
    value: Any = None
    array: tuple[int, int, int] | None = None  # (offset of "[", offset after "]", elements)


def tokens(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, token) for every string and structural character in ``[start, end)``."""
    handle.seek(start)
    base, buffer, left = start, b"", end - start
    while True:
        data = handle.read(min(CHUNK, left)) if left > 0 else b""
        left -= len(data)
        final = not data
        buffer = buffer + data if buffer else data
        cut = len(buffer)
        for match in _TOKEN.finditer(buffer):
            token = match.group()
            if token == b'"':  # a string this chunk cuts short
                if final:
                    raise ScanError(f"unterminated string at byte {base + match.start()}")
                cut = match.start()
                break
            yield base + match.start(), token
        if final:
            return
        base += cut
        buffer = buffer[cut:]


def _read(handle: BinaryIO, start: int, end: int) -> bytes:
    return os.pread(handle.fileno(), end - start, start)


def _parse(data: bytes, where: int) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ScanError(f"bad value at byte {where}: {exc}") from None


def scan_object(handle: BinaryIO, skip_arrays: Callable[[str], bool]) -> Iterator[Member]:
    """The members of the top-level object, in file order.

    A member whose value is an array and whose key ``skip_arrays`` accepts is reported by
    position and element count only; every other value is parsed.
    """
    size = os.fstat(handle.fileno()).st_size
    depth = 0
    state = "open"
    key = ""
    value_start = value_end = array_start = commas = closed = 0
    is_array = touched = False
    for offset, token in tokens(handle, 0, size):
        if state == "open":
            if token != b"{" or _read(handle, 0, offset).strip():
                raise ScanError("not an object")
            state, depth = "key", 1
        elif state == "key":
            if token == b"}" and not key:
                state, closed = "done", offset + 1
                continue
            if token[:1] != b'"':
                raise ScanError(f"expected a key at byte {offset}")
            key = str(_parse(token, offset))
            state = "colon"
        elif state == "colon":
            if token != b":":
                raise ScanError(f"expected ':' at byte {offset}")
            value_start, state = offset + 1, "value"
        elif state == "value":
            if token in _OPEN:
                is_array, array_start, commas, depth = token == b"[", offset, 0, 2
                state, touched = "inside", False
            elif token[:1] == b'"':
                is_array, value_end, state = False, offset + len(token), "after"
            elif token in (b",", b"}"):  # a number, true, false or null ended
                yield Member(key, _parse(_read(handle, value_start, offset), value_start))
                state, closed = ("key" if token == b"," else "done"), offset + 1
            else:
                raise ScanError(f"unexpected {token!r} at byte {offset}")
        elif state == "inside":
            if token in _OPEN:
                depth += 1
            elif token in _CLOSE:
                depth -= 1
                if depth == 1:
                    value_end, state = offset + 1, "after"
                    continue
            elif token == b"," and depth == 2:
                commas += 1
            touched = True
        elif state == "after":
            if token not in (b",", b"}"):
                raise ScanError(f"expected ',' or '}}' at byte {offset}")
            if is_array and skip_arrays(key):
                # No token inside: empty, or one number, true, false or null (a few bytes).
                filled = touched or _read(handle, array_start + 1, value_end - 1).strip()
                yield Member(key, array=(array_start, value_end, commas + 1 if filled else 0))
            else:
                yield Member(key, _parse(_read(handle, value_start, value_end), value_start))
            state, closed = ("key" if token == b"," else "done"), offset + 1
        else:  # done: nothing may follow the object
            raise ScanError(f"data after the object at byte {offset}")
    if state != "done":
        raise ScanError("the object is not closed")
    if _read(handle, closed, size).strip():
        raise ScanError(f"data after the object at byte {closed}")


def elements(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    """The bytes of each element of the array at ``[start, end)`` (``[`` to ``]``)."""
    depth = 0
    first = start + 1
    for offset, token in tokens(handle, start, end):
        if token in _OPEN:
            depth += 1
            if depth == 1:
                first = offset + 1
        elif token in _CLOSE:
            depth -= 1
            if depth == 0:
                last = _read(handle, first, offset).strip()
                if last:
                    yield last
                return
        elif token == b"," and depth == 1:
            yield _read(handle, first, offset).strip()
            first = offset + 1
