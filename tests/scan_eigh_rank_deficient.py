"""On-demand scan: ds.eigh on low-rank Gram matrices against LAPACK (numpy).

    python tests/scan_eigh_rank_deficient.py [--sizes 1:601:7] [--seeds 40]

For every n of the grid, rank 0..8 and seed, ``X^T X`` with ``X`` of shape
``(rank, n)`` goes through ``ds.eigh``; the scan counts matrices that raise,
whose eigenvalues differ from numpy's by more than 1e-10 ``||A||``, or whose
residual or orthogonality is more than 10x LAPACK's (plus ``10 n eps``). Exit
status 1 if any does. Not part of the test suite (minutes, not seconds);
``test_eigh_rank_deficient.py`` runs a grid of it.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import descramble as ds

EPS = np.finfo(np.float64).eps


def _quality(a, w, v):
    scale = max(np.linalg.norm(a, 2), np.finfo(float).tiny)
    return (
        np.linalg.norm(a @ v - v * w) / scale,
        np.linalg.norm(v.T @ v - np.eye(v.shape[1])),
    )


def check(a: np.ndarray) -> str | None:
    """None when ``ds.eigh(a)`` is as good as LAPACK's, otherwise what went wrong."""
    n = a.shape[0]
    try:
        w, v = ds.eigh(a)
    except Exception as exc:  # the scan reports every failure, whatever its type
        return f"raised {type(exc).__name__}: {exc}"
    w_ref, v_ref = np.linalg.eigh(a)
    scale = max(np.abs(w_ref).max(), np.finfo(float).tiny)
    err = np.abs(w - w_ref).max() / scale
    if err > 1e-10:
        return f"eigenvalues off by {err:.3g} ||A||"
    (res, orth), (res_ref, orth_ref) = _quality(a, w, v), _quality(a, w_ref, v_ref)
    floor = 10 * n * EPS
    if res > 10 * res_ref + floor or orth > 10 * orth_ref + floor:
        return (
            f"residual {res:.3g} (LAPACK {res_ref:.3g}), "
            f"orthogonality {orth:.3g} (LAPACK {orth_ref:.3g})"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1:601:7", help="start:stop:step of n (default 1:601:7)")
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--max-rank", type=int, default=8)
    args = parser.parse_args(argv)
    start, stop, step = (int(v) for v in args.sizes.split(":"))
    bad = total = 0
    for n in range(start, stop, step):
        for rank in range(args.max_rank + 1):
            for seed in range(args.seeds):
                x = np.random.default_rng(seed).standard_normal((rank, n))
                total += 1
                problem = check(x.T @ x)
                if problem is not None:
                    bad += 1
                    print(f"n={n} rank={rank} seed={seed}: {problem}", flush=True)
    print(f"{bad} of {total} matrices failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
