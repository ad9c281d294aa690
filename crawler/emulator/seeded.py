"""Deterministic draws keyed by the seed, and the seeded values every generator shares: dates,
ids, people (IdentityRefs), variable maps and the planted secrets."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

from crawler.emulator.config import EmulatorConfig

JsonDict = dict[str, Any]
T = TypeVar("T")

PEOPLE = (
    ("Ada Lovelace", "ada@fabrikam.example"),
    ("Grace Hopper", "grace@fabrikam.example"),
    ("Józef Wiśniewski", "jozef@fabrikam.example"),
    ("Анна Петрова", "anna@fabrikam.example"),
    ("山田 太郎", "taro@fabrikam.example"),
    ("Alan Turing", "alan@fabrikam.example"),
)
# Names of stages and environments.
ENV_WORDS = ("dev", "test", "staging", "production", "qa", "perf")
_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)


class Draw:
    """Deterministic draws from a SHA-512 stream of a key: a fast stand-in for random.Random."""

    __slots__ = ("_block", "_key", "_pool")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block = 0
        self._pool = int.from_bytes(hashlib.sha512(key).digest(), "big")

    def _take(self, n: int) -> int:
        if self._pool < (1 << 96):
            self._block += 1
            block = self._key + b"\x1e" + str(self._block).encode()
            self._pool = int.from_bytes(hashlib.sha512(block).digest(), "big")
        self._pool, value = divmod(self._pool, n)
        return value

    def randrange(self, start: int, stop: int | None = None) -> int:
        """A number in ``range(start, stop)`` (or ``range(start)``)."""
        if stop is None:
            start, stop = 0, start
        return start + self._take(stop - start)

    def random(self) -> float:
        """A float in [0, 1)."""
        return self._take(1 << 24) / (1 << 24)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        return options[self._take(len(options))]

    def getrandbits(self, bits: int) -> int:
        """A ``bits``-bit number."""
        return self._take(1 << bits)


def stable_rng(seed: int, *parts: object) -> Draw:
    """Draws keyed by ``seed`` and ``parts``: the same arguments always give the same stream."""
    return Draw("\x1f".join([str(seed), *(str(p) for p in parts)]).encode("utf-8"))


@lru_cache(maxsize=65536)
def quote_segment(text: str) -> str:
    """``text`` percent-encoded as one URL path segment (cached: names repeat a lot)."""
    return quote(text, safe="")


def draw_guid(rng: Draw) -> str:
    """A version-4 GUID drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_DAYS = tuple((_EPOCH + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(2000))


def draw_date(rng: Draw, start_days: int = 0, span_days: int = 1500) -> str:
    """An ISO timestamp (ms, Z) ``start_days`` to ``start_days + span_days`` days after 2019."""
    day = _DAYS[start_days + rng.randrange(span_days)]
    second = rng.randrange(86400)
    millis = rng.randrange(1000)
    return f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.{millis:03d}Z"


@lru_cache(maxsize=256)
def _person_id(seed: int, k: int) -> str:
    return draw_guid(stable_rng(seed, "person", k))


def identity_ref(seed: int, k: int, base: str) -> JsonDict:
    """The IdentityRef of person ``k`` (no links) as served under ``base``."""
    display, unique = PEOPLE[k % len(PEOPLE)]
    ident = _person_id(seed, k)
    return {
        "displayName": display,
        "url": f"{base}/_apis/Identities/{ident}",
        "id": ident,
        "uniqueName": unique,
        "imageUrl": f"{base}/_api/_common/identityImage?id={ident}",
    }


def identity_with_links(identity: JsonDict, base: str) -> JsonDict:
    """An IdentityRef as served: with ``_links.avatar`` (the ground truth has no links)."""
    avatar = f"{base}/_apis/GraphProfile/MemberAvatars/aad.{identity['id']}"
    return {"_links": {"avatar": {"href": avatar}}, **identity}


def planted_secret(config: EmulatorConfig, where: str) -> str | None:
    """The planted secret marker for ``where``, or None when no secret is planted."""
    return None if config.planted_secret is None else f"{config.planted_secret}-{where}"


def variables_map(config: EmulatorConfig, rng: Draw, where: str, count: int) -> JsonDict:
    """A {name: {value, isSecret}} map: secret values come back null, like ADO; with a planted
    secret, every value (a non-secret one too) carries the marker."""
    out: JsonDict = {}
    for k in range(count):
        secret = k % 2 == 1
        name = rng.choice(("connectionString", "apiKey", "region", "sku", "password", "url"))
        name = f"{name}{k}"
        planted = planted_secret(config, f"{where}-{name}")
        if secret:
            out[name] = {"value": planted, "isSecret": True}
        else:
            out[name] = {"value": planted or rng.choice(("westeurope", "S1", "https://x.example"))}
    return out
