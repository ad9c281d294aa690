"""Where the token comes from (environment only), how it is sent, and how it is kept out of output.

A :class:`Credential` never shows its token in ``repr``, ``str``, f-strings or exception
text, and refuses to be pickled. :class:`Redactor` scrubs every form of a secret from text.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn
from urllib.parse import quote, quote_plus

from crawler.protocol.errors import UsageError

CredentialKind = Literal["job", "pat", "bearer"]
MASK = "***"

# Checked in this order when --auth is not given: the first one set wins.
CREDENTIAL_VARS: tuple[tuple[CredentialKind, str], ...] = (
    ("job", "SYSTEM_ACCESSTOKEN"),
    ("pat", "AZURE_DEVOPS_EXT_PAT"),
    ("bearer", "ADO_INVENTORY_BEARER_TOKEN"),
)
AUTH_KINDS: tuple[CredentialKind, ...] = tuple(kind for kind, _ in CREDENTIAL_VARS)

_MACRO = re.compile(r"^\$\(\s*([A-Za-z0-9_.\-]+)\s*\)$")

PIPELINE_YAML = """\
  - script: ado-inventory crawl
    env:
      SYSTEM_ACCESSTOKEN: $(System.AccessToken)"""


class _Secret:
    """A string that prints as ``***`` and cannot be pickled."""

    __slots__ = ("_value",)

    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a secret is immutable")

    def reveal(self) -> str:
        """The secret itself; call only where it is sent."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((_Secret, len(self._value)))

    def __copy__(self) -> _Secret:
        return self

    def __deepcopy__(self, memo: object) -> _Secret:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a secret cannot be pickled")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a secret cannot be pickled")


@dataclass(frozen=True, slots=True, init=False, repr=False)
class Credential:
    """A token and how to send it: ``job`` and ``bearer`` as Bearer, ``pat`` as Basic."""

    kind: CredentialKind
    source: str
    _token: _Secret

    def __init__(self, kind: CredentialKind, source: str, token: str) -> None:
        if kind not in AUTH_KINDS:
            raise ValueError(f"unknown credential kind {kind!r}")
        problem = token_problem(token)
        if problem:
            raise ValueError(f"credential from {source or 'nowhere'}: {problem}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "_token", _Secret(token))

    def authorization_header(self) -> str:
        """The value of the ``Authorization`` request header."""
        token = self._token.reveal()
        if self.kind == "pat":
            return "Basic " + _basic(token)
        return "Bearer " + token

    def secrets(self) -> tuple[str, ...]:
        """Every string form of the token that must never appear in output."""
        token = self._token.reveal()
        forms = [token, self.authorization_header()]
        if self.kind == "pat":
            forms.append(_basic(token))
        return tuple(dict.fromkeys(forms))

    def redactor(self) -> Redactor:
        """A :class:`Redactor` for every form of this credential."""
        return Redactor(*self.secrets())

    def __repr__(self) -> str:
        return f"Credential(kind={self.kind!r}, source={self.source!r}, token={MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __copy__(self) -> Credential:
        return self

    def __deepcopy__(self, memo: object) -> Credential:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Credential cannot be pickled")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Credential cannot be pickled")


def _basic(pat: str) -> str:
    return base64.b64encode((":" + pat).encode("utf-8")).decode("ascii")


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent in a header, or None when it can."""
    if not token:
        return "the token is empty"
    if not token.isascii() or not token.isprintable() or any(ch.isspace() for ch in token):
        return "the token contains spaces, line breaks, control or non-ASCII characters"
    return None


def _usable(value: str | None) -> str | None:
    """The stripped value, or None when it is unset, blank or an unexpanded macro."""
    if value is None:
        return None
    value = value.strip()
    if not value or _MACRO.match(value):
        return None
    return value


def _missing_message(environ: Mapping[str, str], wanted: tuple[str, ...]) -> str:
    names = ", ".join(wanted)
    state = "each unset or empty" if len(wanted) > 1 else "unset or empty"
    lines = [f"no Azure DevOps token found: checked {names} ({state})."]
    for _, var in CREDENTIAL_VARS:
        raw = (environ.get(var) or "").strip()
        match = _MACRO.match(raw)
        if var in wanted and match:
            lines.append(
                f"{var} is the literal text {raw!r}: the pipeline macro was not expanded "
                f"(the variable {match.group(1)} does not exist where the step runs, or the "
                "value was quoted or passed through a template that does not expand macros)."
            )
    lines += [
        "In a pipeline, map the job access token explicitly (secrets are never exposed to "
        "scripts by default):",
        PIPELINE_YAML,
        "On a laptop, read a PAT without echoing it, never on the command line:",
        "  read -rs AZURE_DEVOPS_EXT_PAT && export AZURE_DEVOPS_EXT_PAT",
        'For an Entra ID token: export ADO_INVENTORY_BEARER_TOKEN="$(az account '
        "get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 "
        '--query accessToken -o tsv)"',
    ]
    return "\n".join(lines)


def resolve_credential(environ: Mapping[str, str], choice: str | None) -> Credential:
    """Pick the credential from the environment (``--auth`` choice, else job > pat > bearer)."""
    if choice is not None and choice not in AUTH_KINDS:
        raise UsageError(f"--auth must be one of {', '.join(AUTH_KINDS)} (got {choice!r})")
    candidates = [(k, v) for k, v in CREDENTIAL_VARS if choice is None or k == choice]
    for kind, var in candidates:
        value = _usable(environ.get(var))
        if value is None:
            continue
        problem = token_problem(value)
        if problem:
            raise UsageError(
                f"{var}: {problem} inside the value; copy the token again "
                "(surrounding spaces and newlines are already stripped)"
            )
        return Credential(kind, var, value)
    message = _missing_message(environ, tuple(var for _, var in candidates))
    if choice is not None:
        others = [
            f"{var} is set (--auth {kind})"
            for kind, var in CREDENTIAL_VARS
            if kind != choice and _usable(environ.get(var)) is not None
        ]
        if others:
            message += "\nNote: " + "; ".join(others) + "; drop --auth or choose that kind."
    raise UsageError(message)


class Redactor:
    """Replaces every known secret, and its URL-encoded forms, with ``***``.

    A secret made only of ``*`` cannot be told apart from the mask and is ignored.
    """

    __slots__ = ("_pattern",)

    def __init__(self, *secrets: str) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or not secret.strip("*"):
                continue
            forms.update((secret, quote(secret, safe=""), quote_plus(secret, safe="")))
        ordered = sorted(forms, key=lambda s: (-len(s), s))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        pattern = self._pattern
        if pattern is None:
            return text
        # Replacing can join mask stars and neighbouring text into a new match; repeat until
        # none is left. Each pass removes at least one non-``*`` character, so this ends.
        while pattern.search(text):
            text = pattern.sub(MASK, text)
        return text
