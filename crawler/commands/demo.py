"""``ado-inventory demo``: crawl a seeded, emulated organization on loopback, zero set-up.

The emulator runs in-process on 127.0.0.1 with its own fixture credential; the crawl is
the real one (same client, same snapshot), so a newcomer sees the product work end to end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "crawl a seeded emulated organization on loopback and write inventory.json"

SCENARIOS = {
    "full": "a token that sees the whole organization",
    "project-scoped": "a job token limited to one project (other projects not visible)",
    "protected-repos": "'Protect access to repositories in YAML pipelines' is on",
    "faulty": "15%% of requests fail transiently (5xx, cut connections, bad JSON)",
    "throttled": "a tight identity budget: the server delays, then answers 429",
    "server-2019": "Azure DevOps Server 2019 at /tfs/DefaultCollection, every resource asked "
    "(api-version 5.0; environments not supported)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's flags."""
    parser.add_argument("-o", "--output", type=Path, default=Path("inventory.json"))
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="full",
        help="; ".join(f"{k}: {v}" for k, v in SCENARIOS.items()),
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the emulated org (7)")
    parser.add_argument("--projects", type=int, default=12, help="projects to emulate (12)")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="server latency (10)")
    parser.add_argument("-q", "--quiet", action="store_const", const=True)


def run(args: argparse.Namespace) -> int:
    """Start the emulator, crawl it, print the summary; returns the crawl's exit code."""
    import asyncio

    from crawler.protocol.errors import UsageError

    if args.projects < 1 or args.projects > 500:
        raise UsageError("--projects must be between 1 and 500")
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must not be negative")
    code: int = asyncio.run(_demo(args))
    return code


async def _demo(args: argparse.Namespace) -> int:
    import os
    import sys
    from dataclasses import replace

    from crawler.emulator.config import EmulatorConfig, FaultConfig, ThrottleConfig
    from crawler.emulator.server import run_emulator
    from crawler.run import crawl_to_file
    from crawler.settings.credentials import Credential
    from crawler.settings.load import load_settings

    config = EmulatorConfig(
        org="contoso-demo",
        seed=args.seed,
        projects=args.projects,
        repos_per_project=5,
        pipelines_per_project=40,
        page_size=25,
        latency_ms=args.latency_ms,
        jitter_ms=args.latency_ms / 2,
    )
    flags: dict[str, object] = {"output": args.output, "quiet": args.quiet}
    if args.scenario == "project-scoped":
        config = replace(config, scoped_project=None)  # filled below once names are known
    elif args.scenario == "protected-repos":
        config = replace(config, reachable_repo_share=0.6)
    elif args.scenario == "faulty":
        config = replace(config, faults=FaultConfig(rate=0.15, seed=args.seed, slow_s=0.2))
        flags.update(backoff_base_s=0.05, backoff_max_s=0.5, timeout_s=5.0)
    elif args.scenario == "throttled":
        config = replace(config, throttle=ThrottleConfig(limit=15, window_s=2.0, max_delay_s=0.3))
    elif args.scenario == "server-2019":
        config = replace(config, server_version="2019", org="DefaultCollection")
        flags.update(resources="all")
    if args.scenario == "project-scoped":
        from crawler.emulator.truth import ground_truth

        first = ground_truth(config, "http://127.0.0.1/")["projects"][0]["name"]
        config = replace(config, scoped_project=first)

    print(f"demo: emulating organization {config.org!r} ({SCENARIOS[args.scenario]})", flush=True)
    async with run_emulator(config) as emu:
        settings = load_settings(flags={"org": emu.url, **flags}, environ={}, config_path=None)
        credential = Credential("job", "the demo emulator", config.token)
        result = await crawl_to_file(settings, credential, environ=dict(os.environ))
    if not args.quiet:
        print(result.summary, flush=True)
        print(
            f"demo: try `jq '.repositories | length' {args.output}`, "
            f"`ado-inventory report {args.output} --format markdown` or "
            f"`ado-inventory audit {args.output}`",
            file=sys.stderr,
        )
    return result.exit_code
