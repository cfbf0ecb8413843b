"""ds.linear_sum_assignment against scipy, lap and lapx on dense cost families.

The peer of every record is scipy.optimize.linear_sum_assignment; the times of
lap.lapjv and of the fastest lapx solver are kept in the record's params (with
whether their total cost agreed). lap and lapx both install a module named
``lap``: whichever is importable is used; a second copy can be pointed to with
DESCRAMBLE_BENCH_LAPX=/path/to/lapx/lap (a directory holding lapx's package).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ._harness import MIN_REPEAT, REPEAT, kernel_level, record, side_by_side

AREA = "assignment"


def _cost_family(rng: np.random.Generator, family: str, n: int) -> np.ndarray:
    if family == "uniform":
        return rng.random((n, n))
    if family == "integers":
        return rng.integers(0, 1000, (n, n)).astype(np.float64)
    if family == "planted":
        perm = rng.permutation(n)
        cost = 1.0 + rng.random((n, n))
        cost[np.arange(n), perm] = 0.1 * rng.random(n)
        return cost
    if family == "rectangular":
        return rng.random((n, 2 * n))
    if family == "float32":
        return rng.random((n, n)).astype(np.float32)
    raise ValueError(family)


_LAPX_SOLVERS = ("lapjv", "lapjvx", "lapjvs", "lapjvc", "lapjvr", "lapjvh")


def _load_lapx_from(path: str) -> Any:
    """lapx's solvers from a second copy at ``path`` (a directory holding its ``lap`` package).

    lapx resolves its solvers lazily by absolute module name (``lap._lapjvs_wp``),
    which clashes with lap's own ``lap`` modules. So lapx is loaded under the
    name ``lap`` with lap's modules set aside, its solvers are resolved at once,
    and lap's modules are put back.
    """
    import types

    def ours(name: str) -> bool:
        return name == "lap" or name.startswith("lap.")

    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if ours(k)}
    try:
        spec = importlib.util.spec_from_file_location(
            "lap", os.path.join(path, "__init__.py"), submodule_search_locations=[path]
        )
        if spec is None or spec.loader is None:
            return None
        lapx = importlib.util.module_from_spec(spec)
        sys.modules["lap"] = lapx
        spec.loader.exec_module(lapx)
        found = {}
        for name in _LAPX_SOLVERS:
            try:
                found[name] = getattr(lapx, name)
            except (AttributeError, ImportError):
                continue
        return types.SimpleNamespace(**found)
    finally:
        for k in [k for k in sys.modules if ours(k)]:
            del sys.modules[k]
        sys.modules.update(saved)


def _load_peers() -> dict[str, Any]:
    """{"lap": lap's module, "lapx": lapx's module}; either may be absent."""
    peers: dict[str, Any] = {}
    try:
        mod = importlib.import_module("lap")
    except Exception:  # absent, or a broken mix of lap and lapx (both install "lap")
        mod = None
    if mod is not None:
        peers["lapx" if hasattr(mod, "lapjvx") else "lap"] = mod
    path = os.environ.get("DESCRAMBLE_BENCH_LAPX")
    if path and "lapx" not in peers:
        lapx = _load_lapx_from(path)
        if lapx is not None:
            peers["lapx"] = lapx
    return peers


def _timed(*fns: Callable[[], Any], n: int) -> list[dict]:
    """Side by side; from n = 4096 (seconds per call) the minimum repeats."""
    return side_by_side(
        *fns,
        repeat=REPEAT if n <= 1024 else MIN_REPEAT,
        # n = 8192: no warm-up, it would add minutes of peer time.
        warmup=n < 8192,
        min_sample=0.02,
    )


def _peer_cases(peers: dict[str, Any], cost: np.ndarray, family: str, n: int):
    """(name, callable returning the column of each row) of every peer solver that applies."""
    square = cost.shape[0] == cost.shape[1]
    c64 = np.ascontiguousarray(cost, dtype=np.float64)
    out = []
    if "lap" in peers:
        out.append(("lap.lapjv", lambda: peers["lap"].lapjv(c64, extend_cost=not square)[1]))
    if "lapx" in peers:
        lapx = peers["lapx"]
        out.append(("lapx.lapjv", lambda: lapx.lapjv(c64, extend_cost=not square)[1]))
        if n <= 1024:  # the slowest of lapx's solvers at large n (minutes in total)
            out.append(("lapx.lapjvx", lambda: lapx.lapjvx(c64, extend_cost=not square)[2]))
        out.append(("lapx.lapjvs", lambda: lapx.lapjvs(c64)[2]))
        # lapjvr (a Rust JV core) and lapjvh (C++ square completion in the same
        # core) return (total, rows, cols) and solve float32 natively: they get
        # the costs in their own dtype, as ds.linear_sum_assignment does.
        native = cost if cost.dtype in (np.float32, np.float64) else c64
        for name in ("lapjvr", "lapjvh"):
            if hasattr(lapx, name):
                fn = getattr(lapx, name)
                out.append((f"lapx.{name}", lambda fn=fn: fn(native, extend_cost=not square)[2]))
        # lapjvc takes minutes on integer ties at n = 8192: skip it there.
        if family != "integers" and n <= 1024:
            out.append(("lapx.lapjvc", lambda: lapx.lapjvc(c64)[2]))
    return out


def run(quick: bool) -> list[dict]:
    from scipy.optimize import linear_sum_assignment as scipy_lsa

    import descramble as ds

    # At a kernel level other than the default: the sizes #11 names, and no
    # lap/lapx peers (their minutes do not depend on our level).
    default_level = kernel_level()[1]
    peers = _load_peers() if default_level else {}
    families = ["uniform", "integers", "planted", "rectangular", "float32"]
    sizes = [64] if quick else [256, 1024, 4096, 8192] if default_level else [1024, 4096]
    records = []
    for n in sizes:
        for family in families:
            if n >= 8192 and family not in ("uniform", "integers"):
                continue
            rng = np.random.default_rng([n, families.index(family)])
            cost = _cost_family(rng, family, n)
            ours, peer = _timed(
                lambda c=cost: ds.linear_sum_assignment(c), lambda c=cost: scipy_lsa(c), n=n
            )
            rows, cols = ds.linear_sum_assignment(cost)
            ref_rows, ref_cols = scipy_lsa(cost)
            c64 = cost.astype(np.float64)
            ours_total = float(c64[rows, cols].sum())
            ref_total = float(c64[ref_rows, ref_cols].sum())
            error = abs(ours_total - ref_total) / max(abs(ref_total), 1.0)
            params: dict[str, Any] = {
                "n": n,
                "shape": list(cost.shape),
                "family": family,
                "dtype": str(cost.dtype),
            }
            best_lapx = None
            if not quick or n <= 256:
                for name, fn in _peer_cases(peers, cost, family, n):
                    try:
                        t = _timed(fn, n=n)[0]["median"]
                        col = np.asarray(fn())[: cost.shape[0]]
                    except Exception as exc:  # a peer's bug or limitation is recorded, not fatal
                        params[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:200]
                        continue
                    r = np.arange(cost.shape[0])
                    ok = bool(
                        np.all(col >= 0)
                        and abs(float(c64[r, col].sum()) - ref_total)
                        <= 1e-9 * max(abs(ref_total), 1.0)
                    )
                    params[f"{name}_s"] = t
                    params[f"{name}_agree"] = ok
                    if name.startswith("lapx") and (best_lapx is None or t < best_lapx[1]):
                        best_lapx = (name, t)
                if best_lapx is not None:
                    params["lapx_best"] = best_lapx[0]
                    params["lapx_best_s"] = best_lapx[1]
                    params["speedup_vs_lapx_best"] = best_lapx[1] / ours["median"]
                if "lap.lapjv_s" in params:
                    params["speedup_vs_lap"] = params["lap.lapjv_s"] / ours["median"]
            records.append(
                record(
                    AREA,
                    f"{family} {cost.shape[0]}x{cost.shape[1]}",
                    ours=ours,
                    peer="scipy.optimize.linear_sum_assignment",
                    peer_time=peer,
                    agree=error <= 1e-12,
                    error=error,
                    **params,
                )
            )
    return records
