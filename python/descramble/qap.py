"""Quadratic assignment heuristics (a counterpart of :func:`scipy.optimize.quadratic_assignment`).

Both methods approximately solve the Koopmans-Beckmann problem

    minimise  f(p) = trace(A^T P B P^T) = sum_ij A[i, j] B[p[i], p[j]]

over permutations ``p`` (``P[i, p[i]] = 1``), which is how a permutation
descrambler ``tr(P^T L P G)`` is posed (``A = L``, ``B = G``).

* ``"faq"``: Frank-Wolfe over doubly stochastic matrices (Vogelstein et al.,
  PLoS ONE 10 (2015) e0121002, doi:10.1371/journal.pone.0121002) with our LAP as
  the linear step, an exact line search, and a final LAP projection. The
  products ``A P B^T`` are updated along the Frank-Wolfe segment instead of
  being recomputed and the line search uses only ``O(n^2)`` terms, so an
  iteration costs one (symmetric input) or two ``n^3`` products where a
  direct implementation needs six, and the last iteration none.
* ``"2opt"``: best-improvement pair exchanges; the change of ``f`` for every
  pair is read from two ``n x n`` matrices kept up to date in ``O(n^2)`` per
  exchange.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._validation import integer, is_integer
from .assignment import linear_sum_assignment

__all__ = ["QAPResult", "quadratic_assignment"]


class QAPResult(dict):
    """Result of :func:`quadratic_assignment`, like scipy's ``OptimizeResult``.

    Attributes
    ----------
    col_ind : (n,) ndarray of int64
        The permutation: node ``i`` of ``A`` is matched to node ``col_ind[i]`` of ``B``.
    fun : float
        The objective ``trace(A^T P B P^T)`` at ``col_ind``.
    nit : int
        Frank-Wolfe iterations (``"faq"``) or exchanges made (``"2opt"``).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __repr__(self) -> str:
        return f"QAPResult(fun={self['fun']!r}, nit={self['nit']!r}, col_ind={self['col_ind']!r})"


def _score(A: np.ndarray, B: np.ndarray, perm: np.ndarray) -> float:
    """``sum_ij A[i, j] B[perm[i], perm[j]]``, summed as scipy does (same rounding)."""
    return float(np.sum(A * B[np.ix_(perm, perm)]))


