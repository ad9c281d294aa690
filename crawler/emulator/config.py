"""Settings of one emulated Azure DevOps org: size, paging, auth, scopes, throttling, faults.

Every behaviour of the emulator is decided by this frozen value, so the same
``EmulatorConfig`` (same seed) always serves the same organization, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - the emulator's own fixture credential, not a secret


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """An identity budget in TSTUs over a sliding window, like ADO's rate limits.

    ``limit == 0`` turns throttling off (the headers are still not sent then).
    Usage above ``delay_from * limit`` delays responses (``X-RateLimit-Delay``);
    usage at or above ``limit`` answers 429 with ``Retry-After`` and ``TF400733``.
    """

    limit: float = 0.0
    window_s: float = 300.0
    cost: float = 1.0
    delay_from: float = 0.8
    max_delay_s: float = 5.0


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
    whose continuation token repeats forever.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    max_consecutive: int = 2
    slow_s: float = 0.5
    stall_s: float = 30.0
    permanent: tuple[str, ...] = ()
    loop_token: tuple[str, ...] = ()


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

    def __post_init__(self) -> None:
        # A list from JSON (e.g. a config dict round trip) would make the value unhashable.
        object.__setattr__(self, "mutations", tuple(self.mutations))
