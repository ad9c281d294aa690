"""``ado-inventory emulator``: serve a seeded fake Azure DevOps organization on loopback.

Prints the organization URL as the first stdout line, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import sys
from pathlib import Path

from crawler.emulator.config import (
    DEFAULT_TOKEN,
    FAULT_KINDS,
    THROTTLE_MODELS,
    EmulatorConfig,
    FaultConfig,
    ThrottleConfig,
)
from crawler.emulator.mutations import check_mutations
from crawler.emulator.versions import SERVER_VERSIONS
from crawler.protocol.errors import UsageError

HELP = "serve a fake Azure DevOps organization on loopback (tests, demos, benchmarks)"
LOOP_RESOURCES = ("projects", "definitions", "pipelines")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's flags to ``parser``."""
    defaults = EmulatorConfig()
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default: 0)")
    add(
        "--org",
        default=None,
        help=f"organization (collection) name (default: {defaults.org}; DefaultCollection "
        "with --server-version other than services)",
    )
    add(
        "--server-version",
        default="services",
        choices=SERVER_VERSIONS,
        help="play Azure DevOps Services or an Azure DevOps Server release: its api-versions, "
        "routes and a /tfs/COLLECTION URL (default: %(default)s)",
    )
    add("--seed", type=int, default=defaults.seed, help="seed of the generated organization")
    add("--projects", type=int, default=defaults.projects, help="number of projects")
    add("--repos-per-project", type=int, default=defaults.repos_per_project)
    add("--pipelines-per-project", type=int, default=defaults.pipelines_per_project)
    for name in WIDER_SIZES:
        add(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name), metavar="N")
    add(
        "--endpoints-unreadable",
        action="store_true",
        help="service endpoints answer 403 even in visible projects (job token without rights)",
    )
    add(
        "--permissions-unreadable",
        action="store_true",
        help="pipeline permissions and checks answer 403 (undocumented for a job token)",
    )
    add(
        "--bearer-is-user",
        action="store_true",
        help="a Bearer token is a person's (Entra ID) in connectionData, not a build service",
    )
    add("--page-size", type=int, default=defaults.page_size, help="items per page ($top cap)")
    add("--latency-ms", type=float, default=0.0, help="delay before every answer")
    add("--jitter-ms", type=float, default=0.0, help="extra seeded random delay, 0..N ms")
    add(
        "--token",
        default=DEFAULT_TOKEN,
        help="the token the emulator accepts, as Bearer or PAT (default: the fixture token)",
    )
    add("--scoped-project", metavar="NAME", help="act as a job token scoped to this project")
    add(
        "--hide-unscoped-projects",
        action="store_true",
        help="with --scoped-project: _apis/projects lists only that project",
    )
    add(
        "--reachable-repo-share",
        type=float,
        metavar="F",
        help="protected repositories: share 0..1 of each project's repositories reachable",
    )
    add(
        "--mutation",
        action="append",
        default=[],
        metavar="SPEC",
        help="a known change on top of the seeded org (repeatable): rename-project:P[:NAME], "
        "rename-repo:P:R[:NAME], remove-repo:P:R, disable-repo:P:R, add-pipelines:P:N, "
        "remove-pipeline:P:I, pause-pipeline:P:I, disable-pipeline:P:I (0-based indices)",
    )
    add("--dump-ground-truth", metavar="PATH", type=Path, help="write the ground truth JSON")
    add(
        "--dump-only",
        action="store_true",
        help="with --dump-ground-truth: write it for http://HOST:PORT/ORG and exit",
    )
    throttle = parser.add_argument_group("throttling")
    throttle.add_argument("--throttle-limit", type=float, default=0.0, help="TSTUs; 0 = off")
    throttle.add_argument("--throttle-window-s", type=float, default=300.0)
    throttle.add_argument("--throttle-cost", type=float, default=1.0, help="TSTUs per request")
    throttle.add_argument(
        "--throttle",
        choices=THROTTLE_MODELS,
        default="window",
        help="throttle model: window (sliding TSTU budget), shared (the same, partly spent by "
        "another consumer), bucket (token bucket, --throttle-rate), burst (a 429 burst from "
        "another resource amid a full budget) (default: %(default)s)",
    )
    throttle.add_argument("--throttle-rate", type=float, default=0.0, help="bucket: requests/s")
    throttle.add_argument(
        "--throttle-bucket-size", type=float, default=0.0, help="bucket: size (0 = one second)"
    )
    throttle.add_argument(
        "--throttle-max-delay", type=float, default=None, metavar="S", help="longest delay, seconds"
    )
    throttle.add_argument(
        "--throttle-shared-usage",
        type=float,
        default=None,
        metavar="TSTU",
        help="shared: TSTUs another consumer spent (default: 85%% of --throttle-limit)",
    )
    throttle.add_argument(
        "--throttle-burst-after", type=int, default=50, metavar="N", help="burst: after N requests"
    )
    throttle.add_argument("--throttle-burst-s", type=float, default=1.5, help="burst: seconds")
    faults = parser.add_argument_group("faults")
    faults.add_argument("--fault-rate", type=float, default=0.0, help="share of faulty requests")
    faults.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated, from: {', '.join(FAULT_KINDS)}",
    )
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument(
        "--outage-after",
        type=int,
        default=0,
        metavar="N",
        help="with --outage-seconds: after N requests the server goes away (default: 0)",
    )
    faults.add_argument(
        "--outage-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="how long the server is away: listener closed, connections reset (0 = no outage)",
    )
    faults.add_argument(
        "--loop-token",
        nargs="+",
        default=[],
        metavar="RESOURCE",
        help=f"listings whose continuation token repeats forever: {', '.join(LOOP_RESOURCES)}",
    )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