def _is_symmetric(M: np.ndarray) -> bool:
    """Exact symmetry, compared in row blocks so no n x n boolean array is made."""
    n = M.shape[0]
    step = max(1, 65536 // max(n, 1))
    return all(np.array_equal(M[i : i + step], M[:, i : i + step].T) for i in range(0, n, step))


def _inner(x: np.ndarray, y: np.ndarray) -> float:
    """Frobenius inner product. Not np.vdot: a BLAS call whose threads stall on a busy machine."""
    return float(np.einsum("ij,ij->", x, y))


def _rng(rng: Any) -> Any:
    if isinstance(rng, np.random.RandomState | np.random.Generator):
        return rng
    if rng is None or isinstance(rng, numbers.Integral | np.integer | np.random.SeedSequence):
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    raise TypeError(f"rng: expected None, an int or a numpy Generator, got {type(rng).__name__}")


def _matrices(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.atleast_2d(np.asarray(A))
    b = np.atleast_2d(np.asarray(B))
    for name, arr in (("A", a), ("B", b)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}")
    msg = None
    if a.ndim != 2 or b.ndim != 2:
        msg = "`A` and `B` must have exactly two dimensions"
    elif a.shape[0] != a.shape[1]:
        msg = "`A` must be square"
    elif b.shape[0] != b.shape[1]:
        msg = "`B` must be square"
    elif a.shape != b.shape:
        msg = "`A` and `B` matrices must be of equal size"
    if msg is not None:
        raise ValueError(msg)
    a = a.astype(np.float64, copy=False)
    b = b.astype(np.float64, copy=False)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("`A` and `B` must contain only finite entries")
    return a, b


def _pairs(x: Any, name: str, n: int) -> np.ndarray:
    """Validate an ``(m, 2)`` array of node pairs (scipy's rules and wording)."""
    if x is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.atleast_2d(np.asarray(x))
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    arr = arr.astype(np.int64)
    msg = None
    if arr.ndim != 2:
        msg = f"`{name}` must have exactly two dimensions"
    elif arr.shape[0] > n:
        msg = f"`{name}` can have only as many seeds as there are nodes"
    elif arr.shape[1] != 2:
        msg = f"`{name}` must have two columns"
    elif (arr < 0).any():
        msg = f"`{name}` must contain only positive indices"
    elif (arr >= n).any():
        msg = f"`{name}` entries must be less than number of nodes"
    elif len(set(arr[:, 0].tolist())) != len(arr) or len(set(arr[:, 1].tolist())) != len(arr):
        msg = f"`{name}` column entries must be unique"
    if msg is not None:
        raise ValueError(msg)
    return arr


def _sinkhorn(K: np.ndarray, tol: float = 1e-3, maxiter: int = 1000) -> np.ndarray:
    """Scale a positive matrix to (nearly) doubly stochastic (Sinkhorn-Knopp)."""
    for _ in range(maxiter):
        K = K / K.sum(axis=0, keepdims=True)
        K = K / K.sum(axis=1, keepdims=True)
        if np.abs(K.sum(axis=0) - 1).max() < tol:
            break
    return K


def _initial_position(P0: Any, m: int, rng: Any) -> np.ndarray:
    if isinstance(P0, str):
        if P0 == "barycenter":
            return np.full((m, m), 1.0 / m)
        if P0 == "randomized":
            K = _sinkhorn(rng.uniform(size=(m, m)))
            return (np.full((m, m), 1.0 / m) + K) / 2
        raise ValueError("Invalid 'P0' parameter string")
    P = np.atleast_2d(np.asarray(P0, dtype=np.float64))
    if P.shape != (m, m):
        raise ValueError("`P0` matrix must have shape m' x m', where m'=n-m")
    if (P < 0).any() or not np.allclose(P.sum(axis=0), 1) or not np.allclose(P.sum(axis=1), 1):
        raise ValueError("`P0` matrix must be doubly stochastic")
    return P


def _faq(
    A: np.ndarray,
    B: np.ndarray,
    sign: float,
    seeds: np.ndarray,
    rng: Any,
    *,
    P0: Any = "barycenter",
    shuffle_input: bool = False,
    maxiter: int = 30,
    tol: float = 0.03,
) -> QAPResult:
    n = A.shape[0]
    maximize = sign < 0
    maxiter = integer(maxiter, "'maxiter'")
    if isinstance(P0, str) and P0 not in ("barycenter", "randomized"):
        raise ValueError("Invalid 'P0' parameter string")
    if maxiter <= 0:
        raise ValueError("'maxiter' must be a positive integer")
    if not tol > 0:
        raise ValueError("'tol' must be a positive float")
    m_seed = len(seeds)
    m = n - m_seed
    P = _initial_position(P0, m, rng) if m > 0 else np.zeros((0, 0))
    if n == 0 or m == 0:
        perm = np.empty(n, dtype=np.int64)
        perm[seeds[:, 0]] = seeds[:, 1]
        return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=0)

    s = m_seed
    if s == 0 and not shuffle_input:
        # Nothing to reorder: skip the two n x n gathers.
        perm_A = perm_B = np.arange(n)
        A22, B22 = A, B
        K = None
    else:
        free_B = np.setdiff1d(np.arange(n), seeds[:, 1])
        if shuffle_input:
            free_B = rng.permutation(free_B)
        free_A = np.setdiff1d(np.arange(n), seeds[:, 0])
        perm_A = np.concatenate([seeds[:, 0], free_A])
        perm_B = np.concatenate([seeds[:, 1], free_B])
        Ap = A[np.ix_(perm_A, perm_A)]
        Bp = B[np.ix_(perm_B, perm_B)]
        A12, A21, A22 = Ap[:s, s:], Ap[s:, :s], Ap[s:, s:]
        B12, B21, B22 = Bp[:s, s:], Bp[s:, :s], Bp[s:, s:]
        # Linear part of the objective in the free block (seeded graph matching).
        K = (A21 @ B21.T + A12.T @ B12) if s else None
    symmetric = _is_symmetric(A22) and _is_symmetric(B22)
    B22T = B22 if symmetric else np.ascontiguousarray(B22.T)

    # X = A22 P B22^T and Y = A22^T P B22: the gradient is K + X + Y and the
    # quadratic part of f is <X, P> = <Y, P>. At the barycenter they are rank one.
    if isinstance(P0, str) and P0 == "barycenter":
        X = np.outer(A22.sum(axis=1), B22.sum(axis=1)) / m
        Y = X if symmetric else np.outer(A22.sum(axis=0), B22.sum(axis=0)) / m
    else:
        X = A22 @ P @ B22T
        Y = X if symmetric else A22.T @ P @ B22
    rows = np.arange(m)
    nit = 0
    t = 0.0
    cols = rows
    for nit in range(1, maxiter + 1):  # noqa: B007 - nit is reported
        xp = _inner(X, P)
        if K is None and Y is X:
            # The gradient is 2X: X has the same assignment (scaling by 2 is
            # exact), and b = <2X, Q - P> needs no gradient matrix at all.
            _, cols = linear_sum_assignment(X, maximize=maximize)
            xq = yq = float(X[rows, cols].sum())
            b = 2.0 * (xq - xp)
        else:
            grad = X + Y if K is None else K + X + Y
            _, cols = linear_sum_assignment(grad, maximize=maximize)
            xq = float(X[rows, cols].sum())
            yq = xq if Y is X else float(Y[rows, cols].sum())
            b = float(grad[rows, cols].sum()) - _inner(grad, P)
        # f(P + t R), R = Q - P, is f(P) + b t + a t^2 (exact line search), with
        # a = <A R B^T, R> = <A Q B^T, Q> - <Y, Q> - <X, Q> + <X, P>: all four
        # terms are O(n^2), so the step needs no n^3 product.
        a = _score(A22, B22, cols) - xq - yq + xp
        if a * sign > 0 and 0 <= -b / (2 * a) <= 1:
            t = -b / (2 * a)
        else:
            # Endpoints: move to Q unless staying at P is strictly better (as scipy).
            t = 1.0 if (a + b) * sign <= 0 else 0.0
        # ||P_new - P||_F = t ||Q - P||_F, with ||Q - P||^2 = m - 2 P[rows, cols].sum() + ||P||^2.
        step2 = max(m - 2.0 * float(P[rows, cols].sum()) + _inner(P, P), 0.0)
        P = (1.0 - t) * P
        P[rows, cols] += t
        if t * np.sqrt(step2) / np.sqrt(m) < tol or nit == maxiter:
            break
        # Q = I[cols]: A22 Q B22^T = A22 @ B22^T[cols], one product (two if not symmetric).
        XQ = A22 @ B22T[cols]
        X = XQ if t == 1.0 else (1.0 - t) * X + t * XQ
        if not symmetric:
            YQ = A22.T @ B22[cols]
            Y = YQ if t == 1.0 else (1.0 - t) * Y + t * YQ
        else:
            Y = X

    # After a full step P is the permutation matrix Q: its projection is Q itself.
    col = cols if t == 1.0 else linear_sum_assignment(P, maximize=True)[1]
    perm = np.concatenate((np.arange(s), col + s))
    out = np.empty(n, dtype=np.int64)
    out[perm_A] = perm_B[perm]
    return QAPResult(col_ind=out, fun=_score(A, B, out), nit=nit)


def _initial_permutation(
    n: int, seeds: np.ndarray, guess: np.ndarray, P0: Any, rng: Any
) -> np.ndarray:
    if P0 is not None:
        arr = np.asarray(P0)
        if arr.ndim == 2:
            if arr.shape != (n, n) or not np.all((arr == 0) | (arr == 1)):
                raise ValueError(f"`P0` must be an ({n}, {n}) permutation matrix or vector")
            arr = np.argmax(arr, axis=1)
        perm = arr.astype(np.int64)
        if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise ValueError(f"`P0` must be a permutation of 0..{n - 1}")
        perm = perm.copy()
        if len(seeds):
            # Seeds override the start; the displaced images move to the rows
            # whose own images the seeds took.
            fixed = np.zeros(n, dtype=bool)
            fixed[seeds[:, 0]] = True
            taken = np.zeros(n, dtype=bool)
            taken[seeds[:, 1]] = True
            keep = ~fixed & ~taken[perm]
            rest_rows = np.flatnonzero(~fixed & ~keep)
            used = np.zeros(n, dtype=bool)
            used[perm[keep]] = True
            used[seeds[:, 1]] = True
            perm[seeds[:, 0]] = seeds[:, 1]
            perm[rest_rows] = np.flatnonzero(~used)
        return perm
    perm = np.full(n, -1, dtype=np.int64)
    perm[guess[:, 0]] = guess[:, 1]
    # A match overrides a guess: a guessed row whose column a seed takes is freed.
    perm[np.isin(perm, seeds[:, 1])] = -1
    perm[seeds[:, 0]] = seeds[:, 1]
    used = np.zeros(n, dtype=bool)
    used[perm[perm >= 0]] = True
    free_rows = np.flatnonzero(perm < 0)
    perm[free_rows] = rng.permutation(np.flatnonzero(~used))
    return perm


def _two_opt(
    A: np.ndarray,
    B: np.ndarray,
    sign: float,
    seeds: np.ndarray,
    rng: Any,
    *,
    partial_guess: Any = None,
    P0: Any = None,
    maxiter: Any = None,
) -> QAPResult:
    n = A.shape[0]
    guess = _pairs(partial_guess, "partial_guess", n)
    if maxiter is not None and (not is_integer(maxiter) or maxiter < 0):
        raise ValueError("'maxiter' must be a non-negative integer or None")
    perm = _initial_permutation(n, seeds, guess, P0, rng)
    if n == 0:
        return QAPResult(col_ind=perm, fun=0.0, nit=0)
    free = np.ones(n, dtype=bool)
    free[seeds[:, 0]] = False
    # Only pairs r < s of free rows may exchange.
    allowed = np.triu(np.outer(free, free), 1)
    symmetric = np.array_equal(A, A.T) and np.array_equal(B, B.T)
    a = np.diag(A).copy()
    AT = np.ascontiguousarray(A.T)
    Bp = B[np.ix_(perm, perm)]
    # C1 = A Bp^T and C2 = A^T Bp give every pair's change in O(n^2) (see _delta).
    C1 = A @ Bp.T
    C2 = C1 if symmetric else AT @ Bp
    scale = np.abs(A).sum() * np.abs(B).max() + np.finfo(float).tiny
    nit = 0
    limit = np.inf if maxiter is None else int(maxiter)
    while nit < limit:
        delta = _delta(A, Bp, C1, C2, a)
        delta = np.where(allowed, sign * delta, np.inf)
        k = int(np.argmin(delta))
        r, s_ = divmod(k, n)
        # Exchanges must improve by more than rounding to guarantee termination.
        if not delta[r, s_] < -1e-13 * scale:
            break
        nit += 1
        perm[[r, s_]] = perm[[s_, r]]
        _swap_update(A, AT, Bp, C1, C2, r, s_, symmetric)
    return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=nit)


