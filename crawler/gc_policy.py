"""The crawl's one garbage-collector policy: freeze what is alive at start, then collect rarely.

Measured with ``python -m bench scale-100k --runs 3`` (CPU seconds per 10k items, on a
shared machine, so noisy): threshold + freeze with a per-page GC pause 0.316/0.337;
threshold + freeze alone 0.314; the per-page pause alone 0.329; neither 0.378. The pause
added nothing once the threshold was raised, so only the threshold and the freeze remain.
"""

from __future__ import annotations

import gc


def tune_for_crawl() -> None:
    """Set the policy once, at the start of a run.

    A crawl allocates millions of short-lived, acyclic objects (parsed pages); with the
    default gen-0 threshold of 700 the cyclic collector rescans them over and over.
    Objects alive now (modules, settings) are frozen out of collection altogether.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
