"""Leading eigenpairs of wide symmetric matrices: which solver runs, and its report.

Two core solvers give the ``k`` largest eigenpairs of a symmetric ``n x n``
matrix ``G``:

* ``"tridiagonal"``: Householder reduction to tridiagonal form, eigenvalues of
  the tridiagonal matrix, inverse iteration for ``k`` vectors and the
  back-transformation; ``~(4/3) n^3`` flops whatever ``k``, and a column-major
  copy of ``G``.
* ``"subspace"``: thick-restart block Lanczos with Rayleigh-Ritz (Wu and
  Simon, SIAM J. Matrix Anal. Appl. 22 (2000) 602-616,
  doi:10.1137/S0895479898334605, with blocks). ``G`` is only touched through
  block products ``G X`` that read each tile of its lower triangle once,
  ``O(n^2 k)`` flops per restart, and no copy of ``G``: a :class:`~descramble.Moments` is
  read in place (its Gram matrix is the scatter plus a rank-one mean term,
  applied without being formed). It stops when every pair meets
  ``||G u - mu u|| <= tol * ||G||`` (``||G||`` estimated by the largest Ritz
  value magnitude, a lower bound, so the test is never looser than stated),
  measured by one last product.

:func:`choose` compares the two costs; the subspace iteration is also given a
restart budget that keeps its worst case within twice the tridiagonal cost,
and hands over to the tridiagonal path when it runs out, or as soon as the rate
at which its slowest wanted residual falls shows that it would (random
matrices, whose top eigenvalues crowd together, are such a case).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core

__all__ = ["DEFAULT_TOL", "METHODS", "choose", "principal_pairs", "moments_principal_pairs"]

#: Default residual tolerance, relative to ``||G||``.
DEFAULT_TOL = 1e-10

METHODS = ("auto", "subspace", "tridiagonal")

#: Below this size the tridiagonal path always wins: it takes milliseconds and
#: the subspace iteration's fixed costs (QR factorisations, restarts) dominate.
_SUBSPACE_MIN_N = 1024

#: Cost model, in units of the tridiagonal reduction's time per flop. The
#: subspace iteration multiplies ``basis`` columns by ``G`` in its first
#: restart, ``basis - kept`` in each later one and ``k`` in its final check
#: (``_core.leading_geometry``), ``2 n^2`` flops a column, run about
#: ``_PRODUCT_SPEEDUP`` times faster per flop than the reduction (the
#: ``leading`` cases of ``bench/bench_wide.py`` time both paths).
#: Low-rank-plus-noise Gram matrices converge in 1 to 4 restarts.
_PRODUCT_SPEEDUP = 1.25
_EXPECTED_RESTARTS = 4


def _tridiagonal_cost(n: int) -> float:
    return 4.0 / 3.0 * n**3


def _column_cost(n: int) -> float:
    return 2.0 * n * n / _PRODUCT_SPEEDUP


def _products(n: int, k: int, restarts: int) -> int:
    """Columns multiplied by ``G`` in ``restarts`` restarts and the final check."""
    _, basis, kept = _core.leading_geometry(n, k)
    return basis + (restarts - 1) * (basis - kept) + k


def choose(n: int, k: int) -> str:
    """``"subspace"`` or ``"tridiagonal"``: the solver the cost model picks for ``k`` of ``n``."""
    _, basis, _ = _core.leading_geometry(n, k)
    if n < _SUBSPACE_MIN_N or 2 * basis > n:
        return "tridiagonal"
    expected = _products(n, k, _EXPECTED_RESTARTS) * _column_cost(n)
    return "subspace" if expected < _tridiagonal_cost(n) else "tridiagonal"


def _restart_budget(n: int, k: int) -> int:
    """Restarts after which the subspace iteration has cost twice the tridiagonal path."""
    _, basis, kept = _core.leading_geometry(n, k)
    affordable = 2.0 * _tridiagonal_cost(n) / _column_cost(n) - basis - k
    return max(2 * _EXPECTED_RESTARTS, 1 + int(affordable / max(1, basis - kept)))


def check_method(method: Any, tol: Any, where: str) -> tuple[str, float]:
    """Validate the ``method`` and ``tol`` arguments of the public functions."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"{where}: method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise TypeError(f"{where}: tol must be a number, got {type(tol).__name__}")
    t = float(tol)
    if not (np.isfinite(t) and t > 0.0):
        raise ValueError(f"{where}: tol must be a positive finite number, got {tol!r}")
    return method, t