def _delta(
    A: np.ndarray, Bp: np.ndarray, C1: np.ndarray, C2: np.ndarray, a: np.ndarray
) -> np.ndarray:
    """Change of sum_ij A_ij Bp_ij when indices r and s of Bp are exchanged, for all (r, s).

    Rows r, s of the sum change by -(A_r - A_s).(Bp_r - Bp_s) (from C1 = A Bp^T),
    columns likewise (C2 = A^T Bp); the four corner entries were counted twice
    there and are corrected with their exact change.
    """
    c1 = np.diag(C1)
    b = np.diag(Bp)
    ar, as_ = a[:, None], a[None, :]
    br, bs = b[:, None], b[None, :]
    if C2 is C1:
        # Symmetric A and Bp: the column terms equal the row terms and the
        # antisymmetric corner term vanishes, which halves the work.
        out = C1 + C1.T
        out -= c1[:, None]
        out -= c1[None, :]
        out *= 2.0
        out -= 2.0 * ((ar - A) * (Bp - br) + (A - as_) * (bs - Bp))
        out += (ar - as_) * (bs - br)
        return out
    c2 = np.diag(C2)
    row = c1[:, None] + c1[None, :] - C1 - C1.T
    col = c2[:, None] + c2[None, :] - C2 - C2.T
    At, Bt = A.T, Bp.T
    # Terms j in {r, s} of the row and column sums (they are not simple swaps).
    excl = (
        (ar - At) * (Bt - br)
        + (A - as_) * (bs - Bp)
        + (ar - A) * (Bp - br)
        + (At - as_) * (bs - Bt)
    )
    corner = (ar - as_) * (bs - br) + (A - At) * (Bt - Bp)
    return -row - col - excl + corner


