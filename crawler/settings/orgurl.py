"""Parse and normalise the organization URL given by ``--org`` or ``SYSTEM_COLLECTIONURI``.

Pure: no I/O. Every refusal is a one-line :class:`~crawler.protocol.errors.UsageError` that says
what is wrong and what to give instead.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal, NoReturn
from urllib.parse import quote, unquote, urlsplit

from crawler.protocol.errors import UsageError

OrgKind = Literal["cloud", "legacy", "server", "loopback"]

CLOUD_HOST = "dev.azure.com"
LEGACY_SUFFIX = ".visualstudio.com"
EXAMPLE = "https://dev.azure.com/{org}/"

_DEFAULT_PORTS = {"https": 443, "http": 80}
_USERINFO = re.compile(r"//[^/?#]*@")  # never echo a password given in the URL


@dataclass(frozen=True, slots=True)
class OrgUrl:
    """A normalised organization (or collection) URL.

    ``url`` always ends with ``/`` and is the base every API path is appended to.
    """

    url: str
    name: str
    host: str
    is_loopback: bool
    kind: OrgKind

    def __str__(self) -> str:
        return self.url


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any address in 127.0.0.0/8 or ``::1``."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fail(
    text: str, problem: str, hint: str = f"give the organization URL, e.g. {EXAMPLE}"
) -> NoReturn:
    shown = _USERINFO.sub("//***@", text)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    raise UsageError(f"organization URL {shown!r}: {problem}; {hint}")


def _decode_segment(text: str, segment: str) -> str:
    try:
        name = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        _fail(text, f"{segment!r} is not valid percent-encoded UTF-8")
    if not name.strip() or name != name.strip():
        _fail(text, f"the name {name!r} is empty or has surrounding spaces")
    if any(ch in "/\\" or not ch.isprintable() for ch in name):
        _fail(text, f"the name {name!r} contains '/', '\\' or control characters")
    return name


def _encode_segment(name: str) -> str:
    return quote(name, safe="")


def parse_org_url(text: str) -> OrgUrl:
    """Parse an organization or collection URL into its normalised form, or raise UsageError."""
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        _fail("", "it is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        _fail(raw, "it contains spaces or control characters (percent-encode them)")
    if "://" not in raw:
        hint = f"add the scheme, e.g. https://{raw.lstrip('/')}" if "." in raw else ""
        _fail(raw, "it is not a URL (no https://)", hint or f"give e.g. {EXAMPLE}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        _fail(raw, f"it is not a valid URL ({exc})")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        _fail(raw, f"the scheme {parts.scheme!r} is not https")
    if "@" in parts.netloc:
        _fail(
            raw,
            "it contains user:password@",
            "remove it; the token comes from the environment (see --auth)",
        )
    if parts.query or parts.fragment or "?" in raw or "#" in raw:
        _fail(raw, "it has a query string or fragment", "remove everything from '?' or '#'")
    host = (parts.hostname or "").lower()
    if not host:
        _fail(raw, "it has no host")
    loopback = is_loopback_host(host)
    if scheme == "http" and not loopback:
        _fail(
            raw,
            "plain http to a non-loopback host: the token would travel in clear",
            "use https://",
        )
    path = parts.path
    if path.endswith("/"):
        path = path[:-1]
    raw_segments = path.split("/")[1:] if path else []
    if any(not seg for seg in raw_segments):
        _fail(raw, "the path has an empty segment ('//')")
    segments = [_decode_segment(raw, seg) for seg in raw_segments]

    netloc_host = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc_host = f"{netloc_host}:{port}"
    base = f"{scheme}://{netloc_host}/"

    kind: OrgKind
    if loopback:
        kind = "loopback"
        if len(segments) == 2 and segments[0].lower() == "tfs":
            # An emulated Azure DevOps Server collection: http://127.0.0.1:PORT/tfs/COLLECTION
            base = f"{base}{raw_segments[0]}/"
            segments = segments[1:]
        if len(segments) != 1:
            _missing_or_below(raw, segments, f"{scheme}://{netloc_host}/{{org}}/")
        name = segments[0]
    elif host == CLOUD_HOST:
        kind = "cloud"
        if len(segments) != 1:
            _missing_or_below(raw, segments, EXAMPLE)
        name = segments[0]
    elif host.endswith("." + CLOUD_HOST):
        _fail(raw, f"{host} is not the organization host")
    elif host.endswith(LEGACY_SUFFIX):
        kind = "legacy"
        org = host[: -len(LEGACY_SUFFIX)]  # a host label: case-insensitive, kept lower-case
        if not org or "." in org:
            _fail(raw, f"{host} is not an organization host", "use https://{org}.visualstudio.com/")
        if segments and not (len(segments) == 1 and segments[0].lower() == "defaultcollection"):
            _fail(
                raw,
                "it points below the organization",
                f"give the organization URL, e.g. https://{org}{LEGACY_SUFFIX}/",
            )
        return OrgUrl(url=base, name=org, host=host, is_loopback=False, kind=kind)
    else:
        kind = "server"
        example = f"{base}{{collection}}/"
        if segments and segments[0].lower() == "tfs":
            if len(segments) == 1:
                _fail(
                    raw,
                    "it names the server, not a collection",
                    f"give e.g. {base}tfs/DefaultCollection/",
                )
            example = f"{base}{raw_segments[0]}/{{collection}}/"
            base = f"{base}{raw_segments[0]}/"
            segments = segments[1:]
        if len(segments) != 1:
            _missing_or_below(raw, segments, example, what="collection")
        name = segments[0]
    if name.startswith("_"):
        _fail(raw, f"{name!r} is an API path segment, not an organization name")
    return OrgUrl(
        url=f"{base}{_encode_segment(name)}/", name=name, host=host, is_loopback=loopback, kind=kind
    )


def _missing_or_below(
    raw: str, segments: list[str], example: str, what: str = "organization"
) -> NoReturn:
    if not segments:
        _fail(raw, f"the {what} name is missing", f"give e.g. {example}")
    _fail(raw, f"it points below the {what}", f"give the {what} URL, e.g. {example}")
