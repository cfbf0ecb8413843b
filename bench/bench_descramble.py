"""End-to-end exact descrambler vs the plain numpy route.

Ours: ``ds.descramble(ds.Gram(G))`` and ``ds.descramble(m)`` for a ``ds.Moments``
(validation, ``ds.eigh``, closed-form basis, product, objective, ties). Peer: what
a user writes with numpy alone: ``np.linalg.eigh(G)``, the closed-form Fourier
basis and one product ``T @ U.T``. The objective of each ``P`` is checked to
agree (computed outside the timed region). One more case starts from the
(N, n) = (2000, 80) sample array itself (``ds.descramble(X)`` against numpy's
``X.T @ X`` and the same route). The largest size (n = 4096, tens of seconds
per call) runs at the default kernel level only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import descramble as ds

from ._harness import MIN_REPEAT, REPEAT, kernel_level, record, side_by_side

FULL_SIZES = [256, 1024, 2048, 4096]
QUICK_SIZES = [64]


def _gram(rng: np.random.Generator, n: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Hidden data of a random tanh layer on smooth inputs (N samples) and its Gram matrix."""
    d = 32
    t = np.linspace(0, 1, d)
    inputs = np.sin(2 * np.pi * rng.uniform(0.5, 4, (N, 1)) * t + rng.uniform(0, 6, (N, 1)))
    x = np.tanh(inputs @ rng.standard_normal((d, n)) / np.sqrt(d) + 0.1 * rng.standard_normal(n))
    return x, x.T @ x


def _numpy_route(g: np.ndarray, lam_t: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    _, t = lam_t
    _, v = np.linalg.eigh(g)
    return t @ v[:, ::-1].T


def _objective(p: np.ndarray, lam: np.ndarray, t: np.ndarray, g: np.ndarray) -> float:
    # tr(P^T L P G) with L = T diag(lam) T^T: sum_i lam_i (T^T P G P^T T)_ii
    a = t.T @ p
    return float(lam @ np.einsum("ij,ij->i", a @ g, a))


def _timed(*fns: Callable[[], Any], n: int) -> list[dict]:
    """Side by side, after the BLAS workers of the previous call settle.

    n = 4096: tens of seconds per call, peers included: the minimum repeats and
    no warm-up.
    """
    big = n >= 4096
    return side_by_side(
        *fns, repeat=MIN_REPEAT if big else REPEAT, warmup=not big, settle=True, min_sample=0.02
    )


def _single_threaded(fn: Callable[[], list[dict]]) -> dict | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    with threadpool_limits(limits=1, user_api="blas"):
        return fn()[0]


def _sample_array(quick: bool) -> dict:
    """``ds.descramble(X)`` on an (N, n) sample array against the numpy route from X.

    (2000, 80) is the case #11 compares across kernel levels.
    """
    N, n = (400, 16) if quick else (2000, 80)
    x, g = _gram(np.random.default_rng(80), n, N)
    lam, t = ds.smoothness.basis("fourier", n)

    def peer() -> np.ndarray:
        return _numpy_route(x.T @ x, ds.smoothness.basis("fourier", n))

    ours, theirs = _timed(lambda: ds.descramble(x), peer, n=n)
    r = ds.descramble(x)
    ref = _objective(peer(), lam, t, g)
    err = abs(r.objective - ref) / abs(ref)
    tol = _tolerance(lam, r, ref)
    ok = err < tol and abs(_objective(r.P, lam, t, g) - ref) < tol * abs(ref)
    return _record(
        f"descramble(X) X of shape ({N}, {n})",
        "numpy X^T X, eigh + basis",
        ours,
        theirs,
        ok,
        err,
        tolerance=tol,
        n=n,
        N=N,
    )


def _record(
    case: str, peer: str, ours: dict, peer_time: dict, agree: bool, error: float, **params: Any
) -> dict:
    return record(
        "descramble",
        case,
        ours=ours,
        peer=peer,
        peer_time=peer_time,
        agree=agree,
        error=error,
        **params,
    )


def _tolerance(lam: np.ndarray, r: Any, ref: float) -> float:
    # Each u_i^T G u_i carries a rounding error of order eps ||G||, weighted by
    # lam_i (up to (n/2)^4): the objective itself is only that accurate.
    return float(1e-9 + 8 * np.finfo(float).eps * lam.sum() * r.mu[0] / abs(ref))


def run(quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    out = [_sample_array(quick)]
    sizes = QUICK_SIZES if quick else FULL_SIZES
    if not kernel_level()[1]:
        sizes = [n for n in sizes if n < 4096]  # minutes: at the default level only
    for n in sizes:
        x, g = _gram(rng, n, 4 * n)
        gram = ds.Gram(g)
        m = ds.Moments(n).update(x)
        lam, t = ds.smoothness.basis("fourier", n)

        def peer(g=g, n=n) -> np.ndarray:
            # The closed-form basis is part of the route a numpy user would write.
            return _numpy_route(g, ds.smoothness.basis("fourier", n))

        t_gram, t_moments, t_peer = _timed(
            lambda gram=gram: ds.descramble(gram), lambda m=m: ds.descramble(m), peer, n=n
        )
        t_peer_1 = _single_threaded(lambda peer=peer, n=n: _timed(peer, n=n))
        r, rm = ds.descramble(gram), ds.descramble(m)
        ref = _objective(peer(), lam, t, g)
        err = abs(r.objective - ref) / abs(ref)
        err_m = abs(rm.objective - ref) / abs(ref)
        tol = _tolerance(lam, r, ref)
        p_ok = abs(_objective(r.P, lam, t, g) - ref) < tol * abs(ref)
        # (case, peer, our timing, peer timing, agree, error) of each record.
        cases = [("Gram", "numpy eigh + basis", t_gram, t_peer, err < tol and p_ok, err)]
        if t_peer_1 is not None:
            # On a shared machine multithreaded OpenBLAS can be far slower than one
            # thread at these sizes: report the peer at its best as well.
            cases.append(
                ("Gram", "numpy eigh + basis, 1 BLAS thread", t_gram, t_peer_1, err < tol, err)
            )
        cases.append(("Moments", "numpy eigh + basis", t_moments, t_peer, err_m < tol, err_m))
        for case, peer_name, ours, peer_time, ok, error in cases:
            out.append(
                _record(
                    f"descramble({case}) n={n}",
                    peer_name,
                    ours,
                    peer_time,
                    ok,
                    error,
                    tolerance=tol,
                    n=n,
                    N=x.shape[0],
                )
            )
    return out
