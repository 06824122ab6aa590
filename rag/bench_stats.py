"""Small helpers shared by the benchmark modules: percentiles, ratios, disk usage, load.

>>> latency_summary([0.010, 0.020, 0.030, 0.040])
{'n': 4, 'p50_ms': 25.0, 'p95_ms': 40.0, 'mean_ms': 25.0}
>>> ratio(9.0, 10.0)
0.9
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (`q` in [0, 1]) of a non-empty list."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def p50(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """p50 / p95 / mean in milliseconds of a list of durations in seconds."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None}
    return {
        "n": len(seconds),
        "p50_ms": round(1000 * statistics.median(seconds), 2),
        "p95_ms": round(1000 * percentile(seconds, 0.95), 2),
        "mean_ms": round(1000 * statistics.fmean(seconds), 2),
    }


def seconds_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """p50 / p95 in seconds."""
    if not seconds:
        return {"n": 0, "p50_s": None, "p95_s": None}
    return {
        "n": len(seconds),
        "p50_s": round(statistics.median(seconds), 3),
        "p95_s": round(percentile(seconds, 0.95), 3),
    }


def ratio(ours: float | None, raw: float | None, digits: int = 3) -> float | None:
    """ours / raw, or None when either is missing or raw is zero."""
    if ours is None or raw is None or raw == 0:
        return None
    return round(ours / raw, digits)


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def disk_bytes(path: Path) -> int:
    """Bytes on disk under `path` (file sizes, symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def load_average() -> float:
    """The 1-minute load average (other work on this machine skews every figure)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return -1.0


def say(message: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
