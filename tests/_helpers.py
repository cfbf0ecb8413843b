"""Parameter lists and reference formulas shared by several test modules."""

from __future__ import annotations

import numpy as np

# Every boundary kind of ``ds.smoothness`` at the orders the library is tested at;
# modules that test more orders extend this list.
KIND_ORDERS = [
    ("fourier", 1),
    ("fourier", 2),
    ("fourier", 3),
    ("periodic", 1),
    ("periodic", 2),
    ("dirichlet", 1),
    ("dirichlet", 2),
    ("neumann", 1),
    ("neumann", 2),
]


def kind_order_ids(kind_orders: list[tuple[str, int]]) -> list[str]:
    """Readable pytest ids such as ``fourier-2``."""
    return [f"{k}-{o}" for k, o in kind_orders]


def fourdif2_column(n: int) -> np.ndarray:
    """First column of fourdif's second-derivative matrix (Weideman and Reddy's closed form)."""
    h = 2 * np.pi / n
    k = np.arange(1, n)
    col = np.empty(n)
    if n % 2 == 0:
        col[0] = -(np.pi**2) / (3 * h**2) - 1 / 6
        col[1:] = -0.5 * (-1.0) ** k / np.sin(k * h / 2) ** 2
    else:
        col[0] = -(np.pi**2) / (3 * h**2) + 1 / 12
        col[1:] = -0.5 * (-1.0) ** k / (np.sin(k * h / 2) * np.tan(k * h / 2))
    return col


EPS = np.finfo(np.float64).eps


def eigh_quality(a: np.ndarray, w: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Residual ``||A V - V diag(w)|| / ||A||_2`` and orthogonality ``||V^T V - I||``."""
    scale = max(np.linalg.norm(a, 2), np.finfo(float).tiny)
    residual = np.linalg.norm(a @ v - v * w) / scale
    orthogonality = np.linalg.norm(v.T @ v - np.eye(v.shape[1]))
    return residual, orthogonality


def assert_eigh_like_lapack(a, w, v, w_ref, v_ref) -> None:
    """Eigenpairs ``(w, v)`` as accurate as LAPACK's ``(w_ref, v_ref)``, to 10x.

    ``w_ref`` holds all eigenvalues; ``w`` and ``v_ref`` may be the trailing
    (largest) ones only.
    """
    n = a.shape[0]
    scale = max(np.abs(w_ref).max(initial=0.0), np.finfo(float).tiny)
    np.testing.assert_allclose(w, w_ref[-len(w) :], rtol=0, atol=50 * n * EPS * scale)
    assert np.all(np.diff(w) >= 0)
    res, orth = eigh_quality(a, w, v)
    res_ref, orth_ref = eigh_quality(a, w_ref[-v_ref.shape[1] :], v_ref)
    # Within 10x of LAPACK's, with a floor for the cases LAPACK gets exactly.
    floor = 10 * n * EPS
    assert res <= 10 * res_ref + floor, (res, res_ref)
    assert orth <= 10 * orth_ref + floor, (orth, orth_ref)


def assignment_total(cost, rows, cols) -> float:
    """Total cost of a matching, in float64 whatever the cost dtype."""
    return np.asarray(cost, dtype=np.float64)[rows, cols].sum()


def scipy_matching_or_same_error(cost, maximize: bool):
    """scipy's optimal ``(rows, cols)`` for ``cost``; ``None`` when scipy refuses it.

    When scipy raises (infeasible or invalid costs), ``ds.linear_sum_assignment``
    must raise the same ValueError with the same message; that is checked here.
    """
    import pytest
    from scipy.optimize import linear_sum_assignment

    import descramble as ds

    try:
        return linear_sum_assignment(cost, maximize=maximize)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)):
            ds.linear_sum_assignment(cost, maximize=maximize)
        return None
