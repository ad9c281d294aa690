"""The declarative registry of Azure DevOps resources the crawler can inventory.

Each resource is one ``Resource`` entry: where it lives (host, path, scope), how it pages,
which query it needs (and which option adds to it), and which fields the snapshot keeps or must
never keep. The crawl walks the registry; adding a resource is an entry here plus an emulator
generator and tests. Paths and paging per docs: learn.microsoft.com/rest/api/azure/devops (7.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# "protected": one request per protected resource a project lists (crawler.crawl.posture).
Scope = Literal["org", "project", "repository", "protected"]
Shape = Literal["list", "object"]
Host = Literal["org", "vsrm"]
JsonObject = dict[str, Any]
QueryValue = str | int | bool


def strip_links(value: Any) -> Any:
    """A copy of ``value`` without any ``_links`` key, at any depth."""
    if isinstance(value, dict):
        return {k: strip_links(v) for k, v in value.items() if k != "_links"}
    if isinstance(value, list):
        return [strip_links(v) for v in value]
    return value


def drop_path(item: JsonObject, dotted: str) -> None:
    """Remove the field at ``a.b.c`` from ``item`` in place (through lists too)."""
    head, _, rest = dotted.partition(".")
    if not rest:
        item.pop(head, None)
        return
    child = item.get(head)
    children = child if isinstance(child, list) else [child]
    for entry in children:
        if isinstance(entry, dict):
            drop_path(entry, rest)


VARIABLE_FLAGS = ("isSecret", "allowOverride", "isReadOnly")  # all a variable keeps


def keep_variable_flags(variables: Any) -> Any:
    """Variables reduced to their names and flags: no value is ever kept, secret or not."""
    if not isinstance(variables, dict):
        return None if variables is None else {}
    out: dict[str, dict[str, Any]] = {}
    for name, spec in variables.items():
        kept: dict[str, Any] = {}
        if isinstance(spec, dict):  # the flags spelt out: this runs for every variable
            if "isSecret" in spec:
                kept["isSecret"] = spec["isSecret"]
            if "allowOverride" in spec:
                kept["allowOverride"] = spec["allowOverride"]
            if "isReadOnly" in spec:
                kept["isReadOnly"] = spec["isReadOnly"]
        out[name] = kept
    return out


@dataclass(frozen=True, slots=True)
class Resource:
    """One ADO resource the crawler lists, and how its items are stored."""

    key: str  # snapshot key and --resources name
    path: tuple[str, ...]  # path below the org (or below the project for project scope)
    # The route's location id in the server's location data (OPTIONS {org}/_apis): the
    # api-version is negotiated per route, and a server without it lacks this resource.
    location: str = ""
    scope: Scope = "project"
    host: Host = "org"
    paged: bool = True  # sends $top and follows x-ms-continuationtoken
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # dotted fields never stored (secrets, bulk)
    variables: tuple[str, ...] = ()  # dotted fields holding {name: {value, isSecret}} maps
    # Top-level fields whose objects carry their own ``_links`` (IdentityRef, queue refs):
    # the snapshot writer strips those without a deep copy (any other ``_links`` still goes).
    links_in: tuple[str, ...] = ()
    # Allow-list of top-level fields (None = every field): for resources whose secret surface
    # is large, anything ADO adds later stays out until it is listed here.
    keep: tuple[str, ...] | None = None
    # Query added when a crawl option is on (option name -> extra query), e.g. latest_builds.
    options: Mapping[str, Mapping[str, QueryValue]] = field(default_factory=dict)
    add_project: bool = False  # ADO's item has no "project" {id, name}: the crawl adds it
    requires: tuple[str, ...] = ()  # resources this one is derived from (always crawled too)
    default: bool = True  # part of the cheap default set
    description: str = ""
    shape: Shape = "list"  # "object": one JSON object per project, not a list (settings)

    @property
    def shallow(self) -> bool:
        """True when ``normalize`` only touches top-level fields and keeps every other one."""
        nested = any("." in dotted for group in (self.drop, self.variables) for dotted in group)
        return self.keep is None and not nested

    def query_at(self, version: str | None) -> dict[str, QueryValue | None]:
        """The entry's own query, with ``api-version`` set to the negotiated ``version`` when
        route discovery gave one (None: the entry's own, or the default, version)."""
        query: dict[str, QueryValue | None] = dict(self.query)
        if version is not None:
            query["api-version"] = version
        return query

    def normalize(self, item: Mapping[str, Any]) -> JsonObject:
        """The item as the snapshot stores it: ADO's fields minus ``_links`` and secrets."""
        source = item
        if self.keep is not None:  # the crawl's own "project" ref is always kept
            source = {k: item[k] for k in (*self.keep, "project") if k in item}
        clean: JsonObject = strip_links(dict(source))
        for dotted in self.drop:
            drop_path(clean, dotted)
        for dotted in self.variables:
            _apply(clean, dotted, keep_variable_flags)
        return clean


def _apply(item: JsonObject, dotted: str, fn: Callable[[Any], Any]) -> None:
    head, _, rest = dotted.partition(".")
    if head not in item:
        return
    if not rest:
        item[head] = fn(item[head])
        return
    child = item[head]
    for entry in child if isinstance(child, list) else [child]:
        if isinstance(entry, dict):
            _apply(entry, rest, fn)


PROJECTS = Resource(
    key="projects",
    path=("_apis", "projects"),
    location="603fe2ac-9723-48b9-88ad-09305aa6c6e1",
    scope="org",
    description="team projects (the root of every other scope)",
)
REPOSITORIES = Resource(
    key="repositories",
    path=("_apis", "git", "repositories"),
    location="225f7195-f9c7-4d14-ab28-a83f7ff77e1f",
    paged=False,  # one call returns all; the paged variant is 7.2-preview only
    query={"includeHidden": True},
    description="git repositories, hidden ones included",
)
PIPELINES = Resource(
    key="pipelines",
    path=("_apis", "build", "definitions"),
    location="dbeaf647-6167-421a-bda9-c9327b25e2e6",
    query={"includeAllProperties": True},
    variables=("variables",),
    links_in=("authoredBy", "queue"),
    options={"latest_builds": {"includeLatestBuilds": True}},
    description="build/pipeline definitions with all properties (linked to their repository)",
)

# -- wider resources: opt-in (--resources NAME or all) -----------------------------------------

RELEASE_DEFINITIONS = Resource(
    key="release_definitions",
    path=("_apis", "release", "definitions"),
    location="d8f96f24-8ea7-4cb6-baab-2df8fc515665",
    host="vsrm",
    # $expand adds environments and artifacts; their variables keep only their flags.
    options={"release_expand": {"$expand": "environments,artifacts"}},
    variables=("variables", "environments.variables"),
    add_project=True,
    default=False,
    description="classic release definitions (release management host)",
)
VARIABLE_GROUPS = Resource(
    key="variable_groups",
    path=("_apis", "distributedtask", "variablegroups"),
    location="f5b09dd5-9d54-45a1-8b5a-1c8287d634cc",
    # Allow-list: names, descriptions, variable names and flags; never a value (not even a
    # non-secret one) and no providerData (Key Vault link details).
    keep=(
        "createdBy",
        "createdOn",
        "description",
        "id",
        "isShared",
        "modifiedBy",
        "modifiedOn",
        "name",
        "type",
        "variableGroupProjectReferences",
        "variables",
    ),
    variables=("variables",),
    drop=("variableGroupProjectReferences.variables",),
    add_project=True,
    default=False,
    description="variable groups: variable names and isSecret flags only, never values",
)
SERVICE_ENDPOINTS = Resource(
    key="service_endpoints",
    path=("_apis", "serviceendpoint", "endpoints"),
    location="e85f1c62-adfc-4b74-b618-11a150fb195e",
    paged=False,
    # Allow-list; authorization keeps only its scheme (never parameters), data is never kept.
    keep=(
        "administratorsGroup",
        "authorization",
        "createdBy",
        "description",
        "id",
        "isOutdated",
        "isReady",
        "isShared",
        "name",
        "owner",
        "readersGroup",
        "serviceEndpointProjectReferences",
        "type",
        "url",
    ),
    drop=("authorization.parameters", "authorization.data"),
    add_project=True,
    default=False,
    description="service connections: name, type, owner, scheme, sharing; never credentials",
)
ENVIRONMENTS = Resource(
    key="environments",
    path=("_apis", "distributedtask", "environments"),
    location="8572b1fc-2482-47fa-8f74-7e3ed53ee54b",
    default=False,
    description="pipeline environments",
)
QUEUES = Resource(
    key="queues",
    path=("_apis", "distributedtask", "queues"),
    location="900fa995-c559-4923-aae7-f8424fe4fbea",
    paged=False,
    add_project=True,
    default=False,
    description="agent queues of each project, with their pools",
)
POLICIES = Resource(
    key="policies",
    path=("_apis", "policy", "configurations"),
    location="dad91cbe-d183-45f8-9c6e-9c1164472121",
    add_project=True,
    default=False,
    description="policy configurations (branch policies, linked to repositories and branches)",
)
REPOSITORY_ACTIVITY = Resource(
    key="repository_activity",
    # One request per non-empty, enabled repository: {project}/_apis/git/repositories/{id}/commits
    path=("_apis", "git", "repositories", "{repository}", "commits"),
    location="c2570c3b-5b3f-41b8-98bf-5407bfde8d58",
    scope="repository",
    paged=False,
    query={"searchCriteria.$top": 1},
    requires=("repositories",),
    default=False,
    description="last commit on each repository's default branch (one request per repository)",
)

# -- posture (crawler.crawl.posture, crawler.crawl.identity): who may use what, and the job token's
# reach ----

# Listings whose items are protected resources, and their pipeline resource type.
PROTECTED_SOURCES: tuple[tuple[str, str], ...] = (
    ("service_endpoints", "endpoint"),
    ("variable_groups", "variablegroup"),
    ("queues", "queue"),
    ("environments", "environment"),
    ("secure_files", "securefile"),
    ("repositories", "repository"),
)
PREVIEW = "7.1-preview.1"  # routes with no released api-version (ado-api.md)

PIPELINE_SETTINGS = Resource(
    key="pipeline_settings",
    location="c4aefd19-30ff-405b-80ad-aca021e7242a",
    # docs: rest/api/azure/devops/build/general-settings/get (released 7.1)
    path=("_apis", "build", "generalsettings"),
    paged=False,
    shape="object",
    add_project=True,
    description="each project's pipeline general settings (job authorization scope, forks, ...)",
)
SECURE_FILES = Resource(
    key="secure_files",
    location="adcfd8bc-b184-43ba-bd84-7c8c6a2ff421",
    path=("_apis", "distributedtask", "securefiles"),
    paged=False,
    query={"api-version": PREVIEW},
    # Allow-list: never a download ticket (and the content is never asked for).
    keep=("createdBy", "createdOn", "id", "modifiedBy", "modifiedOn", "name", "properties"),
    add_project=True,
    default=False,
    description="secure files: names and properties, never content or download tickets",
)
PIPELINE_PERMISSIONS = Resource(
    key="pipeline_permissions",
    location="b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2",
    path=("_apis", "pipelines", "pipelinepermissions", "{resourceType}", "{resourceId}"),
    scope="protected",
    paged=False,
    query={"api-version": PREVIEW},
    requires=tuple(key for key, _ in PROTECTED_SOURCES),
    default=False,
    description="which pipelines may use each protected resource (one request per resource)",
)
CHECKS = Resource(
    key="checks",
    location="86c8381e-5aee-4cde-8ae4-25c0c7f5eaea",
    path=("_apis", "pipelines", "checks", "configurations"),
    scope="protected",
    paged=False,
    query={"api-version": PREVIEW, "$expand": "settings"},
    drop=("settings.inputs",),  # a gate's inputs may hold a function key or a header value
    requires=tuple(key for key, _ in PROTECTED_SOURCES),
    default=False,
    description="approvals and checks on each protected resource (one request per resource)",
)

REGISTRY: dict[str, Resource] = {
    r.key: r
    for r in (
        PROJECTS,
        REPOSITORIES,
        PIPELINES,
        RELEASE_DEFINITIONS,
        VARIABLE_GROUPS,
        SERVICE_ENDPOINTS,
        ENVIRONMENTS,
        QUEUES,
        POLICIES,
        REPOSITORY_ACTIVITY,
        PIPELINE_SETTINGS,
        SECURE_FILES,
        PIPELINE_PERMISSIONS,
        CHECKS,
    )
}


def default_resources() -> tuple[str, ...]:
    """The keys crawled when ``--resources`` is not given."""
    return tuple(key for key, res in REGISTRY.items() if res.default)


def normalize(resource: str, item: Mapping[str, Any]) -> JsonObject:
    """Normalise ``item`` by its registry entry (unknown keys: only ``_links`` go)."""
    entry = REGISTRY.get(resource)
    if entry is None:
        cleaned: JsonObject = strip_links(dict(item))
        return cleaned
    return entry.normalize(item)