WIDER_SIZES = (
    "release_definitions_per_project",
    "variable_groups_per_project",
    "service_endpoints_per_project",
    "environments_per_project",
    "queues_per_project",
    "policies_per_project",
    "secure_files_per_project",
)


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """The EmulatorConfig the flags describe; UsageError naming the flag when one is bad."""
    if args.org is None:
        args.org = (
            EmulatorConfig().org if args.server_version == "services" else "DefaultCollection"
        )
    for flag in ("projects", "repos_per_project", "pipelines_per_project", *WIDER_SIZES):
        value = getattr(args, flag)
        _check(value >= 0, f"--{flag.replace('_', '-')} must be 0 or more, got {value}")
    _check(args.queues_per_project <= 4, "--queues-per-project must be 0..4")
    _check(args.page_size >= 1, f"--page-size must be 1 or more, got {args.page_size}")
    _check(0 <= args.port <= 65535, f"--port must be 0..65535 (0 = any free), got {args.port}")
    _check(args.latency_ms >= 0, "--latency-ms must be 0 or more")
    _check(args.jitter_ms >= 0, "--jitter-ms must be 0 or more")
    _check(bool(args.org.strip()) and "/" not in args.org, "--org must be a plain name")
    _check(bool(args.token), "--token must not be empty")
    share = args.reachable_repo_share
    _check(share is None or 0 <= share <= 1, "--reachable-repo-share must be between 0 and 1")
    _check(
        not args.hide_unscoped_projects or args.scoped_project is not None,
        "--hide-unscoped-projects needs --scoped-project NAME",
    )
    _check(args.throttle_limit >= 0, "--throttle-limit must be 0 (off) or more")
    _check(args.throttle_window_s > 0, "--throttle-window-s must be more than 0")
    _check(args.throttle_cost > 0, "--throttle-cost must be more than 0")
    _check(args.throttle_rate >= 0, "--throttle-rate must be 0 or more")
    _check(
        args.throttle != "bucket" or args.throttle_rate > 0,
        "--throttle bucket needs --throttle-rate R (requests per second, more than 0)",
    )
    _check(
        args.throttle != "shared" or args.throttle_limit > 0,
        "--throttle shared needs --throttle-limit TSTU",
    )
    _check(args.throttle_bucket_size >= 0, "--throttle-bucket-size must be 0 or more")
    _check(args.throttle_burst_after >= 0, "--throttle-burst-after must be 0 or more")
    _check(args.throttle_burst_s >= 0, "--throttle-burst-s must be 0 or more")
    max_delay = args.throttle_max_delay
    _check(max_delay is None or max_delay >= 0, "--throttle-max-delay must be 0 or more")
    shared = args.throttle_shared_usage
    if shared is None:
        shared = 0.85 * args.throttle_limit if args.throttle == "shared" else 0.0
    _check(0 <= shared <= max(args.throttle_limit, 0), "--throttle-shared-usage must be 0..limit")
    _check(0 <= args.fault_rate <= 1, "--fault-rate must be between 0 and 1")
    _check(args.outage_after >= 0, "--outage-after must be 0 or more")
    _check(args.outage_seconds >= 0, "--outage-seconds must be 0 or more")
    _check(
        args.outage_after == 0 or args.outage_seconds > 0,
        "--outage-after needs --outage-seconds S (how long the server is away)",
    )
    kinds = tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    _check(
        not unknown,
        f"--fault-kinds: unknown kind {', '.join(unknown)}; choose from {', '.join(FAULT_KINDS)}",
    )
    bad_loops = [r for r in args.loop_token if r not in LOOP_RESOURCES]
    _check(
        not bad_loops,
        f"--loop-token: unknown resource {', '.join(bad_loops)}; "
        f"choose from {', '.join(LOOP_RESOURCES)}",
    )
    _check(
        not args.dump_only or args.dump_ground_truth is not None,
        "--dump-only needs --dump-ground-truth PATH",
    )
    problems = check_mutations(
        args.mutation,
        projects=args.projects,
        repos_per_project=args.repos_per_project,
        pipelines_per_project=args.pipelines_per_project,
    )
    _check(not problems, f"--mutation {'; '.join(problems)}")
    return EmulatorConfig(
        org=args.org.strip(),
        seed=args.seed,
        projects=args.projects,
        repos_per_project=args.repos_per_project,
        pipelines_per_project=args.pipelines_per_project,
        page_size=args.page_size,
        token=args.token,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        scoped_project=args.scoped_project,
        list_all_projects=not args.hide_unscoped_projects,
        reachable_repo_share=share,
        **{name: getattr(args, name) for name in WIDER_SIZES},
        endpoints_readable=not args.endpoints_unreadable,
        permissions_readable=not args.permissions_unreadable,
        bearer_is_user=args.bearer_is_user,
        throttle=ThrottleConfig(
            limit=args.throttle_limit,
            window_s=args.throttle_window_s,
            cost=args.throttle_cost,
            model=args.throttle,
            rate=args.throttle_rate,
            bucket_size=args.throttle_bucket_size,
            shared_usage=shared,
            burst_after=args.throttle_burst_after,
            burst_s=args.throttle_burst_s,
            **({"max_delay_s": max_delay} if max_delay is not None else {}),
        ),
        faults=FaultConfig(
            rate=args.fault_rate,
            kinds=kinds,
            seed=args.fault_seed,
            loop_token=tuple(dict.fromkeys(args.loop_token)),
            outage_after=args.outage_after,
            outage_s=args.outage_seconds,
        ),
        mutations=tuple(args.mutation),
        server_version=args.server_version,
    )


