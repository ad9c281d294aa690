"""Settings of one emulated Azure DevOps org: size, paging, auth, scopes, throttling, faults.

Every behaviour of the emulator is decided by this frozen value, so the same
``EmulatorConfig`` (same seed) always serves the same organization, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - the emulator's own fixture credential, not a secret


# Throttle models (--throttle): each disagrees with a simple client-side model somewhere.
THROTTLE_MODELS = ("window", "bucket", "burst", "shared")


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """How the emulated server throttles (crawler/emulator/throttle.py has the details).

    ``window`` (the default): an identity budget of ``limit`` TSTUs over a sliding window,
    like ADO's rate limits. Usage above ``delay_from * limit`` delays responses
    (``X-RateLimit-Delay``); usage at or above ``limit`` answers 429 with ``Retry-After``.
    ``shared``: the same window, but another consumer of the identity spent
    ``shared_usage`` TSTUs in the window before the first request.
    ``bucket``: a token bucket of ``bucket_size`` requests (0 = one second's worth)
    refilled at ``rate`` per second; nearly empty it delays (up to ``max_delay_s``), beyond
    that 429 with a short ``Retry-After``; ``X-RateLimit-Reset`` is always now + 300 s.
    ``burst``: a full budget of ``limit`` (200 when 0), except a burst of 429s for
    ``burst_s`` seconds after ``burst_after`` requests, from another resource (DBCPU).
    Throttling is off when ``limit`` is 0 (``rate`` for a bucket); no headers are sent then.
    """

    limit: float = 0.0
    window_s: float = 300.0
    cost: float = 1.0
    delay_from: float = 0.8
    max_delay_s: float = 5.0
    model: str = "window"
    rate: float = 0.0
    bucket_size: float = 0.0
    shared_usage: float = 0.0
    burst_after: int = 50
    burst_s: float = 1.5
    burst_retry_after: int = 1

    @property
    def enabled(self) -> bool:
        """True when this config throttles at all."""
        if self.model == "bucket":
            return self.rate > 0
        if self.model == "burst":
            return self.burst_s > 0
        return self.limit > 0


# The fault kinds the emulator can inject, by name (used by --fault-kinds).
FAULT_KINDS = (
    "500",  # 500 with a JSON error body, no Retry-After
    "503-retry-after",  # 503 with Retry-After: 1
    "html-502",  # 502 with an HTML body (a gateway page)
    "disconnect",  # headers sent, connection closed mid-body
    "truncated-json",  # 200, body cut short
    "invalid-json",  # 200, body not JSON at all but content-type JSON
    "slow",  # 200 after slow_s seconds
    "stall",  # headers sent, body never finishes within stall_s
)


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Seeded, reproducible faults on a share of requests.

    A request is picked for a fault by a hash of (seed, method, path and query,
    how many times that exact URL was asked since its last good answer), so a retry
    of the same URL is decided afresh and a run replays identically. No URL fails more than
    ``max_consecutive`` times in a row, so a crawler with a larger retry budget
    always gets through; URLs containing one of ``permanent`` always fail (500).
    ``loop_token`` names resources (``projects``, ``definitions``, ``pipelines``)
    whose continuation token repeats forever. ``outage_after``/``outage_s``: the whole
    server goes away once (see crawler/emulator/faults.py, ``Outage``).
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    max_consecutive: int = 2
    slow_s: float = 0.5
    stall_s: float = 30.0
    permanent: tuple[str, ...] = ()
    loop_token: tuple[str, ...] = ()
    # An outage: after ``outage_after`` requests the server is away for ``outage_s`` seconds
    # (its listener closed, open connections reset), then back on the same port.
    outage_after: int = 0
    outage_s: float = 0.0

    @property
    def plays_outage(self) -> bool:
        """True when an outage is configured."""
        return self.outage_s > 0


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Everything that defines one emulated organization and how it behaves."""

    org: str = "fabrikam"
    seed: int = 1
    projects: int = 5
    repos_per_project: int = 4
    pipelines_per_project: int = 6
    page_size: int = 100
    token: str = DEFAULT_TOKEN
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    # Access scopes. None = the token sees the whole organization.
    # scoped_project: the job token is limited to this one project (name).
    scoped_project: str | None = None
    # With scoped_project: does _apis/projects still list every project (True) or
    # only the scoped one (False)?
    list_all_projects: bool = True
    # Protected repositories: None = every repository reachable; otherwise the
    # share (0..1) of repositories per project that the token can reach.
    reachable_repo_share: float | None = None
    # Wider resources (crawler/emulator/wider.py): sizes per project.
    release_definitions_per_project: int = 2
    variable_groups_per_project: int = 2
    service_endpoints_per_project: int = 2
    environments_per_project: int = 2
    queues_per_project: int = 2  # 0..4; ids match the build definitions' queues
    policies_per_project: int = 3
    # Release management host: None = the emulator's own base (like Azure DevOps Server);
    # release_host = another host name for the same server (e.g. "localhost"); release_url =
    # the literal locationUrl the release resource area answers (tests of unsafe answers).
    release_host: str | None = None
    release_url: str | None = None
    # False: service endpoints answer 403 even in visible projects (a job token without
    # endpoint permissions).
    endpoints_readable: bool = True
    # Posture (crawler/emulator/posture.py): secure files per project; a Bearer token that is
    # a person's (Entra ID) rather than a build service; pipeline permissions and checks
    # readable by the token (False: 403, as for an identity without the resource's roles;
    # what ADO answers a job token there is undocumented).
    secure_files_per_project: int = 2
    bearer_is_user: bool = False
    permissions_readable: bool = True
    # A marker put into every secret-holding field (variable values, endpoint credentials).
    planted_secret: str | None = None
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Known changes on top of the seeded organization, e.g. "rename-repo:0:1" (syntax in
    # crawler/emulator/mutations.py). Empty: the plain seeded organization.
    mutations: tuple[str, ...] = ()
    # Which deployment to play (crawler/emulator/versions.py): "services" (the cloud) or an
    # Azure DevOps Server release ("2022.1", "2022", "2020", "2019"): its api-versions, routes
    # and resource areas. A server serves its collection below ``virtual_dir`` (None: "tfs"
    # for a server, none for the cloud), e.g. /tfs/DefaultCollection.
    server_version: str = "services"
    virtual_dir: str | None = None

    @property
    def base_path(self) -> str:
        """The URL path of the organization (collection), without slashes at either end."""
        vdir = self.virtual_dir
        if vdir is None:
            vdir = "" if self.server_version == "services" else "tfs"
        vdir = vdir.strip("/")
        return f"{vdir}/{self.org}" if vdir else self.org

    def __post_init__(self) -> None:
        # A list from JSON (e.g. a config dict round trip) would make the value unhashable.
        object.__setattr__(self, "mutations", tuple(self.mutations))
