"""The iterative descrambler of Amey et al. (the baseline the exact solution replaces).

Amey, Keeley, Choudhury, Kuprov, "Neural network interpretation using descrambler
groups", PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118, parametrise
the descrambler by the Cayley transform of an antisymmetric matrix,
``P = (I + Q)^-1 (I - Q)`` (``n (n - 1) / 2`` unknowns, always ``det P = +1``),
and minimise a criterion with a quasi-Newton method (L-BFGS, 5 correction
pairs). :func:`cayley` minimises the smoothness criterion ``tr(L P G P^T)``,
whose exact minimum :func:`descramble.descramble` computes in closed form (Sule,
Spencer, Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793);
:func:`max_diagonal` maximises their diagonality criterion for a square weight
matrix.

Needs scipy (``pip install "descramble[scipy]"``), imported on the first call
only.

Notes
-----
The Cayley image never has the eigenvalue -1, so optima whose rotation angle
reaches pi are approached only as ``||Q|| -> inf``: one reason the iterative
method converges slowly, and why it can only be compared with the exact
optimum, never beat it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._gram import gram_of
from ._validation import as_float_array, check_finite, is_integer, square_matrix
from .smoothness import KINDS, Operator, operator

__all__ = ["IterativeResult", "cayley", "cayley_gradient", "max_diagonal"]

#: Relative tolerance to which a ``guess`` must be orthogonal.
ORTHOGONALITY_TOL = 1e-8


@dataclass(frozen=True, eq=False)
class IterativeResult:
    """Result of :func:`cayley` or :func:`max_diagonal`.

    Attributes
    ----------
    P : (n, n) ndarray
        The final orthogonal matrix (``det P = +1``).
    objective : float
        The criterion at ``P`` in the caller's scale (``tr(L P G P^T)`` for
        :func:`cayley`, the maximised diagonal criterion for :func:`max_diagonal`).
    nit : int
        L-BFGS-B iterations.
    nfev : int
        Objective/gradient evaluations (each costs an ``n x n`` inverse).
    time : float
        Wall time of the optimisation in seconds.
    trace : (nit + 1,) ndarray
        The criterion at the start and after each iteration (caller's scale).
    trace_time : (nit + 1,) ndarray
        Seconds since the start at which each ``trace`` entry was reached.
    success : bool
        Whether L-BFGS-B reported convergence (``False`` when ``maxiter`` ran out).
    message : str
        L-BFGS-B's message, plus notes about the starting point.
    """

    P: np.ndarray
    objective: float
    nit: int
    nfev: int
    time: float
    trace: np.ndarray
    trace_time: np.ndarray
    success: bool
    message: str

    def __repr__(self) -> str:
        n = self.P.shape[0]
        return (
            f"IterativeResult(P: {n}x{n}, objective={self.objective:.6g}, nit={self.nit}, "
            f"time={self.time:.3g} s, success={self.success})"
        )


def _optimizer_blas_single_threaded() -> Any:
    """Context limiting the BLAS that scipy's L-BFGS-B calls to one thread.

    L-BFGS-B makes many BLAS calls on short vectors; on a busy machine a
    multithreaded OpenBLAS spends far longer synchronising its threads than
    computing.
    Only scipy's own BLAS is limited (the n x n products run in numpy's), and
    only when threadpoolctl is installed; without it nothing changes.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext()
    controller = ThreadpoolController()
    paths = [
        lib.filepath
        for lib in controller.select(user_api="blas").lib_controllers
        if "scipy" in lib.filepath and "numpy" not in lib.filepath
    ]
    if not paths:
        return contextlib.nullcontext()
    return controller.select(filepath=paths).limit(limits=1)


def _require_scipy() -> Any:
    try:
        from scipy import optimize
    except ImportError as exc:
        raise ImportError(
            'descramble.iterative needs scipy: pip install "descramble[scipy]"'
        ) from exc
    return optimize


# ----------------------------------------------------------------------------- Cayley map


