"""ds.eigh against numpy.linalg.eigh / eigvalsh (LAPACK dsyevd / dsterf).

Three cases per size, each on the same random symmetric matrix for both sides:
all pairs, eigenvalues only, and the k = 10 largest pairs (against numpy's full
solve, the only way numpy offers them). Each case records the residual
||A V - V diag(w)|| / ||A|| and orthogonality ||V^T V - I|| of both solvers and
fails if ours is not within 10x of LAPACK's or the eigenvalues disagree.

Stacks of matrices ``(count, n, n)`` (numpy's gufunc loops over them on one
thread, ours spreads them over the OpenMP threads) record the median, min and
max of at least 3 timed runs of each side, alternated, and the worst residual
and orthogonality over the stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import descramble as ds

from ._harness import record, settle_thread_pools

AREA = "eigh"
K_LEADING = 10


def _paired_best(
    ours: Callable[[], Any], peer: Callable[[], Any], repeat: int, settle: bool = False
) -> tuple:
    """Best times of two functions run alternately, so load changes hit both alike.

    ``settle``: pause before each timed call (see ``settle_thread_pools``); used
    where both sides run multithreaded.
    """
    ours()
    peer()
    best_ours = best_peer = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, _timed_call(ours, settle))
        best_peer = min(best_peer, _timed_call(peer, settle))
    return best_ours, best_peer


def _timed_call(fn: Callable[[], Any], settle: bool) -> float:
    if settle:
        settle_thread_pools()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _quality(a: np.ndarray, w: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    scale = max(float(np.linalg.norm(a, 2)), np.finfo(float).tiny)
    residual = float(np.linalg.norm(a @ v - v * w)) / scale
    orthogonality = float(np.linalg.norm(v.T @ v - np.eye(v.shape[1])))
    return residual, orthogonality


def _value_error(w: np.ndarray, w_ref: np.ndarray) -> float:
    return float(np.abs(w - w_ref).max() / max(np.abs(w_ref).max(), np.finfo(float).tiny))


def _accurate(value_error: float, n: int, ours: tuple, peer: tuple) -> bool:
    floor = 10 * n * np.finfo(float).eps
    return (
        value_error <= 50 * n * np.finfo(float).eps
        and ours[0] <= 10 * peer[0] + floor
        and ours[1] <= 10 * peer[1] + floor
    )


def _vector_record(
    case: str,
    peer: str,
    t_ours: float,
    t_peer: float,
    a: np.ndarray,
    ours: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray],
    **params: Any,
) -> dict:
    """A case with eigenvectors: values, residual and orthogonality of both solvers."""
    n = a.shape[0]
    q, q_ref = _quality(a, *ours), _quality(a, *reference)
    err = _value_error(ours[0], reference[0])
    return record(
        AREA,
        case,
        ours_s=t_ours,
        peer=peer,
        peer_s=t_peer,
        agree=bool(_accurate(err, n, q, q_ref)),
        error=err,
        n=n,
        **params,
        residual=q[0],
        residual_peer=q_ref[0],
        orthogonality=q[1],
        orthogonality_peer=q_ref[1],
    )


def _cases(a: np.ndarray, repeat: int) -> list[dict]:
    n = a.shape[0]
    out = []
    # From n = 512 both solvers run every phase multithreaded (ours from n = 256
    # for some phases, numpy's OpenBLAS always): pause between calls so that
    # neither inherits spinning workers from the other.
    settle = n >= 512

    t_ours, t_peer = _paired_best(lambda: ds.eigh(a), lambda: np.linalg.eigh(a), repeat, settle)
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    out.append(
        _vector_record(
            f"eigh n={n}", "numpy.linalg.eigh", t_ours, t_peer, a, (w, v), (w_ref, v_ref)
        )
    )

    t_ours, t_peer = _paired_best(
        lambda: ds.eigh(a, eigvals_only=True), lambda: np.linalg.eigvalsh(a), repeat, settle
    )
    err = _value_error(ds.eigh(a, eigvals_only=True), np.linalg.eigvalsh(a))
    out.append(
        record(
            AREA,
            f"eigvalsh n={n}",
            ours_s=t_ours,
            peer="numpy.linalg.eigvalsh",
            peer_s=t_peer,
            agree=bool(err <= 50 * n * np.finfo(float).eps),
            error=err,
            n=n,
        )
    )

    k = min(K_LEADING, n)
    t_ours, t_peer = _paired_best(
        lambda: ds.eigh(a, k=k), lambda: np.linalg.eigh(a), repeat, settle
    )
    out.append(
        _vector_record(
            f"eigh k={k} n={n}",
            "numpy.linalg.eigh (all)",
            t_ours,
            t_peer,
            a,
            ds.eigh(a, k=k),
            (w_ref[-k:], v_ref[:, -k:]),
            k=k,
        )
    )
    return out


def _stack_quality(a: np.ndarray, w: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """The worst residual and orthogonality over a stack."""
    scale = np.maximum(np.abs(w).max(axis=-1), np.finfo(float).tiny)
    residual = np.linalg.norm(a @ v - v * w[..., None, :], axis=(-2, -1)) / scale
    eye = np.eye(v.shape[-1])
    orthogonality = np.linalg.norm(np.swapaxes(v, -1, -2) @ v - eye, axis=(-2, -1))
    return float(residual.max()), float(orthogonality.max())


def _stack_case(count: int, n: int, repeat: int, rng: np.random.Generator) -> dict:
    x = rng.standard_normal((count, n, n))
    a = (x + np.swapaxes(x, -1, -2)) / 2
    ours_t: list[float] = []
    peer_t: list[float] = []
    for _ in range(repeat + 1):  # the first pair warms up and is dropped
        ours_t.append(_timed_call(lambda: ds.eigh(a), settle=False))
        peer_t.append(_timed_call(lambda: np.linalg.eigh(a), settle=False))
    ours_t, peer_t = ours_t[1:], peer_t[1:]
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    q, q_ref = _stack_quality(a, w, v), _stack_quality(a, w_ref, v_ref)
    err = float((np.abs(w - w_ref).max(axis=-1) / np.abs(w_ref).max(axis=-1)).max())
    return record(
        AREA,
        f"eigh stack {count}x{n}x{n}",
        ours_s=float(np.median(ours_t)),
        peer="numpy.linalg.eigh",
        peer_s=float(np.median(peer_t)),
        agree=bool(_accurate(err, n, q, q_ref)),
        error=err,
        n=n,
        count=count,
        repeats=repeat,
        ours_min_s=min(ours_t),
        ours_max_s=max(ours_t),
        peer_min_s=min(peer_t),
        peer_max_s=max(peer_t),
        residual=q[0],
        residual_peer=q_ref[0],
        orthogonality=q[1],
        orthogonality_peer=q_ref[1],
    )


def _repeat(n: int, quick: bool) -> int:
    """Timed repeats: many for the sub-millisecond sizes, where load spikes are short."""
    if quick:
        return 3
    return 40 if n <= 128 else 15 if n <= 512 else 5 if n <= 1024 else 3 if n <= 2048 else 2


def run(quick: bool) -> list[dict]:
    # n = 80 and 128: small layers, as in the exact-vs-iterative comparison
    # (bench_iterative).
    sizes = [64, 128] if quick else [80, 128, 256, 512, 1024, 2048, 4096]
    rng = np.random.default_rng(2025)
    cases = []
    for n in sizes:
        x = rng.standard_normal((n, n))
        a = (x + x.T) / 2
        cases.extend(_cases(a, _repeat(n, quick)))
    stacks = [(64, 32), (8, 64)] if quick else [(4096, 32), (256, 128)]
    for count, n in stacks:
        cases.append(_stack_case(count, n, 3 if quick else 7, rng))
    return cases
