"""Benchmarks (``python -m azera bench …``): numbers from repeated runs, medians reported.

One module per suite: ``chat``, ``retrieval``, ``memory`` (recall on conversation datasets), ``tick`` and
``simulate`` (the inner life fast-forwarded). Every one runs on a scratch data folder.
"""

from __future__ import annotations

import statistics
from pathlib import Path


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def median_of(samples: list[dict[str, float]]) -> dict[str, float]:
    """The median of each figure over several runs."""
    keys = samples[0].keys()
    return {key: round(statistics.median(sample[key] for sample in samples), 4) for key in keys}


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p95 of durations in seconds, as milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


def scratch_settings(prefix: str = "azera-bench-") -> str:
    """Point this process at a fresh, empty data folder (benchmarks never touch the user's data)."""
    import os
    import tempfile

    from azera.config import get_settings
    from azera.runtime import set_runtime

    folder = tempfile.mkdtemp(prefix=prefix)
    os.environ["AZERA_DATA_DIR"] = folder
    get_settings.cache_clear()
    set_runtime(None)  # the next use builds every service on the new folder
    return folder
