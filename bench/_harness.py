"""Shared benchmark plumbing: timing, agreement records, machine information.

Each benchmark module ``bench_<area>.py`` defines ``run(quick: bool) -> list[dict]``
returning one record per case, built with :func:`record`. Every record carries
the median, minimum and maximum time of both sides, their ratio and whether the
results agreed, so that the tables of docs/performance.md (``python bench/run.py
--table``) are generated from measurements.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# How many timed calls each side of a case gets; the project reports the median
# of at least three with the minimum and maximum.
REPEAT = 5
MIN_REPEAT = 3


def summary(times: list[float], calls_per_sample: int = 1) -> dict:
    """``{median, min, max, count, calls_per_sample}`` of measured wall times in seconds."""
    if not times:
        raise ValueError("summary needs at least one measured time, got none")
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "count": len(times),
        "calls_per_sample": calls_per_sample,
    }


def scaled(timing: dict, factor: float) -> dict:
    """A timing with its times multiplied by ``factor`` (a measured rate applied to other work)."""
    return {**timing, **{k: timing[k] * factor for k in ("median", "min", "max")}}


def side_by_side(
    *fns: Callable[[], Any],
    repeat: int = REPEAT,
    warmup: bool = True,
    settle: bool = False,
    min_sample: float = 0.0,
) -> list[dict]:
    """The :func:`summary` of each of ``fns`` over ``repeat`` rounds.

    Each round calls every function once in turn, so that a change of load on a
    shared machine hits all sides alike. Inputs must be built outside the
    functions: only the calls are timed.

    * ``warmup``: one untimed call of each first (first-touch allocations,
      thread pool start); it also measures how many calls make a sample.
    * ``settle``: pause before each timed call (:func:`settle_thread_pools`),
      where both sides run multithreaded.
    * ``min_sample``: group calls so that each sample takes at least this many
      seconds (sub-millisecond calls are otherwise mostly timer and noise).
    """
    numbers = [1] * len(fns)
    if warmup:
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
            if min_sample > 0:
                numbers[i] = min(1000, max(1, math.ceil(min_sample / max(first, 1e-9))))
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, number, times in zip(fns, numbers, samples, strict=True):
            if settle:
                settle_thread_pools()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t0) / number)
    return [summary(times, number) for times, number in zip(samples, numbers, strict=True)]


def timing(fn: Callable[[], Any], **options: Any) -> dict:
    """:func:`side_by_side` of one function."""
    return side_by_side(fn, **options)[0]


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
    ours: dict,
    peer: str,
    peer_time: dict,
    agree: bool,
    error: float | None = None,
    **params: Any,
) -> dict:
    """One benchmark case from both sides' :func:`summary`.

    ``ours_s`` and ``peer_s`` are the medians, ``speedup`` = peer median / our
    median (> 1: we are faster); the minimum, maximum and count of each side
    are kept beside them.
    """
    if not agree:
        raise AssertionError(f"bench {area}/{case}: result disagrees with {peer} (error {error})")
    sides = {}
    for side, t in (("ours", ours), ("peer", peer_time)):
        sides.update(
            {
                f"{side}_s": t["median"],
                f"{side}_min_s": t["min"],
                f"{side}_max_s": t["max"],
                f"{side}_count": t["count"],
            }
        )
    return {
        "area": area,
        "case": case,
        "params": params,
        "peer": peer,
        **sides,
        "speedup": peer_time["median"] / ours["median"] if ours["median"] > 0 else float("inf"),
        "agree": agree,
        "error": error,
    }


def kernel_level() -> tuple[str, bool]:
    """The kernel level descramble runs, and whether it is the best this CPU has (the default)."""
    from descramble import _dispatch

    chosen = _dispatch.selection()
    usable = [level for level in _dispatch.LEVELS if level in chosen.built and level in chosen.cpu]
    return chosen.level, chosen.level == (usable[-1] if usable else chosen.level)


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "prefix", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep} for d in threadpool_info()]


def level_info() -> dict:
    """descramble's kernel level in use, the levels built and those the CPU supports."""
    from descramble import _dispatch

    chosen = _dispatch.selection()
    level, default = kernel_level()
    return {
        "level": level,
        "default_level": default,
        "requested": chosen.requested,
        "built": list(chosen.built),
        "cpu_levels": list(chosen.cpu),
    }


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
        "descramble": level_info(),
        "date": time.strftime("%Y-%m-%d"),
    }
