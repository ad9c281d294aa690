"""Writing a snapshot-shaped JSON file in the crawler's line layout, from streams of items.

The layout (``crawler/snapshot/writer.py`` writes the crawl's own snapshot the same way): ``{`` on
the first line, then one top-level key a line in sorted order; an item array opens with
``"key":[`` and holds one item a line (each compact, keys sorted), closed by ``]`` on a line
of its own; ``}`` on the last line. Still one valid JSON object, read line by line by
:mod:`crawler.snapshot.reader`. ``write_layout`` takes the items as an iterator per key, so a
command
that merges or rewrites snapshots holds one item at a time, and it writes to a temporary file
in the target's directory that replaces the target only once it is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from crawler.snapshot.atomic import replacing

ITEM_SEPARATOR = b",\n"
_DUMP = orjson.OPT_SORT_KEYS


def write_layout(
    path: Path,
    header: Mapping[str, Any],
    arrays: Mapping[str, Callable[[], Iterable[Mapping[str, Any]]]],
) -> Path:
    """Write ``header`` and the item arrays (each a function returning its items) to ``path``."""
    with replacing(path) as out:
        out.write(b"{\n")
        for n, key in enumerate(sorted(set(header) | set(arrays))):
            if n:
                out.write(ITEM_SEPARATOR)
            out.write(orjson.dumps(key) + b":")
            if key not in arrays:
                out.write(orjson.dumps(header[key], option=_DUMP))
                continue
            separator = b"[\n"
            for item in arrays[key]():
                out.write(separator)
                out.write(orjson.dumps(item, option=_DUMP))
                separator = ITEM_SEPARATOR
            out.write(b"[]" if separator == b"[\n" else b"\n]")
        out.write(b"\n}\n")
    return path