def _cayley_factor(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(I + Q)^-1`` and ``P = (I + Q)^-1 (I - Q)``.

    ``I + Q`` is nonsingular for every antisymmetric ``Q`` (its eigenvalues are
    ``1 + i t``; condition number ``sqrt(1 + t_max^2)``), so the inverse exists
    and is accurate. An explicit inverse (numpy's LAPACK) serves both the map
    and the transposed solve of the gradient; scipy's small triangular solves
    were much slower here under multithreaded OpenBLAS.
    """
    eye = np.eye(q.shape[0])
    inv = np.linalg.inv(eye + q)
    return inv, inv @ (eye - q)


def _q_gradient(inv: np.ndarray, p: np.ndarray, dfdp: np.ndarray) -> np.ndarray:
    """Gradient of ``f(P(Q))`` with respect to an unconstrained ``Q``.

    From ``dP = -(I + Q)^-1 dQ (I + P)``:
    ``df/dQ = -(I + Q)^-T (df/dP) (I + P)^T`` (Amey et al., doi:10.1073/pnas.2016917118).
    """
    y = inv.T @ dfdp
    return -(y + y @ p.T)


def _antisymmetric(x: np.ndarray, n: int, iu: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    q = np.zeros((n, n))
    q[iu] = x
    return q - q.T


def _cayley_preimage(guess: Any, n: int) -> tuple[np.ndarray, str]:
    """Parameters ``x`` with ``cayley(x) == guess`` (after a det fix), and a note."""
    p = square_matrix(guess, "guess")
    if p.shape[0] != n:
        raise ValueError(f"guess: expected an ({n}, {n}) orthogonal matrix, got shape {p.shape}")
    err = float(np.max(np.abs(p @ p.T - np.eye(n)))) if n else 0.0
    if err > ORTHOGONALITY_TOL:
        raise ValueError(
            f"guess: expected an orthogonal matrix, got max |P P^T - I| = {err:.3g} "
            f"(tolerance {ORTHOGONALITY_TOL:g})"
        )
    note = ""
    if n and np.linalg.slogdet(p)[0] < 0:
        # A Cayley image always has det +1; negating one row is the nearest fix
        # that keeps the guess orthogonal.
        p = p.copy()
        p[-1] = -p[-1]
        note = "guess had det -1: its last row was negated (a Cayley image always has det +1)"
        warnings.warn(note, stacklevel=4)
    eye = np.eye(n)
    # P = (I + Q)^-1 (I - Q)  <=>  Q (I + P) = I - P, solved as (I + P)^T Q^T = (I - P)^T.
    cond = np.linalg.cond(eye + p) if n else 1.0
    if not np.isfinite(cond) or cond > 1e12:
        raise ValueError(
            "guess: has an eigenvalue at (or numerically near) -1, so it has no Cayley "
            f"preimage (cond(I + P) = {cond:.3g}); perturb it or start from the identity"
        )
    q = np.linalg.solve((eye + p).T, (eye - p).T).T
    q = (q - q.T) / 2.0  # exact antisymmetry (it holds up to rounding)
    return q[np.triu_indices(n, 1)], note


# ----------------------------------------------------------------------------- the optimiser


def _minimise(
    fun_grad_p: Callable[[np.ndarray], tuple[float, np.ndarray]],
    n: int,
    *,
    maxiter: int,
    guess: Any,
    tol: float,
    to_caller: Callable[[float], float],
) -> IterativeResult:
    """Minimise ``fun(P)`` over Cayley images with L-BFGS-B (5 correction pairs)."""
    optimize = _require_scipy()
    if not is_integer(maxiter) or maxiter < 0:
        raise ValueError(f"maxiter must be a non-negative integer, got {maxiter!r}")
    if not (isinstance(tol, (float, int)) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    iu = np.triu_indices(n, 1)
    t0 = time.perf_counter()
    if guess is None:
        x0, note = np.zeros(iu[0].size), ""
    else:
        x0, note = _cayley_preimage(guess, n)

    last: dict[str, Any] = {}

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        q = _antisymmetric(x, n, iu)
        inv, p = _cayley_factor(q)
        f, dfdp = fun_grad_p(p)
        gq = _q_gradient(inv, p, dfdp)
        # Chain rule through Q = X - X^T: dq_ij = dQ_ij - dQ_ji for i < j.
        g = gq[iu] - gq.T[iu]
        last.update(x=x.copy(), f=f, p=p)
        return f, g

    f0, _ = fun(x0)
    trace = [to_caller(f0)]
    trace_time = [time.perf_counter() - t0]

    def callback(xk: np.ndarray) -> None:
        # The accepted iterate is normally the last point evaluated by the line
        # search; re-evaluate only when it is not.
        if not np.array_equal(xk, last["x"]):
            fun(xk)
        trace.append(to_caller(last["f"]))
        trace_time.append(time.perf_counter() - t0)

    if maxiter == 0 or n < 2:
        res_x, nit, nfev, success, message = x0, 0, 1, True, "nothing to optimise"
    else:
        with _optimizer_blas_single_threaded():
            res = optimize.minimize(
                fun,
                x0,
                jac=True,
                method="L-BFGS-B",
                callback=callback,
                options={"maxcor": 5, "maxiter": int(maxiter), "ftol": tol, "gtol": tol},
            )
        res_x, nit, nfev = res.x, int(res.nit), int(res.nfev) + 1
        success, message = bool(res.success), str(res.message)
    elapsed = time.perf_counter() - t0
    if not np.array_equal(res_x, last["x"]):
        fun(res_x)
    return IterativeResult(
        P=last["p"],
        objective=to_caller(last["f"]),
        nit=nit,
        nfev=nfev,
        time=elapsed,
        trace=np.asarray(trace),
        trace_time=np.asarray(trace_time),
        success=success,
        message=f"{message}; {note}" if note else message,
    )


def _smoothness_matrix(smoothness: Any, order: int | None, n: int) -> np.ndarray:
    if isinstance(smoothness, str):
        if smoothness not in KINDS:
            raise ValueError(
                f"unknown smoothness kind {smoothness!r}: expected one of {', '.join(KINDS)}, "
                "an (n, n) differentiation matrix, or ds.Operator"
            )
        d = operator(smoothness, n, 2 if order is None else order)
        return d.T @ d
    if order not in (None, 2):
        raise ValueError(
            f"order={order!r} applies to smoothness kind names only, not to a matrix or Operator"
        )
    if isinstance(smoothness, Operator):
        op = smoothness
    elif isinstance(smoothness, np.ndarray):
        op = Operator(D=smoothness)
    else:
        raise TypeError(
            f"smoothness must be one of {', '.join(KINDS)}, an (n, n) differentiation matrix "
            f"(ndarray) or ds.Operator, got {type(smoothness).__name__}"
        )
    if op.n != n:
        raise ValueError(f"the smoothness operator has size {op.n}, but the data has n = {n}")
    return op.L


def _spectral_norm(a: np.ndarray) -> float:
    # Symmetric PSD here, so the spectral norm is the largest eigenvalue.
    return float(np.max(np.abs(np.linalg.eigvalsh(a)))) if a.size else 0.0


def cayley_gradient(
    q: np.ndarray, L: np.ndarray, G: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """``tr(L P G P^T)``, ``P`` and its gradient with respect to an unconstrained ``Q``.

    ``P = (I + Q)^-1 (I - Q)``; the gradient is
    ``-2 (I + Q)^-T L P G (I + P)^T`` (Amey et al., PNAS 118(5) e2016917118 (2021),
    doi:10.1073/pnas.2016917118). Exposed for tests and for users who drive
    their own optimiser.

    Parameters
    ----------
    q : (n, n) ndarray
        Antisymmetric parameter matrix.
    L, G : (n, n) ndarray
        Symmetric smoothness operator and Gram matrix.

    Returns
    -------
    f : float
    P : (n, n) ndarray
    grad : (n, n) ndarray
        ``d f / d Q`` treating every entry of ``Q`` as free; the gradient with
        respect to the ``n (n - 1) / 2`` free parameters ``q_ij`` (``i < j``) is
        ``grad[i, j] - grad[j, i]``.
    """
    inv, p = _cayley_factor(np.asarray(q, dtype=np.float64))
    lpg = L @ p @ G
    f = float(np.sum(lpg * p))
    return f, p, _q_gradient(inv, p, 2.0 * lpg)


def cayley(
    data: Any,
    smoothness: Any = "fourier",
    order: int | None = 2,
    maxiter: int = 1000,
    guess: Any = None,
    center: bool = False,
    tol: float = 1e-10,
) -> IterativeResult:
    """Minimise ``tr(L P G P^T)`` iteratively over Cayley-parametrised rotations.

    The method of Amey et al., PNAS 118(5) e2016917118 (2021),
    doi:10.1073/pnas.2016917118: ``P = (I + Q)^-1 (I - Q)`` with ``Q``
    antisymmetric, L-BFGS-B with 5 correction pairs on the ``n (n - 1) / 2``
    entries of ``Q`` and the analytic gradient
    ``-2 (I + Q)^-T L P G (I + P)^T``. As in their code, ``G`` and ``L`` are
    rescaled to spectral norm ``n`` before optimising (it conditions the
    problem); objectives are reported in the original scale. Each evaluation
    costs an ``n x n`` LU factorisation and a few products. The exact minimum
    is :func:`descramble.descramble` (Sule, Spencer, Czaja, ACHA 79 (2025)
    101793, doi:10.1016/j.acha.2025.101793): this is the baseline it replaces.

    Parameters
    ----------
    data, smoothness, order, center
        As in :func:`descramble.descramble` (no ``k``).
    maxiter : int
        Maximum L-BFGS-B iterations (the papers use 1,000 to 10,000).
    guess : (n, n) array_like, optional
        Orthogonal starting point (default: the identity, ``Q = 0``); it is
        mapped to its Cayley preimage ``Q = (I - P)(I + P)^-1``. A Cayley image
        always has ``det +1``: a guess with ``det -1`` gets its last row negated
        (with a warning and a note in ``message``). A guess with an eigenvalue
        at -1 has no preimage and is rejected.
    tol : float
        L-BFGS-B's ``ftol`` and ``gtol`` (on the rescaled problem).

    Returns
    -------
    IterativeResult
        ``P``, ``objective``, ``nit``, ``nfev``, ``time``, ``trace``,
        ``trace_time``, ``success``, ``message``.

    Raises
    ------
    ImportError
        Without scipy.
    ValueError, TypeError
        Bad data, operator, guess, ``maxiter`` or ``tol``.
    """
    _require_scipy()
    g = gram_of(data, bool(center))
    n = g.shape[0]
    lmat = _smoothness_matrix(smoothness, order, n)
    g_norm, l_norm = _spectral_norm(g), _spectral_norm(lmat)
    # Rescale to spectral norm n as the papers' code does; a zero matrix stays zero.
    gs = g * (n / g_norm) if g_norm > 0 else g
    ls = lmat * (n / l_norm) if l_norm > 0 else lmat
    factor = (g_norm / n if g_norm > 0 else 1.0) * (l_norm / n if l_norm > 0 else 1.0)

    def fun_grad_p(p: np.ndarray) -> tuple[float, np.ndarray]:
        lpg = ls @ p @ gs
        return float(np.sum(lpg * p)), 2.0 * lpg

    return _minimise(
        fun_grad_p, n, maxiter=maxiter, guess=guess, tol=tol, to_caller=lambda f: f * factor
    )


def _negated_diagonality(
    w: np.ndarray, method: str
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``P -> (-criterion(P W), -d criterion / dP)`` for L-BFGS-B's minimisation."""
    if method == "sum":

        def fun_grad_p(p: np.ndarray) -> tuple[float, np.ndarray]:
            # criterion tr(P W); its gradient with respect to P is W^T
            return -float(np.einsum("ij,ji->", p, w)), -w.T

    else:

        def fun_grad_p(p: np.ndarray) -> tuple[float, np.ndarray]:
            # criterion sum_i d_i^2 with d_i = (P W)_ii = sum_j P_ij W_ji;
            # its gradient is 2 diag(d) W^T
            d = np.einsum("ij,ji->i", p, w)
            return -float(d @ d), -2.0 * d[:, None] * w.T

    return fun_grad_p


def max_diagonal(
    W: Any,
    method: str = "sum",
    maxiter: int = 1000,
    guess: Any = None,
    tol: float = 1e-10,
) -> IterativeResult:
    """Maximise the diagonality of ``P W`` over Cayley-parametrised rotations.

    The maximum-diagonality criterion of Amey et al., PNAS 118(5) e2016917118
    (2021), doi:10.1073/pnas.2016917118, for a square weight matrix ``W``:
    ``method="sum"`` maximises ``sum(diag(P W))``, ``method="normsq"`` maximises
    ``||diag(P W)||^2``; same parametrisation and optimiser as :func:`cayley`
    (``P`` has ``det +1``).

    Parameters
    ----------
    W : (n, n) array_like
        Square, finite weight matrix.
    method : {"sum", "normsq"}
    maxiter, guess, tol
        As in :func:`cayley`.

    Returns
    -------
    IterativeResult
        ``objective`` and ``trace`` hold the maximised criterion.
    """
    _require_scipy()
    if method not in ("sum", "normsq"):
        raise ValueError(f"method must be 'sum' or 'normsq', got {method!r}")
    w = as_float_array(W, "max_diagonal W", ndim=2)
    if w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ValueError(f"max_diagonal W: expected a square (n, n) matrix, got shape {w.shape}")
    check_finite(w, "max_diagonal W")
    n = w.shape[0]

    fun_grad_p = _negated_diagonality(w, method)
    return _minimise(fun_grad_p, n, maxiter=maxiter, guess=guess, tol=tol, to_caller=lambda f: -f)
