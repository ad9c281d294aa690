"""Azure Pipelines logging commands (``##vso[...]``), used only when ``TF_BUILD`` is ``True``.

Escaping follows the agent's ``CommandStringConvertor``: ``%`` first, then CR, LF, and in
property values ``;`` and ``]``. Never pass a secret to these functions.
"""

from __future__ import annotations

from collections.abc import Mapping

_MESSAGE_ESCAPES = (("%", "%AZP25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_MESSAGE_ESCAPES, ("]", "%5D"), (";", "%3B"))


def in_pipeline(environ: Mapping[str, str]) -> bool:
    """True when running inside an Azure Pipelines job."""
    return environ.get("TF_BUILD", "").lower() == "true"


def escape_message(text: str) -> str:
    """Escape the message part of a logging command."""
    for raw, escaped in _MESSAGE_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def escape_property(text: str) -> str:
    """Escape a property value of a logging command."""
    for raw, escaped in _PROPERTY_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def command(area_action: str, message: str = "", **properties: str) -> str:
    """One logging command line, e.g. ``##vso[task.logissue type=warning;]text``."""
    props = "".join(f"{k}={escape_property(v)};" for k, v in properties.items())
    sep = " " if props else ""
    return f"##vso[{area_action}{sep}{props}]{escape_message(message)}"


def log_issue(message: str, *, kind: str = "warning") -> str:
    """A warning or error shown on the run's summary page."""
    return command("task.logissue", message, type=kind)


def set_progress(percent: int, message: str) -> str:
    """The progress shown beside the running step."""
    return command("task.setprogress", message, value=str(max(0, min(100, percent))))


def upload_summary(path: str) -> str:
    """Attach a Markdown file to the run's summary page."""
    return command("task.uploadsummary", path)


def group(title: str) -> str:
    """Start a collapsible group in the log."""
    return f"##[group]{escape_message(title)}"


def end_group() -> str:
    """End the current collapsible group."""
    return "##[endgroup]"
