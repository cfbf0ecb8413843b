"""ds.linear_sum_assignment against scipy's on many random instances.

Run on demand (the issue's bar is 100,000 instances)::

    python tests/lap_agreement.py --count 100000 --seed 0

``test_lap_agreement.py`` runs 10,000 of them in the test suite. Each instance
draws a shape (square, wide, tall, single row or column, empty), a dtype, a
value family (continuous, integer ties, constant, few values, huge or tiny
magnitudes, forbidden ``inf`` pairs that may make it infeasible, NaN or
``-inf`` entries) and ``maximize``. Ours must raise what scipy raises (same
type and message), or return a valid matching whose total equals scipy's:
exactly for integer costs, to rounding otherwise. For costs near the largest
double, where scipy's duals overflow and its matching is often not optimal,
the reference is scipy on the costs scaled by 2^-64 (exact). The costs are compared, not
the indices: with ties several matchings are optimal.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

FAMILIES = ("uniform", "integers", "constant", "few", "huge", "tiny", "forbidden", "invalid")
DTYPES = ("float64", "float32", "int64", "int32", "int8", "uint8", "uint64", "bool", "float16")


def _shape(rng: np.random.Generator) -> tuple[int, int]:
    kind = rng.integers(0, 10)
    if kind == 0:  # empty or degenerate
        return int(rng.integers(0, 3)), int(rng.integers(0, 3))
    if kind == 1:  # one row or one column
        m = int(rng.integers(1, 12))
        return (1, m) if rng.random() < 0.5 else (m, 1)
    r, c = int(rng.integers(1, 13)), int(rng.integers(1, 13))
    if kind < 6:  # square
        return r, r
    return r, c


def _values(rng: np.random.Generator, family: str, shape: tuple[int, int]) -> np.ndarray:
    if family == "uniform":
        return rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)
    if family == "integers":
        return rng.integers(-20, 20, shape).astype(np.float64)
    if family == "constant":
        return np.full(shape, float(rng.integers(-5, 5)))
    if family == "few":
        return rng.choice([0.0, 1.0, 2.5], size=shape)
    if family == "huge":  # near the largest double: naive duals overflow
        return rng.uniform(-1.0, 1.0, shape) * np.finfo(np.float64).max
    if family == "tiny":
        return rng.random(shape) * 1e-300
    if family == "forbidden":
        c = rng.integers(0, 10, shape).astype(np.float64)
        c[rng.random(shape) < rng.uniform(0.1, 0.7)] = np.inf
        return c
    c = rng.random(shape)  # invalid
    if c.size:
        c.flat[rng.integers(0, c.size)] = rng.choice([np.nan, -np.inf, np.inf])
    return c


def instances(count: int, seed: int) -> Iterator[tuple[np.ndarray, bool]]:
    """``count`` random (cost, maximize) pairs, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        family = FAMILIES[rng.integers(0, len(FAMILIES))]
        cost = _values(rng, family, _shape(rng))
        dtype = DTYPES[rng.integers(0, len(DTYPES))]
        if family in ("integers", "constant", "few") and dtype != "float64":
            if dtype in ("uint8", "uint64", "bool"):
                cost = np.abs(cost)
            with np.errstate(invalid="ignore", over="ignore"):
                cost = cost.astype(dtype)
        elif dtype == "float32" and family not in ("huge", "tiny"):
            cost = cost.astype(np.float32)
        maximize = bool(rng.random() < 0.3)
        if maximize and family == "forbidden":
            cost = -cost  # -inf forbids a pair when maximising
        yield cost, maximize


def _total(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[float, float]:
    """The total cost of a matching (scaled by 2^-64, exactly, so that it cannot
    overflow) and a bound on its rounding."""
    picked = np.asarray(cost, dtype=np.float64)[rows, cols] * 2.0**-64
    return math.fsum(picked), 1e-12 * len(picked) * float(np.max(np.abs(picked), initial=0.0))


# Above this magnitude scipy's own duals overflow (its matching is then often
# not optimal), so the reference answer is scipy's on the exactly scaled costs.
_HUGE = 2.0**900


def _reference_input(cost: np.ndarray) -> np.ndarray:
    """What scipy is given as the reference: the costs, or for huge ones their exact scaling."""
    c64 = np.asarray(cost, dtype=np.float64)
    finite = c64[np.isfinite(c64)]
    if finite.size and np.abs(finite).max() > _HUGE:
        return c64 * 2.0**-64
    return cost


def check(cost: np.ndarray, maximize: bool) -> str | None:
    """None when ours agrees with scipy on this instance, else what differs."""
    from scipy.optimize import linear_sum_assignment as scipy_lsa

    import descramble as ds

    outcome: list[Any] = []
    for solve, given in ((scipy_lsa, _reference_input(cost)), (ds.linear_sum_assignment, cost)):
        try:
            outcome.append(solve(given, maximize=maximize))
        except (ValueError, TypeError) as exc:
            outcome.append(exc)
    ref, ours = outcome
    if isinstance(ref, Exception) or isinstance(ours, Exception):
        same = type(ref) is type(ours) and str(ref) == str(ours)
        return None if same else f"scipy: {ref!r}, ours: {ours!r}"
    rows, cols = ours
    k = min(cost.shape)
    if not (len(rows) == k and np.all(np.diff(rows) > 0) and len(np.unique(cols)) == k):
        return f"not a matching: rows {rows}, cols {cols}"
    if k and not np.all(np.isfinite(np.asarray(cost, dtype=np.float64)[rows, cols])):
        return "a forbidden pair was used"
    (want, tol_a), (got, tol_b) = _total(cost, *ref), _total(cost, rows, cols)
    exact = cost.dtype.kind in "biu"
    if (got != want) if exact else abs(got - want) > max(tol_a, tol_b):
        return f"total {got!r}, scipy's {want!r}"
    return None


def run(count: int, seed: int) -> list[tuple[int, str]]:
    """The (index, difference) of every instance where ours and scipy disagree."""
    bad = []
    for index, (cost, maximize) in enumerate(instances(count, seed)):
        diff = check(cost, maximize)
        if diff is not None:
            bad.append((index, f"{cost.dtype} {cost.shape} maximize={maximize}: {diff}"))
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    bad = run(args.count, args.seed)
    for index, diff in bad[:20]:
        print(f"instance {index}: {diff}")
    print(f"{args.count} instances, seed {args.seed}: {len(bad)} disagreements with scipy")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
