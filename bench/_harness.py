"""Shared benchmark plumbing: timing, agreement records, machine information.

Each benchmark module ``bench_<area>.py`` defines ``run(quick: bool) -> list[dict]``
returning one record per case, built with :func:`record`. Every record carries
our time, the peer's time, their ratio and whether the results agreed, so the
tables of docs/performance.md (``python bench/run.py --table``) is generated from measurements.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def best_time(fn: Callable[[], Any], *, repeat: int = 5, min_total: float = 0.2) -> float:
    """Best wall time of ``fn()`` in seconds over ``repeat`` runs (more if it is fast).

    Inputs must be built outside ``fn``: only the call itself is timed.
    """
    fn()  # warm-up: first-touch allocations, thread pool start
    times = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start < min_total and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def settle_thread_pools(seconds: float = 0.2) -> None:
    """Let the previous call's thread pools go idle before the next timed call.

    OpenBLAS's worker threads (and libgomp's) keep spinning for a while after a
    call returns (OpenBLAS about 0.1 s by default). On a 2-core machine a
    spinning worker of one library takes a core from the next library's
    threads: ``ds.eigh`` at n = 1024 measured 118 ms alone and 168 ms right
    after ``numpy.linalg.eigh``. Both sides of a pair get the same pause, so
    each is timed at its own steady speed.
    """
    time.sleep(seconds)


def record(
    area: str,
    case: str,
    *,
    ours_s: float,
    peer: str,
    peer_s: float,
    agree: bool,
    error: float | None = None,
    **params: Any,
) -> dict:
    """One benchmark case. ``speedup`` = peer time / our time (> 1: we are faster)."""
    if not agree:
        raise AssertionError(f"bench {area}/{case}: result disagrees with {peer} (error {error})")
    return {
        "area": area,
        "case": case,
        "params": params,
        "ours_s": ours_s,
        "peer": peer,
        "peer_s": peer_s,
        "speedup": peer_s / ours_s if ours_s > 0 else float("inf"),
        "agree": agree,
        "error": error,
    }


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep} for d in threadpool_info()]


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "blas": blas_info(),
        "date": time.strftime("%Y-%m-%d"),
    }
