"""ds.quadratic_assignment (FAQ) against scipy.optimize.quadratic_assignment(method="faq").

Both get the same P0, maxiter and tol. FAQ is a heuristic; ours follows
scipy's iteration step for step, so the objectives agree unless a LAP along
the way has tied optima (then either may end lower). A case agrees when our
objective is at most scipy's plus 1e-9 of its magnitude; both objectives are
kept in the record.

Random instances start from the barycenter (scipy's default). Descrambling
instances (L of the Fourier operator, G of hidden data) start from one fixed
random doubly stochastic matrix given to both: at the barycenter their
gradient is zero (L annihilates the constant vector, so the barycenter is
itself a minimiser of the convex relaxation) and the first LAP is a complete
tie whose answer is arbitrary, for scipy as for us.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._harness import MIN_REPEAT, REPEAT, record, side_by_side

AREA = "qap"


def _fourier_L(n: int) -> np.ndarray:
    """L = D^T D of the second-order Fourier differentiation matrix (Weideman-Reddy)."""
    h = 2 * np.pi / n
    k = np.arange(1, n)
    if n % 2 == 0:
        col = -0.5 * (-1.0) ** k / np.sin(k * h / 2) ** 2
        c0 = -(np.pi**2) / (3 * h**2) - 1 / 6
    else:
        col = -0.5 * (-1.0) ** k / (np.sin(k * h / 2) * np.tan(k * h / 2))
        c0 = -(np.pi**2) / (3 * h**2) + 1 / 12
    c = np.concatenate([[c0], col])
    D = c[np.abs(np.subtract.outer(np.arange(n), np.arange(n)))]
    return D.T @ D


def _instance(rng: np.random.Generator, kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "random":
        A = rng.random((n, n))
        B = rng.random((n, n))
        return A + A.T, B + B.T
    if kind == "descrambling":
        # Hidden layer tanh(W x) of random inputs: G = S S^T, L from the Fourier operator.
        W = rng.standard_normal((n, 32)) / np.sqrt(32)
        S = np.tanh(W @ rng.standard_normal((32, 4 * n)))
        return _fourier_L(n), S @ S.T
    raise ValueError(kind)


def _sinkhorn(K: np.ndarray) -> np.ndarray:
    """Scale a positive matrix to doubly stochastic (to rounding: scipy checks P0 with allclose)."""
    for _ in range(10000):
        K = K / K.sum(axis=0, keepdims=True)
        K = K / K.sum(axis=1, keepdims=True)
        if np.abs(K.sum(axis=0) - 1).max() < 1e-13:
            break
    return K


def run(quick: bool) -> list[dict]:
    from scipy.optimize import quadratic_assignment as scipy_qap

    import descramble as ds

    sizes = [32] if quick else [64, 128, 256, 512]
    records = []
    for n in sizes:
        for kind in ("random", "descrambling"):
            rng = np.random.default_rng([n, len(kind)])
            A, B = _instance(rng, kind, n)
            if kind == "random":
                P0: Any = "barycenter"
            else:
                K = _sinkhorn(np.random.default_rng(n).random((n, n)))
                P0 = (np.full((n, n), 1.0 / n) + K) / 2

            def ours_fn(A=A, B=B, P0=P0):
                return ds.quadratic_assignment(A, B, options={"P0": P0})

            def peer_fn(A=A, B=B, P0=P0):
                opts = {"P0": P0, "rng": np.random.default_rng(0)}
                return scipy_qap(A, B, method="faq", options=opts)

            ours, ref = ours_fn(), peer_fn()  # also the warm-up
            # scipy takes seconds from n = 256: the minimum repeats there.
            ours_t, peer_t = side_by_side(
                ours_fn, peer_fn, repeat=REPEAT if n < 256 else MIN_REPEAT, warmup=False
            )
            scale = max(abs(float(ref.fun)), 1.0)
            error = (float(ours.fun) - float(ref.fun)) / scale
            records.append(
                record(
                    AREA,
                    f"faq {kind} n={n}",
                    ours=ours_t,
                    peer="scipy.optimize.quadratic_assignment(faq)",
                    peer_time=peer_t,
                    agree=error <= 1e-9,
                    error=error,
                    n=n,
                    kind=kind,
                    P0="barycenter" if kind == "random" else "fixed random doubly stochastic",
                    ours_fun=float(ours.fun),
                    scipy_fun=float(ref.fun),
                    ours_nit=int(ours.nit),
                    scipy_nit=int(ref.nit),
                )
            )
    return records