def _subspace_info(raw: dict, tol: float) -> dict:
    return {
        "method": "subspace",
        "converged": bool(raw["converged"]),
        "stopped_early": bool(raw["stopped_early"]),
        "restarts": int(raw["restarts"]),
        "products": int(raw["products"]),
        "residuals": np.asarray(raw["residuals"]),
        "quotients": np.asarray(raw["quotients"]),
        "norm_estimate": float(raw["norm_estimate"]),
        "tol": tol,
    }


def _not_converged(info: dict, budget: int) -> str:
    """Why the tridiagonal path took over from the subspace iteration."""
    if info["stopped_early"]:
        return (
            f"the subspace iteration was forecast to need more than {budget} restarts "
            f"(stopped after {info['restarts']})"
        )
    return f"the subspace iteration did not converge in {info['restarts']} restarts"


def _tridiagonal_info(reason: str) -> dict:
    return {"method": "tridiagonal", "reason": reason}


def _resolve(method: str, n: int, k: int) -> tuple[str, str]:
    """(solver, why) for a validated method."""
    if method != "auto":
        return method, "requested"
    picked = choose(n, k)
    return picked, "cost model"


def _attempt_subspace(
    run: Any, method: str, n: int, k: int, tol: float
) -> tuple[tuple[np.ndarray, np.ndarray, dict] | None, str]:
    """The subspace iteration through ``run(max_restarts, stop_early)`` (a core call).

    Returns ``(values, vectors, info)`` when its result is the one to keep
    (converged, or forced by ``method="subspace"``), else ``None`` and why the
    tridiagonal path takes over. Only the automatic choice, which has that
    fallback, gets a budget and may stop early.
    """
    forced = method == "subspace"
    budget = 1000 if forced else _restart_budget(n, k)
    values, vectors, raw = run(budget, not forced)
    info = _subspace_info(raw, tol)
    if info["converged"] or forced:
        return (values, vectors, info), ""
    return None, _not_converged(info, budget)


def largest_pairs(
    g: np.ndarray, k: int, *, method: str = "auto", tol: float = DEFAULT_TOL, vectors: bool = True
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """The ``k`` largest pairs of ``g`` (validated square float64), ascending, and the report."""
    n = g.shape[0]
    solver, why = _resolve(method, n, k)
    if solver == "subspace":
        kept, why = _attempt_subspace(
            lambda budget, early: _core.eigh_leading(g, k, tol, budget, 0, False, early),
            method,
            n,
            k,
            tol,
        )
        if kept is not None:
            w, v, info = kept
            return w, (v if vectors else None), info
    w, v = _core.eigh(g, k, vectors)
    return w, (v if vectors else None), _tridiagonal_info(why)


def principal_pairs(
    g: np.ndarray, k: int, *, method: str = "auto", tol: float = DEFAULT_TOL
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The ``k`` leading pairs of ``g`` in principal order (``mu`` descending, signed ``U``)."""
    n = g.shape[0]
    solver, why = _resolve(method, n, k)
    if solver == "subspace" and k < n:
        kept, why = _attempt_subspace(
            lambda budget, early: _core.eigh_leading(g, k, tol, budget, 0, True, early),
            method,
            n,
            k,
            tol,
        )
        if kept is not None:
            return kept
    mu, u = _core.principal_eigh(g, k)
    return mu, u, _tridiagonal_info(why if k < n else "all pairs")


def moments_principal_pairs(
    core_moments: Any, k: int, center: bool, *, method: str, tol: float
) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """Principal pairs read in place from a core Moments, or None when the subspace path is not
    the one to run (the caller then forms the n x n matrix for the tridiagonal path)."""
    n = int(core_moments.n)
    solver, _ = _resolve(method, n, k)
    if solver != "subspace" or k >= n or core_moments.count == 0:
        return None
    kept, _ = _attempt_subspace(
        lambda budget, early: _core.moments_leading(core_moments, k, center, tol, budget, 0, early),
        method,
        n,
        k,
        tol,
    )
    return kept