def dump_ground_truth(config: EmulatorConfig, url: str, path: Path) -> None:
    """Write the ground truth of ``config`` served at ``url`` as orjson with sorted keys."""
    import orjson

    from crawler.emulator.truth import ground_truth

    data = orjson.dumps(ground_truth(config, url), option=orjson.OPT_SORT_KEYS)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"--dump-ground-truth: cannot write {path}: {exc.strerror}") from exc


async def _serve(config: EmulatorConfig, args: argparse.Namespace) -> None:
    from crawler.emulator.server import run_emulator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Throttling and faults come from config: create_app adds their middlewares.
        async with run_emulator(config, host=args.host, port=args.port) as emu:
            if args.dump_ground_truth is not None:
                dump_ground_truth(config, emu.url, args.dump_ground_truth)
            print(emu.url, flush=True)
            await stop.wait()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise UsageError(
                f"--host/--port: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
                "pick another port or use --port 0"
            ) from exc
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    config = build_config(args)
    if args.dump_only:
        host = f"[{args.host}]" if ":" in args.host else args.host
        dump_ground_truth(
            config, f"http://{host}:{args.port}/{config.base_path}", args.dump_ground_truth
        )
        return 0
    asyncio.run(_serve(config, args))
    sys.stdout.flush()
    return 0