def _swap_update(
    A: np.ndarray,
    AT: np.ndarray,
    Bp: np.ndarray,
    C1: np.ndarray,
    C2: np.ndarray,
    r: int,
    s: int,
    symmetric: bool,
) -> None:
    """Exchange indices r, s of Bp and update C1 = A Bp^T, C2 = A^T Bp in O(n^2)."""
    idx = np.array([r, s])
    # Columns k not in {r, s}: Bp[k, r] and Bp[k, s] trade places, a rank-one change.
    dk = Bp[:, s] - Bp[:, r]
    C1 += np.outer(A[:, r] - A[:, s], dk)
    if not symmetric:
        dk2 = Bp[s, :] - Bp[r, :]
        C2 += np.outer(A[r, :] - A[s, :], dk2)
    Bp[idx, :] = Bp[idx[::-1], :]
    Bp[:, idx] = Bp[:, idx[::-1]]
    # Columns r and s themselves: recompute.
    C1[:, idx] = A @ Bp[idx, :].T
    if not symmetric:
        C2[:, idx] = AT @ Bp[:, idx]


def quadratic_assignment(A: Any, B: Any, method: str = "faq", options: Any = None) -> QAPResult:
    """Approximately solve the quadratic assignment problem.

    Minimises (or maximises) ``trace(A^T P B P^T) = sum_ij A[i, j] B[p[i], p[j]]``
    over permutation matrices ``P`` (``P[i, p[i]] = 1``), with the options and
    result of :func:`scipy.optimize.quadratic_assignment`. The problem is
    NP-hard: both methods are heuristics. With ``A = L`` (a smoothness operator)
    and ``B = G`` (the Gram matrix of hidden data) this is the permutation
    descrambler of Sule, Spencer, Czaja, Appl. Comput. Harmon. Anal. 79 (2025)
    101793, doi:10.1016/j.acha.2025.101793.

    Parameters
    ----------
    A, B : (n, n) array_like
        Square real matrices of equal size.
    method : {"faq", "2opt"}
        ``"faq"``: Frank-Wolfe over doubly stochastic matrices (Vogelstein et
        al., PLoS ONE 10 (2015) e0121002, doi:10.1371/journal.pone.0121002).
        ``"2opt"``: pair exchanges until none improves (use it to refine a
        ``"faq"`` answer: ``options={"P0": res.col_ind}``).
    options : dict, optional
        Both methods: ``maximize`` (bool), ``partial_match`` ((m, 2) int pairs
        fixed in advance), ``rng`` (None, int or Generator).
        ``"faq"``: ``P0`` ("barycenter" (default), "randomized", or an
        ``(n - m, n - m)`` doubly stochastic matrix), ``shuffle_input``,
        ``maxiter`` (30), ``tol`` (0.03); as scipy.
        ``"2opt"``: ``partial_guess`` ((m, 2) starting pairs, as scipy), ``P0``
        (a starting permutation vector or matrix; overrides ``partial_guess``),
        ``maxiter`` (maximum exchanges; None: until a local optimum).

    Returns
    -------
    QAPResult
        ``col_ind`` (int64 permutation), ``fun`` (objective at it), ``nit``
        (Frank-Wolfe iterations for "faq", exchanges made for "2opt": scipy
        counts pairs tried instead).

    Raises
    ------
    ValueError
        Non-square, mismatched or non-finite matrices, bad options (scipy's
        messages), unknown method.
    TypeError
        Non-numeric matrices, unknown options.

    Notes
    -----
    "faq" follows scipy's iteration exactly (same initial point, direction,
    step and stopping rule) but keeps ``A P B^T`` and ``A^T P B`` up to date
    along each step, so an iteration costs one product ``A @ B[:, q].T`` (two
    for non-symmetric input) and one LAP; the exact line search needs only
    ``O(n^2)`` work, and the last iteration skips the product. A start from
    a doubly stochastic matrix costs two more products (one pair for
    non-symmetric input), the barycenter none. "2opt" is best-improvement: each
    exchange is the one that lowers the objective most, found from two
    ``n x n`` matrices updated in ``O(n^2)`` per exchange.
    """
    opts = dict(options or {})
    method_l = str(method).lower()
    A_, B_ = _matrices(A, B)
    if method_l == "faq":
        allowed = {"maximize", "partial_match", "rng", "P0", "shuffle_input", "maxiter", "tol"}
        func: Any = _faq
    elif method_l == "2opt":
        allowed = {"maximize", "partial_match", "rng", "partial_guess", "P0", "maxiter"}
        func = _two_opt
    else:
        raise ValueError(f"method {method} must be in ['faq', '2opt'].")
    unknown = set(opts) - allowed
    if unknown:
        raise TypeError(f"Unknown options for method {method_l!r}: {sorted(unknown)}")
    # Options both methods share are parsed here: -1 flips minimising to maximising.
    sign = -1.0 if opts.pop("maximize", False) else 1.0
    seeds = _pairs(opts.pop("partial_match", None), "partial_match", A_.shape[0])
    rng = _rng(opts.pop("rng", None))
    return func(A_, B_, sign, seeds, rng, **opts)
