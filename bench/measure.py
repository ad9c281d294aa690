"""Run one command and report its wall time, CPU time and peak RSS as a JSON line.

``python -m bench.measure CMD ...``: a small process between the harness and the crawler.
On Linux a child's ``ru_maxrss`` keeps the high-water mark of the process it was forked
from, so the crawler must be forked from a small process, not from the harness (which
has read large snapshots). Only the standard library is imported here.
"""

from __future__ import annotations

import json
import os
import sys
import time


def measure(argv: list[str]) -> dict[str, float]:
    """Run ``argv``, wait for it with ``os.wait4``; wall s, CPU s, peak RSS KB, exit code."""
    started = time.monotonic()
    t0 = time.perf_counter()
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]  # keep our stdout clean
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": float(usage.ru_maxrss),
        "exit_code": float(os.waitstatus_to_exitcode(status)),
        "started": started,
        "ended": time.monotonic(),
    }


def main() -> int:
    """Measure the command given after ``--`` (or as all arguments)."""
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m bench.measure CMD [ARG ...]", file=sys.stderr)
        return 2
    print(json.dumps(measure(argv)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
