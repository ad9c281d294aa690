"""The crawl's settings table: the ``Settings`` a run reads and one ``Key`` per setting.

``Settings`` itself does not validate, so tests may build one outside the user-facing ranges.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from crawler.protocol.resources import REGISTRY, default_resources
from crawler.settings.orgurl import OrgUrl

# Resource names as they appear in the snapshot and in --resources, from the registry in
# crawler.protocol.resources. "projects" is always crawled (every other resource hangs off a
# project).
KNOWN_RESOURCES: tuple[str, ...] = tuple(REGISTRY)
DEFAULT_RESOURCES: tuple[str, ...] = default_resources()
ALL_RESOURCES = "all"

AUTH_CHOICES = ("job", "pat", "bearer")
PROGRESS_CHOICES = ("auto", "tty", "plain", "none")
Progress = Literal["auto", "tty", "plain", "none"]

ENV_PREFIX = "ADO_INVENTORY_"
ORG_ENV = "SYSTEM_COLLECTIONURI"
# Variables under ENV_PREFIX that are not settings (credentials are read elsewhere).
ENV_NOT_SETTINGS = frozenset({"ADO_INVENTORY_BEARER_TOKEN"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one crawl needs to know, except the credential."""

    org: OrgUrl
    output: Path = Path("inventory.json")
    concurrency: int = 16
    rate: float = 50.0
    page_size: int = 500
    timeout_s: float = 60.0
    connect_timeout_s: float = 15.0
    deadline_s: float = 3600.0
    max_retries: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0
    outage_tolerance_s: float = 600.0
    max_pages: int = 10000
    max_response_mb: float = 64.0
    projects: tuple[str, ...] = ()
    exclude_projects: tuple[str, ...] = ()
    resources: tuple[str, ...] = DEFAULT_RESOURCES
    latest_builds: bool = False
    release_expand: bool = False
    auth: str | None = None
    ca_bundle: Path | None = None
    progress: Progress = "auto"
    verbose: bool = False
    quiet: bool = False

    def selects(self, project: str) -> bool:
        """True when ``project`` passes this run's include and exclude globs."""
        return project_selected(project, self.projects, self.exclude_projects)


Kind = Literal["org", "path", "int", "float", "bool", "globs", "resources", "choice"]


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: its type, allowed range or choices, flag and help."""

    name: str
    kind: Kind
    flags: tuple[str, ...]
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False

    @property
    def env(self) -> str:
        """The environment variable this key is read from."""
        return ORG_ENV if self.name == "org" else ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """The long flag."""
        return self.flags[-1]

    def allowed(self) -> str:
        """What values are allowed, for messages and docs."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.low is not None and self.high is not None:
            return f"{format_number(self.low)}..{format_number(self.high)}"
        return {
            "org": "an organization URL",
            "path": "a file path",
            "bool": "true or false",
            "globs": "project name globs",
            "resources": f"{', '.join(KNOWN_RESOURCES)} or {ALL_RESOURCES}",
        }.get(self.kind, "")


KEYS: tuple[Key, ...] = (
    Key("org", "org", ("--org",), "organization or collection URL"),
    Key("output", "path", ("-o", "--output"), "where the snapshot is written"),
    Key("concurrency", "int", ("--concurrency",), "requests in flight at most", 1, 256),
    Key("rate", "float", ("--rate",), "requests per second ceiling", 0.1, 10000),
    Key("page_size", "int", ("--page-size",), "$top sent for paged lists", 1, 10000),
    Key("timeout_s", "float", ("--timeout",), "total seconds per request", 1, 600),
    Key("connect_timeout_s", "float", ("--connect-timeout",), "seconds to connect", 1, 600),
    Key("deadline_s", "float", ("--deadline",), "seconds for the whole run", 10, 86400),
    Key("max_retries", "int", ("--max-retries",), "retries of a 429/5xx/network error", 0, 20),
    Key("backoff_base_s", "float", ("--backoff-base",), "first retry wait, seconds", 0, 60),
    Key("backoff_max_s", "float", ("--backoff-max",), "longest retry wait, seconds", 0, 3600),
    Key(
        "outage_tolerance_s",
        "float",
        ("--outage-tolerance",),
        "how long to wait for an unreachable server, seconds",
        0,
        86400,
    ),
    Key("max_pages", "int", ("--max-pages",), "page cap per listing", 1, 1_000_000),
    Key("max_response_mb", "float", ("--max-response-mb",), "largest response, MB", 0.01, 4096),
    Key("projects", "globs", ("--project",), "include projects matching, repeatable"),
    Key(
        "exclude_projects", "globs", ("--exclude-project",), "exclude projects matching, repeatable"
    ),
    Key("resources", "resources", ("--resources",), "comma-separated resources, or all"),
    Key(
        "latest_builds",
        "bool",
        ("--latest-builds",),
        "pipelines carry their latest and latest completed build (includeLatestBuilds)",
    ),
    Key(
        "release_expand",
        "bool",
        ("--release-expand",),
        "release definitions with their environments and artifacts ($expand)",
    ),
    Key("auth", "choice", ("--auth",), "which credential", choices=AUTH_CHOICES, optional=True),
    Key("ca_bundle", "path", ("--ca-bundle",), "PEM file of extra CAs", optional=True),
    Key("progress", "choice", ("--progress",), "progress style", choices=PROGRESS_CHOICES),
    Key("verbose", "bool", ("-v", "--verbose"), "more detail on stderr"),
    Key("quiet", "bool", ("-q", "--quiet"), "errors only on stderr"),
)
KEYS_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
assert tuple(KEYS_BY_NAME) == tuple(f.name for f in fields(Settings))

# The default of every key, for docs and tests (org has none).
DEFAULTS: dict[str, object] = {
    f.name: f.default for f in fields(Settings) if f.default is not MISSING
}


def format_number(value: float) -> str:
    """``value`` as written in messages: 5 rather than 5.0, 0.5 as is."""
    return str(int(value)) if float(value).is_integer() else str(value)


def project_selected(name: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """True when ``name`` matches an include glob (or there are none) and no exclude glob."""
    folded = name.casefold()
    if any(fnmatchcase(folded, pattern.casefold()) for pattern in exclude):
        return False
    return not include or any(fnmatchcase(folded, pattern.casefold()) for pattern in include)
