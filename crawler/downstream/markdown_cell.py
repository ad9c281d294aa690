"""Text made safe for one Markdown table cell: the one escaping rule of every Markdown
renderer (the diff, the run report, the audit)."""

from __future__ import annotations

__all__ = ["md_cell"]


def md_cell(text: str) -> str:
    """Text made safe for one Markdown table cell (no markup, no line breaks)."""
    out = " ".join(text.split())
    for ch in "\\`*_[]<|&~#":
        out = out.replace(ch, "\\" + ch)
    return out
