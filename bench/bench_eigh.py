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

from typing import Any

import numpy as np

import descramble as ds

from ._harness import MIN_REPEAT, REPEAT, kernel_level, record, side_by_side

AREA = "eigh"
K_LEADING = 10


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
    t_ours: dict,
    t_peer: dict,
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
        ours=t_ours,
        peer=peer,
        peer_time=t_peer,
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
    timing = {
        "repeat": repeat,
        # From n = 512 both solvers run every phase multithreaded (ours from
        # n = 256 for some phases, numpy's OpenBLAS always): pause between calls
        # so that neither inherits spinning workers from the other.
        "settle": n >= 512,
        # Sub-millisecond calls are timed in groups.
        "min_sample": 0.02,
    }

    t_ours, t_peer = side_by_side(lambda: ds.eigh(a), lambda: np.linalg.eigh(a), **timing)
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    out.append(
        _vector_record(
            f"eigh n={n}", "numpy.linalg.eigh", t_ours, t_peer, a, (w, v), (w_ref, v_ref)
        )
    )

    t_ours, t_peer = side_by_side(
        lambda: ds.eigh(a, eigvals_only=True), lambda: np.linalg.eigvalsh(a), **timing
    )
    err = _value_error(ds.eigh(a, eigvals_only=True), np.linalg.eigvalsh(a))
    out.append(
        record(
            AREA,
            f"eigvalsh n={n}",
            ours=t_ours,
            peer="numpy.linalg.eigvalsh",
            peer_time=t_peer,
            agree=bool(err <= 50 * n * np.finfo(float).eps),
            error=err,
            n=n,
        )
    )

    k = min(K_LEADING, n)
    t_ours, t_peer = side_by_side(lambda: ds.eigh(a, k=k), lambda: np.linalg.eigh(a), **timing)
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
    ours_t, peer_t = side_by_side(lambda: ds.eigh(a), lambda: np.linalg.eigh(a), repeat=repeat)
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    q, q_ref = _stack_quality(a, w, v), _stack_quality(a, w_ref, v_ref)
    err = float((np.abs(w - w_ref).max(axis=-1) / np.abs(w_ref).max(axis=-1)).max())
    return record(
        AREA,
        f"eigh stack {count}x{n}x{n}",
        ours=ours_t,
        peer="numpy.linalg.eigh",
        peer_time=peer_t,
        agree=bool(_accurate(err, n, q, q_ref)),
        error=err,
        n=n,
        count=count,
        residual=q[0],
        residual_peer=q_ref[0],
        orthogonality=q[1],
        orthogonality_peer=q_ref[1],
    )


def _repeat(n: int, quick: bool) -> int:
    """Timed repeats: the project's usual count, its minimum where one call takes seconds."""
    return MIN_REPEAT if quick or n >= 4096 else REPEAT


def run(quick: bool) -> list[dict]:
    # n = 80 and 128: small layers, as in the exact-vs-iterative comparison
    # (bench_iterative). n = 4096 (a minute and a half) at the default kernel
    # level only: a lower level is compared with numpy up to 2048.
    sizes = [64, 128] if quick else [80, 128, 256, 512, 1024, 2048]
    if not quick and kernel_level()[1]:
        sizes.append(4096)
    rng = np.random.default_rng(2025)
    cases = []
    for n in sizes:
        x = rng.standard_normal((n, n))
        a = (x + x.T) / 2
        cases.extend(_cases(a, _repeat(n, quick)))
    stacks = [(64, 32), (8, 64)] if quick else [(4096, 32), (256, 128)]
    for count, n in stacks:
        cases.append(_stack_case(count, n, _repeat(n, quick), rng))
    return cases
