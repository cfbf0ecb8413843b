"""ds.quadratic_assignment (FAQ) against scipy.optimize.quadratic_assignment(method="faq").

Both start from the barycenter (the same P0) with the same maxiter and tol.
FAQ is a heuristic; ours follows scipy's iteration step for step, so the
objectives agree unless a LAP along the way has tied optima (then either may
end lower). A case agrees when our objective is at most scipy's plus 1e-9 of
its magnitude; both objectives are kept in the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ._harness import best_time, record

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


def _timed(fn: Callable[[], Any], n: int) -> float:
    if n >= 256:  # scipy takes seconds here: one run each
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    return best_time(fn, repeat=3, min_total=0.1)


def run(quick: bool) -> list[dict]:
    from scipy.optimize import quadratic_assignment as scipy_qap

    import descramble as ds

    sizes = [32] if quick else [64, 128, 256, 512]
    records = []
    for n in sizes:
        for kind in ("random", "descrambling"):
            rng = np.random.default_rng([n, len(kind)])
            A, B = _instance(rng, kind, n)
            ours = ds.quadratic_assignment(A, B)
            ref = scipy_qap(A, B, method="faq", options={"rng": np.random.default_rng(0)})
            ours_s = _timed(lambda A=A, B=B: ds.quadratic_assignment(A, B), n)
            peer_s = _timed(
                lambda A=A, B=B: scipy_qap(
                    A, B, method="faq", options={"rng": np.random.default_rng(0)}
                ),
                n,
            )
            scale = max(abs(float(ref.fun)), 1.0)
            error = (float(ours.fun) - float(ref.fun)) / scale
            records.append(
                record(
                    AREA,
                    f"faq {kind} n={n}",
                    ours_s=ours_s,
                    peer="scipy.optimize.quadratic_assignment(faq)",
                    peer_s=peer_s,
                    agree=error <= 1e-9,
                    error=error,
                    n=n,
                    kind=kind,
                    ours_fun=float(ours.fun),
                    scipy_fun=float(ref.fun),
                    ours_nit=int(ours.nit),
                    scipy_nit=int(ref.nit),
                )
            )
    return records
